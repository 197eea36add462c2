package review_test

import (
	"fmt"
	"testing"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/review"
)

// legal is the state machine as DESIGN §7 and the package doc describe it,
// written out again so that the test does not read the table it checks.
var legal = map[[2]review.State]bool{
	{review.Proposed, review.Accepted}:           true, // after the preliminary check
	{review.Proposed, review.Dismissed}:          true,
	{review.Accepted, review.Investigating}:      true,
	{review.Accepted, review.ClosedNoFault}:      true,
	{review.Accepted, review.Exempted}:           true,
	{review.Investigating, review.Investigating}: true, // the one extension
	{review.Investigating, review.Determined}:    true,
	{review.Investigating, review.ClosedNoFault}: true,
	{review.Investigating, review.Exempted}:      true,
	{review.Determined, review.Determined}:       true, // the written defence
	{review.Determined, review.Decided}:          true,
	{review.Determined, review.Exempted}:         true,
	{review.Decided, review.Served}:              true,
	{review.Served, review.Appealed}:             true,
	{review.Served, review.Archived}:             true,
	{review.Appealed, review.Reviewed}:           true,
	{review.Reviewed, review.Archived}:           true,
}

// stepFrom is a valid step from one state to another, with the fields it
// needs: determined → determined is the defence, with its statement only.
func stepFrom(from, s review.State) review.Step {
	st := review.Step{To: s, Reason: "理由：" + string(s)}
	switch {
	case from == review.Determined && s == review.Determined:
	case s == review.Determined:
		st.Responsibility, st.Severity = review.Direct, review.Serious
	case s == review.Decided:
		// Lighter than the matrix's cell (direct, serious): with a reason.
		st.Outcome, st.Panel = review.AdmonishingTalk, panel
		st.Meeting = &review.Meeting{Body: "局务会", Present: []string{"lead1", "lead2"}, DeviationReason: "态度端正，已主动整改"}
	case s == review.Reviewed:
		st.ReviewResult = review.Upheld
	}
	return st
}

// panel is the county of the unit tests: four reviewers, two of them leads.
var panel = &review.Panel{Reviewers: []string{"rev1", "rev2", "rev3", "lead1", "lead2"}, Leads: []string{"lead1", "lead2"},
	QuorumPercent: review.DefaultQuorumPercent, Recused: map[string]string{}}

// do applies a step as the procedure would have it: a decision meeting held
// that day, a review by rev3 (who took no part in the decision) for rev1,
// and an investigation group (rev1, rev2) formed before any determination.
func do(c *review.Case, s review.Step, actor string, now time.Time, cal *review.Calendar) (*review.Event, error) {
	if s.Meeting != nil && s.Meeting.Date.IsZero() {
		m := *s.Meeting
		m.Date = civil.Of(now)
		s.Meeting = &m
	}
	if s.To == review.Reviewed && actor == "rev1" {
		actor = "rev3"
	}
	if len(c.Group) == 0 {
		c.Group = review.Members{"rev1", "rev2"}
	}
	return c.Apply(s, actor, now, cal)
}

// stepTo is a valid step to the state from the one before it on the chain.
func stepTo(s review.State) review.Step { return stepFrom("", s) }

// paths lead from acceptance to each state.
var paths = map[review.State][]review.State{
	review.Accepted:      nil,
	review.Investigating: {review.Investigating},
	review.Determined:    {review.Investigating, review.Determined},
	review.Decided:       {review.Investigating, review.Determined, review.Determined, review.Decided},
	review.Served:        {review.Investigating, review.Determined, review.Determined, review.Decided, review.Served},
	review.Appealed:      {review.Investigating, review.Determined, review.Determined, review.Decided, review.Served, review.Appealed},
	review.Reviewed:      {review.Investigating, review.Determined, review.Determined, review.Decided, review.Served, review.Appealed, review.Reviewed},
	review.Archived:      {review.Investigating, review.Determined, review.Determined, review.Decided, review.Served, review.Appealed, review.Reviewed, review.Archived},
	review.ClosedNoFault: {review.ClosedNoFault},
	review.Exempted:      {review.Exempted},
	review.Proposed:      nil, // from the proposal
	review.Dismissed:     {review.Dismissed},
}

var start = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC) // a Monday

// walk opens a staff case on the start date and moves it to s, a day per step.
func walk(t *testing.T, s review.State, cal *review.Calendar) (*review.Case, time.Time) {
	t.Helper()
	c := review.NewCase(civil.Of(start), cal)
	if s == review.Proposed || s == review.Dismissed {
		c = review.NewProposal(civil.Of(start))
	}
	c.SubjectType, c.SubjectCode = review.SubjectStaff, "docA"
	now := start
	for _, to := range paths[s] {
		now = now.AddDate(0, 0, 1)
		if _, err := do(c, stepFrom(c.State, to), "rev1", now, cal); err != nil {
			t.Fatalf("walk to %s: step %s: %v", s, to, err)
		}
	}
	if c.State != s {
		t.Fatalf("walk ended in %s, want %s", c.State, s)
	}
	return c, now
}

// TestTransitions tries every pair of states: the legal steps succeed and
// record who, when and why; every other step is a conflict carrying the state.
func TestTransitions(t *testing.T) {
	cal := nationalDay2026()
	for _, from := range review.States {
		for _, to := range review.States {
			t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
				c, now := walk(t, from, cal)
				now = now.AddDate(0, 0, 1)
				if from == review.Served && to == review.Archived {
					now = c.AppealDue.Time().AddDate(0, 0, 1) // archived only after the appeal period
				}
				if from == review.Determined && to == review.Decided {
					now = c.DefenceDue.Time().AddDate(0, 0, 1) // no statement: decided after the defence period
				}
				if got := review.CanMove(from, to); got != legal[[2]review.State{from, to}] {
					t.Fatalf("CanMove = %v, want %v", got, !got)
				}
				ev, err := do(c, stepFrom(from, to), "rev1", now, cal)
				if legal[[2]review.State{from, to}] {
					if err != nil {
						t.Fatalf("legal step failed: %v", err)
					}
					if c.State != to {
						t.Fatalf("state %s, want %s", c.State, to)
					}
					if ev.From != string(from) || ev.To != string(to) || (ev.Actor != "rev1" && ev.Actor != "rev3") || !ev.At.Equal(now) || ev.Reason == "" {
						t.Fatalf("event %+v does not record who, when, why", ev)
					}
					if to.Final() != !c.ClosedOn.IsZero() {
						t.Fatalf("closed_on %v for final=%v", c.ClosedOn, to.Final())
					}
					return
				}
				e, ok := apperr.As(err)
				if !ok || e.Code != apperr.Conflict {
					t.Fatalf("illegal step: err = %v, want conflict", err)
				}
				if got := e.Extra["state"]; got != from {
					t.Fatalf("conflict state = %v, want %s", got, from)
				}
				if c.State != from {
					t.Fatalf("illegal step changed the state to %s", c.State)
				}
			})
		}
	}
}

func TestDeadlines(t *testing.T) {
	cal := nationalDay2026()
	at := func(day string) time.Time { return civil.MustParse(day).Time().Add(10 * time.Hour) }
	// Accepted Friday 25 September 2026: 20 working days over the National
	// Day block and the make-up Saturday end on Thursday 29 October.
	c := review.NewCase(civil.MustParse("2026-09-25"), cal)
	c.SubjectType, c.SubjectCode = review.SubjectStaff, "docA"
	if got, want := c.InvestigationDue.String(), "2026-10-29"; got != want {
		t.Fatalf("investigation due %s, want %s", got, want)
	}
	c.Flag(civil.MustParse("2026-10-29"))
	if c.Overdue {
		t.Fatal("overdue on the deadline day itself")
	}
	c.Flag(civil.MustParse("2026-10-30"))
	if !c.Overdue || c.OverdueDeadline != review.DeadlineInvestigation {
		t.Fatalf("day after the deadline: overdue=%v %q", c.Overdue, c.OverdueDeadline)
	}

	if _, err := do(c, stepTo(review.Investigating), "rev1", at("2026-09-28"), cal); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrExtensionWithoutReason", func(t *testing.T) {
		_, err := do(c, review.Step{To: review.Investigating}, "rev1", at("2026-10-20"), cal)
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Invalid || e.Fields[0].Field != "reason" {
			t.Fatalf("err = %v, want invalid reason", err)
		}
	})
	t.Run("Extension", func(t *testing.T) {
		ev, err := do(c, review.Step{To: review.Investigating, Reason: "需调取村卫生室原始登记本"}, "rev1", at("2026-10-20"), cal)
		if err != nil || c.Extended || c.ExtensionRequestedBy != "rev1" || ev.Details["action"] != "extension_request" {
			t.Fatalf("request: %v %+v", err, c)
		}
		yes := true
		if _, err := c.DecideExtension(review.ExtensionDecision{Approve: &yes}, "rev1", at("2026-10-21"), cal); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("the requester approving their own request: %v", err)
		}
		if _, err := c.DecideExtension(review.ExtensionDecision{}, "lead1", at("2026-10-21"), cal); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("a decision without approve: %v", err)
		}
		ev, err = c.DecideExtension(review.ExtensionDecision{Approve: &yes, Note: "同意"}, "lead1", at("2026-10-21"), cal)
		if err != nil || c.ExtensionApprovedBy != "lead1" {
			t.Fatal(err)
		}
		if _, err := c.DecideExtension(review.ExtensionDecision{Approve: &yes}, "lead2", at("2026-10-21"), cal); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("a second approval: %v", err)
		}
		if got, want := c.InvestigationDue.String(), "2026-11-12"; got != want {
			t.Fatalf("extended deadline %s, want %s", got, want)
		}
		if !c.Extended || c.ExtensionReason == "" || ev.Details["extension_days"] != review.ExtensionDays {
			t.Fatalf("extension not recorded: %+v %+v", c, ev)
		}
	})
	t.Run("ErrSecondExtension", func(t *testing.T) {
		_, err := do(c, review.Step{To: review.Investigating, Reason: "再延"}, "rev1", at("2026-11-02"), cal)
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Conflict || e.Extra["state"] != review.Investigating {
			t.Fatalf("err = %v, want conflict with state", err)
		}
	})
	t.Run("LateDetermination", func(t *testing.T) {
		ev, err := do(c, stepTo(review.Determined), "rev1", at("2026-11-13"), cal)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Details["late"] != true {
			t.Fatalf("determination after the deadline not marked late: %v", ev.Details)
		}
	})
	t.Run("Defence", func(t *testing.T) {
		// Determined Friday 13 November: the statement may come until
		// Friday 20 November, and no decision before it.
		if got := c.DefenceDue.String(); got != "2026-11-20" {
			t.Fatalf("defence due %s", got)
		}
		_, err := do(c, stepTo(review.Decided), "rev1", at("2026-11-16"), cal)
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Conflict || e.Extra["defence_due"] == nil {
			t.Fatalf("a decision in the defence period: %v", err)
		}
		late := *c
		if _, err := do(&late, review.Step{To: review.Determined, Reason: "申辩"}, "docA", at("2026-11-23"), cal); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("a statement after the period: %v", err)
		}
		if _, err := do(&late, stepTo(review.Decided), "rev1", at("2026-11-23"), cal); err != nil {
			t.Fatalf("a decision after the period without a statement: %v", err)
		}
		if _, err := do(c, review.Step{To: review.Determined, Reason: "申辩", Severity: review.Light}, "docA", at("2026-11-16"), cal); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("a statement with a determination's field: %v", err)
		}
		ev, err := do(c, review.Step{To: review.Determined, Reason: "号码为居民本人提供，非录入错误"}, "docA", at("2026-11-16"), cal)
		if err != nil || c.Defence == "" || c.DefendedOn.String() != "2026-11-16" || ev.Details["defence"] != true {
			t.Fatalf("statement: %v %+v", err, c)
		}
		if _, err := do(c, review.Step{To: review.Determined, Reason: "补充"}, "docA", at("2026-11-16"), cal); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("a second statement: %v", err)
		}
	})
	t.Run("Serving", func(t *testing.T) {
		if _, err := do(c, stepTo(review.Decided), "rev1", at("2026-11-16"), cal); err != nil {
			t.Fatal(err)
		}
		if got, want := c.ServingDue.String(), "2026-11-30"; got != want {
			t.Fatalf("serving due %s, want %s", got, want)
		}
		c.Flag(civil.MustParse("2026-12-01"))
		if !c.Overdue || c.OverdueDeadline != review.DeadlineServing {
			t.Fatalf("serving overdue=%v %q", c.Overdue, c.OverdueDeadline)
		}
		if _, err := do(c, stepTo(review.Served), "rev1", at("2026-11-20"), cal); err != nil {
			t.Fatal(err)
		}
		c.Flag(civil.MustParse("2026-12-01"))
		if c.Overdue {
			t.Fatal("served case still overdue")
		}
		if got, want := c.AppealDue.String(), "2026-12-04"; got != want {
			t.Fatalf("appeal due %s, want %s", got, want)
		}
	})
	t.Run("ErrArchiveInAppealPeriod", func(t *testing.T) {
		_, err := do(c, stepTo(review.Archived), "rev1", at("2026-12-04"), cal)
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Conflict || e.Extra["state"] != review.Served {
			t.Fatalf("err = %v, want conflict with state", err)
		}
	})
	t.Run("ErrLateAppeal", func(t *testing.T) {
		_, err := do(c, stepTo(review.Appealed), "docA", at("2026-12-05"), cal)
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Conflict || e.Extra["appeal_due"] == nil {
			t.Fatalf("err = %v, want conflict naming the appeal deadline", err)
		}
	})
}

func TestExtensionAfterDeadline(t *testing.T) {
	cal := review.NewCalendar(nil, nil)
	c, _ := walk(t, review.Investigating, cal)
	_, err := do(c, review.Step{To: review.Investigating, Reason: "晚了"}, "rev1", c.InvestigationDue.Time().AddDate(0, 0, 1), cal)
	if e, _ := apperr.As(err); e == nil || e.Code != apperr.Conflict {
		t.Fatalf("err = %v, want conflict", err)
	}
}

func TestStepFields(t *testing.T) {
	cal := review.NewCalendar(nil, nil)
	tests := []struct {
		name  string
		from  review.State
		inst  bool
		step  review.Step
		field string
	}{
		{"ErrUnknownState", review.Accepted, false, review.Step{To: "done", Reason: "x"}, "to"},
		{"ErrNoReason", review.Accepted, false, review.Step{To: review.Investigating}, "reason"},
		{"ErrNoResponsibility", review.Investigating, false, review.Step{To: review.Determined, Reason: "x", Severity: review.Light}, "responsibility"},
		{"ErrBadSeverity", review.Investigating, false, review.Step{To: review.Determined, Reason: "x", Responsibility: review.Direct, Severity: "grave"}, "severity"},
		{"ErrNoOutcome", review.Determined, false, review.Step{To: review.Decided, Reason: "x"}, "outcome"},
		{"ErrSuspendInstitution", review.Determined, true, review.Step{To: review.Decided, Reason: "x", Outcome: review.Suspension}, "outcome"},
		{"ErrFieldOfOtherStep", review.Accepted, false, review.Step{To: review.Investigating, Reason: "x", Outcome: review.Transfer}, "outcome"},
		{"ErrNoReviewResult", review.Appealed, false, review.Step{To: review.Reviewed, Reason: "x"}, "review_result"},
		{"ErrModifiedSameOutcome", review.Appealed, false, review.Step{To: review.Reviewed, Reason: "x", ReviewResult: review.Modified, Outcome: review.AdmonishingTalk}, "outcome"},
		{"ErrUpheldWithOutcome", review.Appealed, false, review.Step{To: review.Reviewed, Reason: "x", ReviewResult: review.Upheld, Outcome: review.Transfer}, "outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, now := walk(t, tt.from, cal)
			if tt.inst {
				c.SubjectType = review.SubjectInstitution
			}
			_, err := do(c, tt.step, "rev1", now.AddDate(0, 0, 1), cal)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Fatalf("err = %v, want invalid %s", err, tt.field)
			}
			if c.State != tt.from {
				t.Fatalf("state changed to %s", c.State)
			}
		})
	}
}

func TestReviewResult(t *testing.T) {
	cal := review.NewCalendar(nil, nil)
	tests := []struct {
		name   string
		step   review.Step
		want   review.Outcome
		barred bool
	}{
		{"Upheld", review.Step{ReviewResult: review.Upheld}, review.AdmonishingTalk, true},
		{"Modified", review.Step{ReviewResult: review.Modified, Outcome: review.CriticismEducation}, review.CriticismEducation, false},
		{"Revoked", review.Step{ReviewResult: review.Revoked}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, now := walk(t, review.Appealed, cal)
			tt.step.To, tt.step.Reason = review.Reviewed, "复核"
			if _, err := do(c, tt.step, "rev1", now.AddDate(0, 0, 1), cal); err != nil {
				t.Fatal(err)
			}
			c.Flag(civil.Of(now))
			if c.Outcome != tt.want || c.BarsExcellent != tt.barred {
				t.Fatalf("outcome %q bars %v, want %q %v", c.Outcome, c.BarsExcellent, tt.want, tt.barred)
			}
			if tt.step.ReviewResult != review.Upheld && c.OriginalOutcome != review.AdmonishingTalk {
				t.Fatalf("original outcome %q not kept", c.OriginalOutcome)
			}
		})
	}
}

func TestBarsExcellent(t *testing.T) {
	for _, o := range review.Outcomes {
		if got, want := o.BarsExcellent(), o != review.CriticismEducation; got != want {
			t.Errorf("%s bars excellent = %v, want %v", o, got, want)
		}
	}
	c := &review.Case{SubjectType: review.SubjectInstitution, Outcome: review.CirculatedCriticism}
	c.Flag(civil.Of(start))
	if c.BarsExcellent {
		t.Error("an institution case bars a person's grade")
	}
}

func TestRecusal(t *testing.T) {
	staffCase := &review.Case{SubjectType: review.SubjectStaff, SubjectCode: "docA"}
	instCase := &review.Case{SubjectType: review.SubjectInstitution, SubjectCode: "INSTA"}
	tests := []struct {
		name       string
		c          *review.Case
		code, inst string
		recused    bool
	}{
		{"OwnCase", staffCase, "docA", "INSTA", true},
		{"OtherPerson", staffCase, "rev1", "", false},
		{"OwnInstitution", instCase, "rev2", "INSTA", true},
		{"OtherInstitution", instCase, "rev2", "INSTB", false},
		{"NoInstitution", instCase, "rev1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Recusal(tt.code, tt.inst) != ""; got != tt.recused {
				t.Fatalf("recused = %v, want %v", got, tt.recused)
			}
		})
	}
}

// TestAcceptProposal: a proposal has no clock; accepting it starts the
// investigation's 20 working days on the day of acceptance and keeps the
// preliminary check's note.
func TestAcceptProposal(t *testing.T) {
	cal := review.NewCalendar(nil, nil)
	c := review.NewProposal(civil.MustParse("2026-06-01"))
	c.Flag(civil.MustParse("2027-01-01"))
	if !c.InvestigationDue.IsZero() || !c.AcceptedOn.IsZero() || c.Overdue {
		t.Fatalf("a proposal runs a clock: due %s overdue %v", c.InvestigationDue, c.Overdue)
	}
	ev, err := do(c, review.Step{To: review.Accepted, Reason: "初步核实：数据属实"}, "rev1", time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC), cal)
	if err != nil {
		t.Fatal(err)
	}
	if c.AcceptedOn.String() != "2026-06-15" || c.InvestigationDue.String() != "2026-07-13" || c.AcceptanceNote != "初步核实：数据属实" ||
		ev.Details["investigation_due"] != c.InvestigationDue {
		t.Fatalf("accepted %s due %s note %q", c.AcceptedOn, c.InvestigationDue, c.AcceptanceNote)
	}
	d := review.NewProposal(civil.MustParse("2026-06-01"))
	if _, err := do(d, review.Step{To: review.Dismissed}, "rev1", start, cal); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("dismissal without a reason: %v", err)
	}
}
