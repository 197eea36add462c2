package review

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// Due process (DESIGN §7.2–§7.4): the investigation group, the extension a
// lead approves, the decision by a meeting within the 第七条 matrix, and the
// review by someone who took no part in the decision. The store fills a
// Panel with who may sit on the case; the rules are here.

// MinGroup is the smallest investigation group (调查组).
const MinGroup = 2

// DefaultQuorumPercent is the share of the leading group (领导小组) that must
// be present for a decision meeting, unless the county sets another: more
// than half.
const DefaultQuorumPercent = 50

// Panel is who may act on one case, as the store finds them: the county's
// reviewers and leads, its leads alone, the quorum, and for each reviewer
// or lead who must stand aside the reason (§7.4).
type Panel struct {
	Reviewers     []string
	Leads         []string
	QuorumPercent int
	Recused       map[string]string
}

// Quorum is how many leads must be present: strictly more than
// QuorumPercent of the leading group (at least one).
func (p *Panel) Quorum() int {
	n := len(p.Leads)*p.QuorumPercent/100 + 1
	if n > len(p.Leads) && len(p.Leads) > 0 {
		n = len(p.Leads)
	}
	return n
}

// Members is a list of staff codes stored as jsonb.
type Members []string

// Value stores the list as JSON.
func (m Members) Value() (driver.Value, error) {
	if m == nil {
		return "[]", nil
	}
	return jsonText([]string(m))
}

// Scan reads a jsonb column.
func (m *Members) Scan(src any) error { return scanJSON(src, m) }

// SetGroup forms (or re-forms) the investigation group while the case is
// accepted or under investigation: at least two distinct reviewers of the
// county, none of whom must stand aside. It returns the event to record.
func (c *Case) SetGroup(members []string, actor string, now time.Time, p *Panel) (*Event, error) {
	if c.State != Accepted && c.State != Investigating {
		return nil, illegal(c, "案件当前为“%s”，只有受理或调查阶段可以组成调查组", c.State.Chinese())
	}
	var fe apperr.FieldErrors
	seen := map[string]bool{}
	clean := make([]string, 0, len(members))
	for _, m := range members {
		m = strings.TrimSpace(m)
		switch {
		case m == "" || seen[m]:
			continue
		case !slices.Contains(p.Reviewers, m):
			fe.Add("members", fmt.Sprintf("%s 不是本县在职的问责人员，不能参加调查组", m))
		case p.Recused[m] != "":
			fe.Add("members", fmt.Sprintf("%s %s", m, p.Recused[m]))
		}
		seen[m] = true
		clean = append(clean, m)
	}
	if len(clean) < MinGroup {
		fe.Add("members", fmt.Sprintf("调查组至少由 %d 名问责人员组成", MinGroup))
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	c.Group = clean
	return &Event{CaseID: c.ID, From: string(c.State), To: string(c.State), Actor: actor, At: now,
		Reason:  "组成调查组：" + strings.Join(clean, "、"),
		Details: Details{"action": "group", "members": clean}}, nil
}

// ExtensionDecision is a lead's answer to a request for more time.
type ExtensionDecision struct {
	Approve *bool  `json:"approve"`
	Note    string `json:"note"`
}

// DecideExtension approves or refuses the pending request for the one
// extension: by a lead who did not ask for it, before the deadline. The
// caller checks the actor is a lead of the county and not recused.
func (c *Case) DecideExtension(d ExtensionDecision, actor string, now time.Time, cal *Calendar) (*Event, error) {
	d.Note = strings.TrimSpace(d.Note)
	var fe apperr.FieldErrors
	if d.Approve == nil {
		fe.Add("approve", "请选择批准（true）或不批准（false）")
	}
	if len([]rune(d.Note)) > 2000 {
		fe.Add("note", "意见最多 2000 字")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	switch {
	case c.State != Investigating || c.ExtensionRequestedBy == "" || c.Extended || c.ExtensionRefused:
		return nil, illegal(c, "没有待审批的延期申请")
	case c.ExtensionRequestedBy == actor:
		return nil, apperr.Forbiddenf("延期申请须由未提出申请的领导小组成员批准：%s 是申请人", actor)
	}
	today := civil.Of(now)
	if today.After(c.InvestigationDue) {
		return nil, illegal(c, "调查期限已于 %s 届满，不能再延长", c.InvestigationDue).With("investigation_due", c.InvestigationDue)
	}
	ev := &Event{CaseID: c.ID, From: string(c.State), To: string(c.State), Actor: actor, At: now, Reason: d.Note,
		Details: Details{"action": "extension_decision", "approve": *d.Approve, "requested_by": c.ExtensionRequestedBy}}
	if !*d.Approve {
		c.ExtensionRefused = true
		if ev.Reason == "" {
			ev.Reason = "不批准延期"
		}
		return ev, nil
	}
	c.Extended, c.ExtensionApprovedBy = true, actor
	c.Recompute(cal)
	if ev.Reason == "" {
		ev.Reason = "批准延期"
	}
	ev.Details["extension_days"] = ExtensionDays
	ev.Details["investigation_due"] = c.InvestigationDue
	return ev, nil
}

// Meeting is the decision meeting (第十四条(四)-(五)): its date, the body
// that met (党委会, 院务会, 局务会…), the leads present, and the reason for an
// outcome heavier or lighter than the matrix allows (第七条(四)). Deviation
// and Chair are set by the service.
type Meeting struct {
	Date            civil.Date `json:"date"`
	Body            string     `json:"body"`
	Present         []string   `json:"members_present"`
	DeviationReason string     `json:"deviation_reason,omitempty"`
	Deviation       string     `json:"deviation,omitempty"`
	Chair           string     `json:"chair,omitempty"`
}

// Value stores the meeting as JSON; a case without one stores NULL.
func (m *Meeting) Value() (driver.Value, error) {
	if m == nil {
		return nil, nil
	}
	return jsonText(m)
}

// Scan reads a jsonb column.
func (m *Meeting) Scan(src any) error { return scanJSON(src, m) }

// Deviations from the matrix.
const (
	Heavier = "heavier"
	Lighter = "lighter"
)

// checkMeeting validates the decision meeting against the panel: a date
// from the determination to today, a body, a quorum of leads present and
// none of them recused; and the outcome within the matrix, or a reason.
func checkMeeting(fe *apperr.FieldErrors, c *Case, s *Step, today civil.Date) {
	m := s.Meeting
	if m == nil {
		fe.Add("meeting", "处理决定须经会议研究：请填写会议日期、会议名称和出席成员")
		return
	}
	m.Body = strings.TrimSpace(m.Body)
	m.DeviationReason = strings.TrimSpace(m.DeviationReason)
	switch {
	case m.Date.IsZero():
		fe.Add("meeting.date", "请填写会议日期")
	case m.Date.After(today):
		fe.Add("meeting.date", "会议日期不能晚于今天")
	case !c.DeterminedOn.IsZero() && m.Date.Before(c.DeterminedOn):
		fe.Add("meeting.date", "会议日期不能早于责任认定日期 "+c.DeterminedOn.String())
	}
	if m.Body == "" || len([]rune(m.Body)) > 50 {
		fe.Add("meeting.body", "请填写会议名称（如党委会、院务会、局务会），最多 50 字")
	}
	p := s.Panel
	if p == nil {
		p = &Panel{}
	}
	seen := map[string]bool{}
	var present []string
	for _, code := range m.Present {
		code = strings.TrimSpace(code)
		if code == "" || seen[code] {
			continue
		}
		seen[code] = true
		switch {
		case !slices.Contains(p.Leads, code):
			fe.Add("meeting.members_present", fmt.Sprintf("%s 不是本县问责工作领导小组成员", code))
		case p.Recused[code] != "":
			fe.Add("meeting.members_present", fmt.Sprintf("%s %s", code, p.Recused[code]))
		}
		present = append(present, code)
	}
	m.Present = present
	if len(p.Leads) == 0 {
		fe.Add("meeting.members_present", "本县尚未设立问责工作领导小组（review_lead），不能作出处理决定")
	} else if q := p.Quorum(); len(present) < q {
		fe.Add("meeting.members_present", fmt.Sprintf("出席的领导小组成员不足法定人数：领导小组 %d 人，至少 %d 人出席", len(p.Leads), q))
	}
	if len([]rune(m.DeviationReason)) > 2000 {
		fe.Add("meeting.deviation_reason", "从重或从轻的理由最多 2000 字")
	}
	if s.Outcome == "" {
		return
	}
	m.Deviation = Deviation(c.SubjectType, c.Responsibility, c.Severity, s.Outcome)
	switch {
	case m.Deviation != "" && m.DeviationReason == "":
		fe.Add("meeting.deviation_reason", fmt.Sprintf("“%s”超出第七条对%s、%s、%s的处理范围（%s），从重或从轻须写明理由（态度、整改情况等）",
			s.Outcome.Chinese(), c.SubjectType.Chinese(), c.Responsibility.Chinese(), c.Severity.Chinese(), outcomeNames(Allowed(c.SubjectType, c.Responsibility, c.Severity))))
	case m.Deviation == "" && m.DeviationReason != "":
		fe.Add("meeting.deviation_reason", "处理方式在第七条范围内，不需要从重或从轻的理由")
	}
}

func outcomeNames(os []Outcome) string {
	names := make([]string, len(os))
	for i, o := range os {
		names[i] = o.Chinese()
	}
	return strings.Join(names, "、")
}

// Chinese names the subject type.
func (t SubjectType) Chinese() string {
	if t == SubjectInstitution {
		return "单位"
	}
	return "个人"
}

// TookPart reports whether code took part in the decision: who recorded it
// and the leads present at its meeting. They may not decide the review.
func (c *Case) TookPart(code string) bool {
	if c.DecidedBy == code {
		return true
	}
	return c.Meeting != nil && slices.Contains(c.Meeting.Present, code)
}

// Conflict is a conflict of interest a reviewer declares (§7.4): kept on
// their profile, it makes them stand aside from any case about the subject.
type Conflict struct {
	StaffCode   string      `json:"staff_code" db:"staff_code"`
	SubjectType SubjectType `json:"subject_type" db:"subject_type"`
	SubjectCode string      `json:"subject_code" db:"subject_code"`
	Relation    string      `json:"relation" db:"relation"`
	Note        string      `json:"note" db:"note"`
	DeclaredAt  time.Time   `json:"declared_at" db:"declared_at"`
}

// Relations a reviewer may declare.
var relations = map[string]string{"relative": "亲属", "former_colleague": "曾经同事", "superior": "上下级", "other": "其他利害关系"}

// Validate checks a declared conflict.
func (k *Conflict) Validate() error {
	var fe apperr.FieldErrors
	k.SubjectCode, k.Note = strings.TrimSpace(k.SubjectCode), strings.TrimSpace(k.Note)
	if k.SubjectType != SubjectStaff && k.SubjectType != SubjectInstitution {
		fe.Add("subject_type", "对象类型应为 staff 或 institution")
	}
	if k.SubjectCode == "" || len(k.SubjectCode) > 32 {
		fe.Add("subject_code", "对象代码不能为空，最多 32 位")
	}
	if relations[k.Relation] == "" {
		fe.Add("relation", "关系应为 relative、former_colleague、superior 或 other")
	}
	if len([]rune(k.Note)) > 500 {
		fe.Add("note", "说明最多 500 字")
	}
	return fe.Err()
}

// Sitter is someone who might act on a case: their code, institution, the
// domains they hold roles in, and their declared conflicts.
type Sitter struct {
	Code        string
	Institution string
	Domains     []string
	Conflicts   []Conflict
}

// RecusalOf says why s must stand aside from the case (§7.4, 第二十一条), or
// "": its subject, staff of the subject's institution, its complainant, and
// anyone who declared a conflict with the subject.
func (c *Case) RecusalOf(s Sitter, complainantStaff string) string {
	if why := c.Recusal(s.Code, s.Institution); why != "" {
		return why
	}
	if c.SubjectInstitution != "" && (s.Institution == c.SubjectInstitution || slices.Contains(s.Domains, "inst:"+c.SubjectInstitution)) {
		return fmt.Sprintf("回避：本人为被问责对象所在机构（%s）的工作人员", c.SubjectInstitution)
	}
	if complainantStaff != "" && complainantStaff == s.Code {
		return "回避：本人是本案投诉人"
	}
	for _, k := range s.Conflicts {
		if k.SubjectType == c.SubjectType && k.SubjectCode == c.SubjectCode {
			return fmt.Sprintf("回避：本人已申报与被问责对象存在利害关系（%s）", relations[k.Relation])
		}
	}
	return ""
}
