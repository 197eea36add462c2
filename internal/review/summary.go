package review

import (
	"fmt"

	"healthrec/internal/civil"
)

// Summary is one person's accountability for a year: the cases about them
// accepted or decided that year, and whether a decision bars an "excellent"
// annual grade (any outcome but criticism and education, decided that year
// and not revoked on review).
type Summary struct {
	StaffCode               string        `json:"staff_code"`
	Name                    string        `json:"name"`
	InstitutionCode         string        `json:"institution_code"`
	Year                    int           `json:"year"`
	NotEligibleForExcellent bool          `json:"not_eligible_for_excellent"`
	Reasons                 []string      `json:"reasons"`
	Cases                   []SummaryCase `json:"cases"`
	// Consequences are the 第八条 facts about the person: the months whose
	// grade an outcome caps.
	Consequences []Consequence `json:"consequences"`
}

// SummaryCase is a case as the annual summary lists it.
type SummaryCase struct {
	ID             int64          `json:"id" db:"id"`
	Source         Source         `json:"source" db:"source"`
	State          State          `json:"state" db:"state"`
	AcceptedOn     civil.Date     `json:"accepted_on" db:"accepted_on"`
	DecidedOn      civil.Date     `json:"decided_on" db:"decided_on"`
	Responsibility Responsibility `json:"responsibility,omitempty" db:"responsibility"`
	Severity       Severity       `json:"severity,omitempty" db:"severity"`
	Outcome        Outcome        `json:"outcome,omitempty" db:"outcome"`
	BarsExcellent  bool           `json:"bars_excellent" db:"-"`
}

// Judge sets the flag and its reasons from the cases.
func (s *Summary) Judge() {
	s.NotEligibleForExcellent, s.Reasons = false, []string{}
	for i := range s.Cases {
		c := &s.Cases[i]
		c.BarsExcellent = !c.DecidedOn.IsZero() && c.DecidedOn.Year() == s.Year && c.Outcome.BarsExcellent()
		if c.BarsExcellent {
			s.NotEligibleForExcellent = true
			s.Reasons = append(s.Reasons, fmt.Sprintf("案件 %d：%s 决定%s，当年不得评为优秀", c.ID, c.DecidedOn, c.Outcome.Chinese()))
		}
	}
}
