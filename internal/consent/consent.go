// Package consent is the consent-based access request of DESIGN §6.2: an
// outside requester asks for some sections of one record for a number of
// days; the record-keeping institution's records administrator approves or
// rejects it, then records the resident's or guardian's consent or refusal.
// Only both together make a grant: read-only, those sections, that record,
// until it expires or is revoked.
//
// The order is fixed: approval first, then consent. The institution decides
// whether a request is legitimate before anyone asks the resident, so a
// resident is never approached about a request the institution would turn
// down, and "approved" is the one state in which consent is sought.
//
// "expired" is never stored: an active grant is expired once the clock has
// reached its expiry, decided at every read (StateAt), never by a job.
package consent

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"healthrec/internal/apperr"
	"healthrec/internal/ident"
)

// State is where a request stands.
type State string

// The states: submitted → approved → active → expired | revoked, or rejected
// (by the institution) or refused (by the resident or guardian).
const (
	Submitted State = "submitted"
	Approved  State = "approved"
	Active    State = "active"
	Expired   State = "expired"
	Revoked   State = "revoked"
	Rejected  State = "rejected"
	Refused   State = "refused"
)

// States lists every state a request can be seen in.
var States = []State{Submitted, Approved, Active, Expired, Revoked, Rejected, Refused}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Chinese returns the state's name as the UI shows it.
func (s State) Chinese() string {
	switch s {
	case Submitted:
		return "待审批"
	case Approved:
		return "已批准待同意"
	case Active:
		return "授权生效"
	case Expired:
		return "已过期"
	case Revoked:
		return "已撤销"
	case Rejected:
		return "已驳回"
	case Refused:
		return "居民拒绝"
	}
	return string(s)
}

// Action moves a request from one state to another.
type Action string

// The actions after submission.
const (
	Submit  Action = "submit"
	Approve Action = "approve"
	Reject  Action = "reject"
	Consent Action = "consent" // the resident or guardian agreed
	Refuse  Action = "refuse"  // the resident or guardian refused
	Revoke  Action = "revoke"
)

func (a Action) chinese() string {
	switch a {
	case Approve:
		return "批准"
	case Reject:
		return "驳回"
	case Consent:
		return "登记同意"
	case Refuse:
		return "登记拒绝"
	case Revoke:
		return "撤销"
	}
	return string(a)
}

// next is the state machine. Revocation is possible while a grant is
// pending consent or running; a request still waiting for the institution is
// rejected instead, and one that ended cannot be revoked.
var next = map[State]map[Action]State{
	Submitted: {Approve: Approved, Reject: Rejected},
	Approved:  {Consent: Active, Refuse: Refused, Revoke: Revoked},
	Active:    {Revoke: Revoked},
}

// Next returns the state after act from cur (cur as seen now, so an expired
// grant is Expired). Returns Conflict carrying "state" for an illegal order.
func Next(cur State, act Action) (State, error) {
	if to, ok := next[cur][act]; ok {
		return to, nil
	}
	msg := fmt.Sprintf("申请当前状态为「%s」，不能%s", cur.Chinese(), act.chinese())
	if cur == Submitted && (act == Consent || act == Refuse) {
		msg += "：须先由档案所在机构批准，再登记居民或监护人的意见"
	}
	return "", apperr.Conflictf("%s", msg).With("state", string(cur))
}

// StateAt is the state of a request at now: a stored active grant whose
// expiry has come is expired.
func StateAt(stored State, expiresAt *time.Time, now time.Time) State {
	if stored == Active && expiresAt != nil && !now.Before(*expiresAt) {
		return Expired
	}
	return stored
}

// ExpiresAt is when a grant activated at activated for days days ends.
func ExpiresAt(activated time.Time, days int) time.Time {
	return activated.Add(time.Duration(days) * 24 * time.Hour)
}

// Sections a request may ask for, in the order they are shown.
var Sections = []string{"basic", "exams", "programmes", "entries"}

// MaxDays is the longest grant (DESIGN §6.2: at most 90 days).
const MaxDays = 90

const maxText = 1000

// Submission is what a requester sends.
type Submission struct {
	RecordID string   `json:"record_id"`
	Purpose  string   `json:"purpose"`
	Sections []string `json:"sections"`
	Days     int      `json:"days"`
}

// Validate checks a submission and puts its sections in canonical order.
// Whether the record exists is the store's check.
func (s *Submission) Validate() error {
	var fe apperr.FieldErrors
	if s.RecordID == "" {
		fe.Add("record_id", "档案编号不能为空")
	} else if _, err := ident.ParseRecordID(s.RecordID); err != nil {
		fe.Add("record_id", "档案编号应为 16 位数字（12 位村居代码 + 4 位序号）")
	}
	s.Purpose = strings.TrimSpace(s.Purpose)
	switch {
	case s.Purpose == "":
		fe.Add("purpose", "须说明用途")
	case utf8.RuneCountInString(s.Purpose) > maxText:
		fe.Add("purpose", fmt.Sprintf("用途最多 %d 字", maxText))
	}
	if reason := checkSections(s.Sections); reason != "" {
		fe.Add("sections", reason)
	} else {
		s.Sections = canonical(s.Sections)
	}
	if s.Days < 1 || s.Days > MaxDays {
		fe.Add("days", fmt.Sprintf("期限应为 1–%d 天", MaxDays))
	}
	return fe.Err()
}

func checkSections(secs []string) string {
	if len(secs) == 0 {
		return "至少选择一个部分：" + strings.Join(Sections, "、")
	}
	seen := map[string]bool{}
	for _, s := range secs {
		if !slices.Contains(Sections, s) {
			return "未知部分 " + s + "，可选：" + strings.Join(Sections, "、")
		}
		if seen[s] {
			return "部分 " + s + " 重复"
		}
		seen[s] = true
	}
	return ""
}

func canonical(secs []string) []string {
	out := make([]string, 0, len(secs))
	for _, s := range Sections {
		if slices.Contains(secs, s) {
			out = append(out, s)
		}
	}
	return out
}

// Reason is the body of approve, reject and revoke: every decision says why.
type Reason struct {
	Reason string `json:"reason"`
}

// Validate checks the reason is given.
func (r *Reason) Validate() error {
	r.Reason = strings.TrimSpace(r.Reason)
	switch {
	case r.Reason == "":
		return apperr.InvalidField("reason", "须填写理由")
	case utf8.RuneCountInString(r.Reason) > maxText:
		return apperr.InvalidField("reason", fmt.Sprintf("理由最多 %d 字", maxText))
	}
	return nil
}

// Method is how the resident or guardian gave their answer.
type Method string

// The methods of DESIGN §6.2.
const (
	SignedForm Method = "signed_form"
	InPerson   Method = "in_person"
	Phone      Method = "phone"
)

// Answer is the resident's or guardian's consent or refusal as the records
// administrator records it.
type Answer struct {
	Given        *bool  `json:"given"`
	GivenBy      string `json:"given_by"`
	Relationship string `json:"relationship"`
	Method       Method `json:"method"`
	Reference    string `json:"reference"`
}

// Validate checks an answer: who answered, their relationship to the
// resident (本人, 父亲, 监护人…) and how are always required; consent also
// needs a reference to the evidence (form number, visit or call record), so
// that a grant can always be traced to it.
func (a *Answer) Validate() error {
	var fe apperr.FieldErrors
	if a.Given == nil {
		fe.Add("given", "须说明同意（true）或拒绝（false）")
	}
	a.GivenBy = strings.TrimSpace(a.GivenBy)
	a.Relationship = strings.TrimSpace(a.Relationship)
	a.Reference = strings.TrimSpace(a.Reference)
	text := func(field, v, empty string, required bool) {
		switch {
		case v == "" && required:
			fe.Add(field, empty)
		case utf8.RuneCountInString(v) > 200:
			fe.Add(field, "最多 200 字")
		}
	}
	text("given_by", a.GivenBy, "须填写表态人姓名", true)
	text("relationship", a.Relationship, "须填写与居民的关系（如 本人、父亲、监护人）", true)
	switch a.Method {
	case SignedForm, InPerson, Phone:
	default:
		fe.Add("method", "方式应为 signed_form（书面签字）、in_person（当面）或 phone（电话）")
	}
	text("reference", a.Reference, "同意须填写凭证编号（知情同意书编号、面谈或通话记录）", a.Given != nil && *a.Given)
	return fe.Err()
}

// Action is the transition the answer makes.
func (a *Answer) Action() Action {
	if a.Given != nil && *a.Given {
		return Consent
	}
	return Refuse
}

// Request is an access request as the API shows it.
type Request struct {
	ID              int64        `json:"id"`
	RecordID        string       `json:"record_id"`
	InstitutionCode string       `json:"institution_code"`
	Purpose         string       `json:"purpose"`
	Sections        []string     `json:"sections"`
	Days            int          `json:"days"`
	State           State        `json:"state"`
	RequestedBy     string       `json:"requested_by"`
	SubmittedAt     time.Time    `json:"submitted_at"`
	ActivatedAt     *time.Time   `json:"activated_at"`
	ExpiresAt       *time.Time   `json:"expires_at"`
	Consent         *Record      `json:"consent"`
	Transitions     []Transition `json:"transitions,omitempty"`
}

// Record is the recorded answer of the resident or guardian.
type Record struct {
	Given        bool      `json:"given"`
	GivenBy      string    `json:"given_by,omitempty"`
	Relationship string    `json:"relationship"`
	Method       Method    `json:"method"`
	Reference    string    `json:"reference"`
	RecordedBy   string    `json:"recorded_by"`
	RecordedAt   time.Time `json:"recorded_at"`
}

// Transition is one step in a request's history: who, when, why.
type Transition struct {
	From   State     `json:"from"`
	To     State     `json:"to"`
	Action Action    `json:"action"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// MayDecide returns Forbidden when actor submitted the request: nobody
// approves, rejects or answers for their own request. Revoking one's own
// grant only takes access away, so it stays allowed.
func (r *Request) MayDecide(actor string) error {
	if r.RequestedBy == actor {
		return apperr.Forbiddenf("不能审批或登记本人提交的访问申请 #%d，须由本机构其他档案管理员处理", r.ID)
	}
	return nil
}

// ForRequester is the request as its requester sees it: without the name of
// the resident or guardian who answered, which is personal data the grant
// does not cover.
func (r Request) ForRequester() Request {
	if r.Consent != nil {
		c := *r.Consent
		c.GivenBy = ""
		r.Consent = &c
	}
	return r
}
