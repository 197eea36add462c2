package review

import (
	"fmt"
	"slices"
)

// The 第七条 matrix: for a subject kind, a responsibility and a severity,
// the outcomes allowed without a reason. Direct responsibility weighs
// heaviest; leadership and indirect responsibility a step lighter; an
// institution never gets a measure meant for a person. An outcome outside
// the cell is heavier or lighter (第七条(四)) and needs a recorded reason.
var matrix = map[SubjectType]map[Responsibility]map[Severity][]Outcome{
	SubjectStaff: {
		Direct: {
			Light:       {CriticismEducation, AdmonishingTalk, WrittenSelfExamination},
			Serious:     {WrittenSelfExamination, CirculatedCriticism},
			VerySerious: {Suspension, Transfer, AdviseResign, OrderResign, ProposeDismissal},
		},
		Leadership: {
			Light:       {CriticismEducation, AdmonishingTalk},
			Serious:     {AdmonishingTalk, WrittenSelfExamination, CirculatedCriticism},
			VerySerious: {CirculatedCriticism, Suspension, Transfer, AdviseResign},
		},
		Indirect: {
			Light:       {CriticismEducation, AdmonishingTalk},
			Serious:     {AdmonishingTalk, WrittenSelfExamination, CirculatedCriticism},
			VerySerious: {CirculatedCriticism, Suspension, Transfer},
		},
	},
}

func init() {
	inst := map[Severity][]Outcome{
		Light:       {CriticismEducation, AdmonishingTalk},
		Serious:     {WrittenSelfExamination, CirculatedCriticism},
		VerySerious: {CirculatedCriticism},
	}
	matrix[SubjectInstitution] = map[Responsibility]map[Severity][]Outcome{Direct: inst, Leadership: inst, Indirect: inst}
}

// Allowed lists the outcomes of the matrix's cell, lightest first.
func Allowed(t SubjectType, r Responsibility, s Severity) []Outcome {
	return matrix[t][r][s]
}

// rank orders outcomes by weight.
func rank(o Outcome) int { return slices.Index(Outcomes, o) }

// Deviation says whether o is heavier or lighter than the matrix's cell, or
// "" when it is within it (or the case has no determination to compare,
// as with cases determined before the matrix).
func Deviation(t SubjectType, r Responsibility, s Severity, o Outcome) string {
	allowed := Allowed(t, r, s)
	if len(allowed) == 0 || slices.Contains(allowed, o) {
		return ""
	}
	if rank(o) > rank(allowed[len(allowed)-1]) {
		return Heavier
	}
	return Lighter
}

// Caps (第八条): what an outcome does to a grade.
const (
	CapNotExcellent       = "not_excellent"       // 不得评为优秀
	CapBasicallyCompetent = "basically_competent" // 基本称职
	CapNotCompetent       = "not_competent"       // 不称职
)

// CapChinese names a cap.
func CapChinese(cp string) string {
	switch cp {
	case CapNotExcellent:
		return "不得评为优秀"
	case CapBasicallyCompetent:
		return "基本称职"
	case CapNotCompetent:
		return "不称职"
	}
	return cp
}

// Consequence is one fact of 第八条: a subject's grade for a period is
// capped because of a case's outcome. A person's caps hold for the month of
// the decision, an institution's for the year.
type Consequence struct {
	CaseID      int64       `json:"case_id" db:"case_id"`
	SubjectType SubjectType `json:"subject_type" db:"subject_type"`
	SubjectCode string      `json:"subject_code" db:"subject_code"`
	SubjectName string      `json:"subject_name" db:"subject_name"`
	Period      string      `json:"period" db:"period"`
	Cap         string      `json:"cap" db:"cap"`
	CapName     string      `json:"cap_name" db:"-"`
	Outcome     Outcome     `json:"outcome" db:"outcome"`
	DecidedOn   string      `json:"decided_on" db:"decided_on"`
}

// DeriveConsequences derives the case's consequences from its outcome in force:
// none without a decision or once a review revoked it.
func (c *Case) DeriveConsequences() []Consequence {
	if c.Outcome == "" || c.DecidedOn.IsZero() {
		return nil
	}
	cp := ""
	period := fmt.Sprintf("%04d-%02d", c.DecidedOn.Year(), int(c.DecidedOn.Time().Month()))
	if c.SubjectType == SubjectInstitution {
		switch c.Outcome {
		case AdmonishingTalk, WrittenSelfExamination, CirculatedCriticism:
			cp, period = CapNotExcellent, fmt.Sprintf("%04d", c.DecidedOn.Year())
		}
	} else {
		switch c.Outcome {
		case AdmonishingTalk, WrittenSelfExamination:
			cp = CapNotExcellent
		case CirculatedCriticism:
			cp = CapBasicallyCompetent
		case Suspension, Transfer, AdviseResign, OrderResign, ProposeDismissal:
			cp = CapNotCompetent
		}
	}
	if cp == "" {
		return nil
	}
	return []Consequence{{CaseID: c.ID, SubjectType: c.SubjectType, SubjectCode: c.SubjectCode, SubjectName: c.SubjectName,
		Period: period, Cap: cp, CapName: CapChinese(cp), Outcome: c.Outcome, DecidedOn: c.DecidedOn.String()}}
}
