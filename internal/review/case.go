// Package review is accountability review (问责, DESIGN §7): cases and their
// state machine, working-day deadlines over a holiday calendar, proposals from
// a published snapshot's warnings with escalation, and rectification items
// with their reminders. It holds no SQL; internal/postgres stores it.
package review

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// Source says how a case came about.
type Source string

// The sources of DESIGN §7. Snapshot cases are only proposed by the service.
const (
	FromSnapshot    Source = "snapshot"
	FromComplaint   Source = "complaint"
	FromInspection  Source = "inspection"
	FromInstruction Source = "instruction"
)

// Chinese names the source.
func (s Source) Chinese() string {
	switch s {
	case FromSnapshot:
		return "考核预警"
	case FromComplaint:
		return "投诉举报"
	case FromInspection:
		return "监督检查"
	case FromInstruction:
		return "上级交办"
	}
	return string(s)
}

// SubjectType says whether a case is about a person or an institution.
type SubjectType string

// The subject types: a staff member (a doctor, by staff code) or an
// institution (by institution code).
const (
	SubjectStaff       SubjectType = "staff"
	SubjectInstitution SubjectType = "institution"
)

// Responsibility is the kind of responsibility determined (责任类型).
type Responsibility string

// The kinds of responsibility.
const (
	Direct     Responsibility = "direct"
	Leadership Responsibility = "leadership"
	Indirect   Responsibility = "indirect"
)

// Chinese names the responsibility.
func (r Responsibility) Chinese() string {
	switch r {
	case Direct:
		return "直接责任"
	case Leadership:
		return "领导责任"
	case Indirect:
		return "间接责任"
	}
	return string(r)
}

// Severity is how serious the fault is (情节).
type Severity string

// The severities.
const (
	Light       Severity = "light"
	Serious     Severity = "serious"
	VerySerious Severity = "very_serious"
)

// Chinese names the severity.
func (s Severity) Chinese() string {
	switch s {
	case Light:
		return "情节较轻"
	case Serious:
		return "情节较重"
	case VerySerious:
		return "情节严重"
	}
	return string(s)
}

// Outcome is the accountability measure decided (问责方式).
type Outcome string

// The outcomes. Every outcome but criticism and education bars the person
// from an "excellent" annual grade for the year of the decision.
const (
	CriticismEducation     Outcome = "criticism_education"
	AdmonishingTalk        Outcome = "admonishing_talk"
	WrittenSelfExamination Outcome = "written_self_examination"
	CirculatedCriticism    Outcome = "circulated_criticism"
	Suspension             Outcome = "suspension"
	Transfer               Outcome = "transfer"
	AdviseResign           Outcome = "advise_resign"     // 劝其引咎辞职
	OrderResign            Outcome = "order_resign"      // 责令辞职
	ProposeDismissal       Outcome = "propose_dismissal" // 建议免职
)

// Outcomes lists every outcome, lightest first.
var Outcomes = []Outcome{CriticismEducation, AdmonishingTalk, WrittenSelfExamination, CirculatedCriticism, Suspension, Transfer,
	AdviseResign, OrderResign, ProposeDismissal}

// Chinese names the outcome.
func (o Outcome) Chinese() string {
	switch o {
	case CriticismEducation:
		return "批评教育"
	case AdmonishingTalk:
		return "诫勉谈话"
	case WrittenSelfExamination:
		return "责令书面检查"
	case CirculatedCriticism:
		return "通报批评"
	case Suspension:
		return "停职检查"
	case Transfer:
		return "调离岗位"
	case AdviseResign:
		return "劝其引咎辞职"
	case OrderResign:
		return "责令辞职"
	case ProposeDismissal:
		return "建议免职"
	}
	return string(o)
}

// BarsExcellent reports whether the outcome bars an "excellent" annual grade.
func (o Outcome) BarsExcellent() bool { return o != "" && o != CriticismEducation }

// ForPersonOnly reports whether the outcome applies to people, not institutions.
func (o Outcome) ForPersonOnly() bool { return rank(o) >= rank(Suspension) }

// ReviewResult is the answer to an appeal (复核决定).
type ReviewResult string

// The review results: the decision stands, is changed to another outcome, or
// is revoked (no outcome remains).
const (
	Upheld   ReviewResult = "upheld"
	Modified ReviewResult = "modified"
	Revoked  ReviewResult = "revoked"
)

// Chinese names the review result.
func (r ReviewResult) Chinese() string {
	switch r {
	case Upheld:
		return "维持原决定"
	case Modified:
		return "变更处理决定"
	case Revoked:
		return "撤销处理决定"
	}
	return string(r)
}

// Talk leaders: who holds a talk with the subject of an assessment case
// (§7.1): a deputy leader (分管领导) for the last place of an indicator, the
// principal leader (主要领导) for last place in two consecutive assessments
// (escalated); "" for none. Cases proposed before migration 00016 keep the
// deputy they were given.
const (
	TalkDeputy    = "deputy"
	TalkPrincipal = "principal"
)

// Case is an accountability case.
type Case struct {
	ID                 int64       `json:"id" db:"id"`
	CountyCode         string      `json:"county_code" db:"county_code"`
	Source             Source      `json:"source" db:"source"`
	SubjectType        SubjectType `json:"subject_type" db:"subject_type"`
	SubjectCode        string      `json:"subject_code" db:"subject_code"`
	SubjectName        string      `json:"subject_name" db:"subject_name"`
	SubjectInstitution string      `json:"subject_institution" db:"subject_institution"`
	Facts              string      `json:"facts" db:"facts"`
	// SnapshotID and Triggers are set on cases proposed from a published
	// snapshot: the warnings, with the figures, that gave rise to the case.
	SnapshotID string      `json:"snapshot_id,omitempty" db:"snapshot_id"`
	Triggers   Warnings    `json:"triggers" db:"triggers"`
	Escalated  bool        `json:"escalated" db:"escalated"`
	TalkBy     string      `json:"talk_by" db:"talk_by"`
	Escalation *Escalation `json:"escalation,omitempty" db:"escalation"`

	State State `json:"state" db:"state"`
	// ProposedOn is the day an assessment proposed the case; AcceptedOn
	// the day a reviewer accepted it (the investigation runs from then),
	// with the preliminary check's note.
	ProposedOn       civil.Date `json:"proposed_on" db:"proposed_on"`
	AcceptedOn       civil.Date `json:"accepted_on" db:"accepted_on"`
	AcceptanceNote   string     `json:"acceptance_note,omitempty" db:"acceptance_note"`
	InvestigationDue civil.Date `json:"investigation_due" db:"investigation_due"`
	Extended         bool       `json:"extended" db:"extended"`
	ExtensionReason  string     `json:"extension_reason,omitempty" db:"extension_reason"`
	// The extension is asked for by a reviewer and approved by a lead who
	// did not ask (§7.2). Cases extended before migration 00021 have no
	// request or approver.
	ExtensionRequestedBy string     `json:"extension_requested_by,omitempty" db:"extension_requested_by"`
	ExtensionRequestedOn civil.Date `json:"extension_requested_on" db:"extension_requested_on"`
	ExtensionApprovedBy  string     `json:"extension_approved_by,omitempty" db:"extension_approved_by"`
	ExtensionRefused     bool       `json:"extension_refused" db:"extension_refused"`
	// Group is the investigation group (调查组); cases determined before
	// migration 00021 have none.
	Group          Members        `json:"group" db:"group_members"`
	Responsibility Responsibility `json:"responsibility,omitempty" db:"responsibility"`
	Severity       Severity       `json:"severity,omitempty" db:"severity"`
	Findings       string         `json:"findings,omitempty" db:"findings"`
	// DeterminedOn starts the defence period (申辩) ending on DefenceDue;
	// Defence is the subject's written statement, given on DefendedOn.
	// Cases determined before migration 00016 have no period.
	DeterminedOn civil.Date `json:"determined_on" db:"determined_on"`
	DefenceDue   civil.Date `json:"defence_due" db:"defence_due"`
	Defence      string     `json:"defence,omitempty" db:"defence"`
	DefendedOn   civil.Date `json:"defended_on" db:"defended_on"`
	Outcome      Outcome    `json:"outcome,omitempty" db:"outcome"`
	// OriginalOutcome is the first decision's outcome when a review changed
	// or revoked it.
	OriginalOutcome Outcome `json:"original_outcome,omitempty" db:"original_outcome"`
	// Meeting is the decision meeting; DecidedBy who recorded it. Cases
	// decided before migration 00021 by one reviewer have no meeting.
	Meeting   *Meeting `json:"meeting,omitempty" db:"meeting"`
	DecidedBy string   `json:"decided_by,omitempty" db:"decided_by"`
	// ReviewedBy decided the review (复核), someone who took no part in the
	// decision; ReviewReason is their reasoning.
	ReviewedBy   string       `json:"reviewed_by,omitempty" db:"reviewed_by"`
	DecidedOn    civil.Date   `json:"decided_on" db:"decided_on"`
	ServingDue   civil.Date   `json:"serving_due" db:"serving_due"`
	ServedOn     civil.Date   `json:"served_on" db:"served_on"`
	AppealDue    civil.Date   `json:"appeal_due" db:"appeal_due"`
	AppealedOn   civil.Date   `json:"appealed_on" db:"appealed_on"`
	ReviewResult ReviewResult `json:"review_result,omitempty" db:"review_result"`
	ClosedOn     civil.Date   `json:"closed_on" db:"closed_on"`

	CreatedAt time.Time `json:"created_at" db:"created_at"`
	CreatedBy string    `json:"created_by" db:"created_by"`
	UpdatedAt time.Time `json:"updated_at" db:"updated_at"`

	// Computed on read, against the server's date.
	Overdue         bool   `json:"overdue" db:"-"`
	OverdueDeadline string `json:"overdue_deadline,omitempty" db:"-"`
	BarsExcellent   bool   `json:"bars_excellent" db:"-"`

	Events []Event `json:"events,omitempty" db:"-"`
	// Complainant is loaded for the county's reviewers only: never shown to
	// the subject (§7.1).
	Complainant *Complainant `json:"complainant,omitempty" db:"-"`
	// Consequences are the 第八条 facts of the outcome in force.
	Consequences []Consequence `json:"consequences,omitempty" db:"-"`
}

// Opening is a case opened by hand: POST /cases.
type Opening struct {
	Source      Source      `json:"source"`
	SubjectType SubjectType `json:"subject_type"`
	SubjectCode string      `json:"subject_code"`
	Facts       string      `json:"facts"`
	// Complainant is who complained, for a complaint: kept from the
	// subject, told the result after serving (§7.1).
	Complainant Complainant `json:"complainant"`
}

// Complainant is a complaint's author: a name, a contact, and their staff
// code when they work in the service (then they may not act on the case).
type Complainant struct {
	Name      string `json:"name" db:"complainant_name"`
	Contact   string `json:"contact" db:"complainant_contact"`
	StaffCode string `json:"staff_code,omitempty" db:"complainant_staff"`
}

// Validate checks an opening. Snapshot cases are proposed by the service,
// not opened by hand.
func (o *Opening) Validate() error {
	var fe apperr.FieldErrors
	o.SubjectCode = strings.TrimSpace(o.SubjectCode)
	o.Facts = strings.TrimSpace(o.Facts)
	switch o.Source {
	case FromComplaint, FromInspection, FromInstruction:
	case FromSnapshot:
		fe.Add("source", "考核预警案件由发布考核快照时自动生成，不能手工立案")
	default:
		fe.Add("source", "来源应为 complaint、inspection 或 instruction")
	}
	switch o.SubjectType {
	case SubjectStaff, SubjectInstitution:
	default:
		fe.Add("subject_type", "对象类型应为 staff 或 institution")
	}
	if o.SubjectCode == "" || len(o.SubjectCode) > 32 {
		fe.Add("subject_code", "对象代码不能为空，最多 32 位")
	}
	o.Complainant.Name, o.Complainant.Contact = strings.TrimSpace(o.Complainant.Name), strings.TrimSpace(o.Complainant.Contact)
	o.Complainant.StaffCode = strings.TrimSpace(o.Complainant.StaffCode)
	switch {
	case o.Source != FromComplaint && o.Complainant != (Complainant{}):
		fe.Add("complainant", "只有投诉举报案件记录投诉人")
	case len([]rune(o.Complainant.Name)) > 50 || len([]rune(o.Complainant.Contact)) > 100 || len(o.Complainant.StaffCode) > 32:
		fe.Add("complainant", "投诉人姓名最多 50 字，联系方式最多 100 字")
	}
	if o.Facts == "" {
		fe.Add("facts", "请写明问题事实")
	} else if len([]rune(o.Facts)) > 10000 {
		fe.Add("facts", "问题事实最多 10000 字")
	}
	return fe.Err()
}

// Flag sets the fields computed on read: whether an office deadline has
// passed (investigation while accepted or investigating, serving while
// decided), and whether the outcome bars the person's excellent grade.
func (c *Case) Flag(today civil.Date) {
	c.Overdue, c.OverdueDeadline = false, ""
	switch c.State {
	case Accepted, Investigating:
		if today.After(c.InvestigationDue) {
			c.Overdue, c.OverdueDeadline = true, DeadlineInvestigation
		}
	case Decided:
		if today.After(c.ServingDue) {
			c.Overdue, c.OverdueDeadline = true, DeadlineServing
		}
	}
	c.BarsExcellent = c.SubjectType == SubjectStaff && c.Outcome.BarsExcellent()
}

// Recusal returns why the actor must stand aside from acting on the case,
// or "" when they need not: nobody acts on a case about themselves, nor on a
// case about the institution they belong to.
func (c *Case) Recusal(actorCode, actorInstitution string) string {
	switch {
	case c.SubjectType == SubjectStaff && c.SubjectCode == actorCode:
		return "回避：不得办理以本人为对象的问责案件"
	case c.SubjectType == SubjectInstitution && actorInstitution != "" && c.SubjectCode == actorInstitution:
		return fmt.Sprintf("回避：不得办理以本人所在机构（%s）为对象的问责案件", actorInstitution)
	}
	return ""
}

// Event is one step in a case's or an item's history: who, when, why.
type Event struct {
	ID      int64     `json:"id" db:"id"`
	CaseID  int64     `json:"case_id" db:"case_id"`
	ItemID  *int64    `json:"item_id,omitempty" db:"item_id"`
	From    string    `json:"from" db:"from_state"`
	To      string    `json:"to" db:"to_state"`
	Reason  string    `json:"reason" db:"reason"`
	Details Details   `json:"details" db:"details"`
	Actor   string    `json:"actor" db:"actor"`
	At      time.Time `json:"at" db:"at"`
}

// Details holds a step's fields (responsibility, outcome, evidence…) as jsonb.
type Details map[string]any

// Value stores the details as JSON.
func (d Details) Value() (driver.Value, error) {
	if d == nil {
		return "{}", nil
	}
	return jsonText(d)
}

// Scan reads a jsonb column.
func (d *Details) Scan(src any) error { return scanJSON(src, d) }

func scanJSON(src, dst any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(v, dst)
	case string:
		return json.Unmarshal([]byte(v), dst)
	}
	return fmt.Errorf("review: cannot scan %T as JSON", src)
}

// jsonText encodes v for a jsonb column as a string: the driver sends []byte
// arguments as binary data, which jsonb does not take.
func jsonText(v any) (driver.Value, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
