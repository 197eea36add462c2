package entry

import (
	"strings"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// ReferralStatus is where a two-way referral stands (DESIGN §4.2):
// issued → received → returned, or issued → closed.
type ReferralStatus string

// The referral states.
const (
	Issued   ReferralStatus = "issued"
	Received ReferralStatus = "received"
	Returned ReferralStatus = "returned"
	Closed   ReferralStatus = "closed"
)

// Open reports whether the referral still waits for its return or closing.
func (s ReferralStatus) Open() bool { return s == Issued || s == Received }

// Chinese returns the state's name as the UI shows it.
func (s ReferralStatus) Chinese() string {
	switch s {
	case Issued:
		return "已转出"
	case Received:
		return "已接收"
	case Returned:
		return "已回转"
	case Closed:
		return "已关闭"
	}
	return string(s)
}

// ReferralOut is the referral slip (转出单): to where, and why.
type ReferralOut struct {
	// ToInstitution names the receiving institution as written on the slip.
	ToInstitution string `json:"to_institution"`
	// ToInstitutionCode is the receiving institution's code when it uses this
	// service: its doctors may then receive and return the referral themselves.
	ToInstitutionCode string `json:"to_institution_code"`
	ToDepartment      string `json:"to_department"`
	Impression        string `json:"impression"` // 初步印象
	History           string `json:"history"`    // 主要现病史、既往史
	Treatment         string `json:"treatment"`  // 治疗经过
	Reason            string `json:"reason"`     // 转出原因
}

// ReferralBack is the back-referral slip (回转单) from the receiving side.
type ReferralBack struct {
	Institution     string `json:"institution"`
	Doctor          string `json:"doctor"`
	Diagnosis       string `json:"diagnosis"`       // 诊断结果
	Treatment       string `json:"treatment"`       // 主要检查及治疗
	Recommendations string `json:"recommendations"` // 康复建议（社区随访）
}

// ReferralProgress is what the transitions write: who received, returned or
// closed the referral, and when.
type ReferralProgress struct {
	ReceivedOn  civil.Date    `json:"received_on"`
	ReceivedBy  string        `json:"received_by,omitempty"`
	ReturnedOn  civil.Date    `json:"returned_on"`
	ReturnedBy  string        `json:"returned_by,omitempty"`
	Back        *ReferralBack `json:"back"`
	ClosedOn    civil.Date    `json:"closed_on"`
	ClosedBy    string        `json:"closed_by,omitempty"`
	CloseReason string        `json:"close_reason,omitempty"`
}

// ReferralForm is what a client sends to issue a referral.
type ReferralForm struct {
	Base
	ReferralOut
}

// Referral is a two-way referral (双向转诊).
type Referral struct {
	Meta
	ReferralForm
	Status ReferralStatus `json:"status"`
	ReferralProgress
}

// referralData is what a referral stores whole: the slip and its progress.
// The status is a column of its own.
type referralData struct {
	*ReferralOut
	*ReferralProgress
}

// Form implements Entry.
func (r *Referral) Form() any { return &r.ReferralForm }

// Own implements Entry.
func (r *Referral) Own() any { return &referralData{&r.ReferralOut, &r.ReferralProgress} }

// Validate implements Entry for a new referral: it is issued, to a named
// institution, with a reason.
func (r *Referral) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	r.Base.validate(&fe, today)
	r.ToInstitutionCode = strings.TrimSpace(r.ToInstitutionCode)
	text(&fe, "to_institution", &r.ToInstitution, r.ToInstitutionCode == "", "转入机构")
	text(&fe, "to_department", &r.ToDepartment, false, "转入科室")
	text(&fe, "impression", &r.Impression, true, "初步印象")
	text(&fe, "history", &r.History, false, "主要现病史")
	text(&fe, "treatment", &r.Treatment, false, "治疗经过")
	text(&fe, "reason", &r.Reason, true, "转出原因")
	r.Status = Issued
	r.ReferralProgress = ReferralProgress{}
	return fe.Err()
}

// Transition names a referral transition, as in /referrals/{id}/{transition}.
type Transition string

// The referral transitions.
const (
	Receive Transition = "receive"
	Return  Transition = "return"
	Close   Transition = "close"
)

// from is the one state each transition leaves, and to the one it enters.
var referralMoves = map[Transition]struct{ from, to ReferralStatus }{
	Receive: {Issued, Received},
	Return:  {Received, Returned},
	Close:   {Issued, Closed},
}

// Next returns the state a transition leads to from s, or a Conflict carrying
// the current state when the transition is not allowed from s.
func (s ReferralStatus) Next(t Transition) (ReferralStatus, error) {
	m, ok := referralMoves[t]
	if !ok {
		return s, apperr.NotFoundf("没有转诊操作 %s", t)
	}
	if s != m.from {
		return s, apperr.Conflictf("转诊单当前状态为「%s」，不能%s", s.Chinese(), t.chinese()).With("state", string(s))
	}
	return m.to, nil
}

func (t Transition) chinese() string {
	switch t {
	case Receive:
		return "接收"
	case Return:
		return "回转"
	case Close:
		return "关闭"
	}
	return string(t)
}

// TransitionForm is what a client sends with a transition: the date (today
// when empty) and, for a return, the back-referral slip, for a closing the reason.
type TransitionForm struct {
	Date   civil.Date `json:"date"`
	Reason string     `json:"reason"`
	ReferralBack
}

// Apply moves the referral by t, done by staff code by, checking the
// transition is legal from the current state (Conflict with state) and then
// what it carries (Invalid).
func (r *Referral) Apply(t Transition, f TransitionForm, by string, today civil.Date) error {
	next, err := r.Status.Next(t)
	if err != nil {
		return err
	}
	if f.Date.IsZero() {
		f.Date = today
	}
	var fe apperr.FieldErrors
	switch t {
	case Receive:
		dateIn(&fe, "date", f.Date, true, r.ServiceDate, "转出日期", today)
		r.ReceivedOn, r.ReceivedBy = f.Date, by
	case Return:
		dateIn(&fe, "date", f.Date, true, r.ReceivedOn, "接收日期", today)
		b := f.ReferralBack
		text(&fe, "institution", &b.Institution, false, "回转机构")
		text(&fe, "doctor", &b.Doctor, false, "回转医生")
		text(&fe, "diagnosis", &b.Diagnosis, true, "诊断结果")
		text(&fe, "treatment", &b.Treatment, false, "主要检查及治疗")
		text(&fe, "recommendations", &b.Recommendations, false, "康复建议")
		if b.Institution == "" {
			b.Institution = r.ToInstitution
		}
		r.ReturnedOn, r.ReturnedBy, r.Back = f.Date, by, &b
	case Close:
		dateIn(&fe, "date", f.Date, true, r.ServiceDate, "转出日期", today)
		text(&fe, "reason", &f.Reason, true, "关闭原因")
		r.ClosedOn, r.ClosedBy, r.CloseReason = f.Date, by, f.Reason
	}
	if t != Close && strings.TrimSpace(f.Reason) != "" {
		fe.Add("reason", "只有关闭转诊时填写原因")
	}
	if t != Return && f.ReferralBack != (ReferralBack{}) {
		fe.Add("diagnosis", "只有回转时填写回转单")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	r.Status = next
	return nil
}
