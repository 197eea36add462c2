package review

import "healthrec/internal/civil"

// Deadlines in working days (DESIGN §7).
const (
	// InvestigationDays runs from acceptance to the determination.
	InvestigationDays = 20
	// ExtensionDays is the one extension of the investigation.
	ExtensionDays = 10
	// DefenceDays runs from the determination: the subject may answer the
	// findings in writing (申辩) and no decision comes before the statement
	// or the end of this period.
	DefenceDays = 5
	// ServingDays runs from the decision to serving it.
	ServingDays = 10
	// AppealDays runs from serving to the last day an appeal is accepted.
	AppealDays = 10
)

// The office deadlines a case can be overdue on.
const (
	DeadlineInvestigation = "investigation"
	DeadlineServing       = "serving"
)

// NewCase returns a case accepted on the given date, with its investigation
// deadline.
func NewCase(acceptedOn civil.Date, cal *Calendar) *Case {
	c := &Case{State: Accepted, AcceptedOn: acceptedOn, TalkBy: TalkDeputy, Triggers: Warnings{}}
	c.Recompute(cal)
	return c
}

// NewProposal returns a case proposed on the given date from an assessment:
// no clock runs until a reviewer accepts it.
func NewProposal(proposedOn civil.Date) *Case {
	return &Case{State: Proposed, ProposedOn: proposedOn, Triggers: Warnings{}}
}

// Recompute derives the deadlines from the dates they run from. The
// calendar may change after a case is opened (next year's holidays are
// announced late in the year), so deadlines of open cases are recomputed
// whenever it does.
func (c *Case) Recompute(cal *Calendar) {
	days := InvestigationDays
	if c.Extended {
		days += ExtensionDays
	}
	if !c.AcceptedOn.IsZero() {
		c.InvestigationDue = cal.AddWorkdays(c.AcceptedOn, days)
	}
	if !c.DeterminedOn.IsZero() {
		c.DefenceDue = cal.AddWorkdays(c.DeterminedOn, DefenceDays)
	}
	if !c.DecidedOn.IsZero() {
		c.ServingDue = cal.AddWorkdays(c.DecidedOn, ServingDays)
	}
	if !c.ServedOn.IsZero() {
		c.AppealDue = cal.AddWorkdays(c.ServedOn, AppealDays)
	}
}
