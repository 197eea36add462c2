package entry

import (
	"strconv"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// Programme is a key-population management programme (重点人群管理).
type Programme string

// The programmes of DESIGN §3 part 3.
const (
	Hypertension  Programme = "hypertension"
	Type2Diabetes Programme = "type2_diabetes"
	Elderly       Programme = "elderly"
	Children06    Programme = "children_0_6"
	Maternal      Programme = "maternal"
	SevereMental  Programme = "severe_mental"
	Tuberculosis  Programme = "tuberculosis"
)

// Programmes lists every programme, in the standard's order.
var Programmes = []Programme{Hypertension, Type2Diabetes, Elderly, Children06, Maternal, SevereMental, Tuberculosis}

// Valid reports whether p is a known programme.
func (p Programme) Valid() bool {
	for _, x := range Programmes {
		if p == x {
			return true
		}
	}
	return false
}

// FollowedUp reports whether the programme has the quarterly follow-up
// schedule of DESIGN §4.3.
func (p Programme) FollowedUp() bool { return p == Hypertension || p == Type2Diabetes }

// Chinese returns the programme's name as the forms print it.
func (p Programme) Chinese() string {
	switch p {
	case Hypertension:
		return "高血压"
	case Type2Diabetes:
		return "2型糖尿病"
	case Elderly:
		return "老年人"
	case Children06:
		return "0-6岁儿童"
	case Maternal:
		return "孕产妇"
	case SevereMental:
		return "严重精神障碍"
	case Tuberculosis:
		return "肺结核"
	}
	return string(p)
}

// Chronic reports whether the programme manages a chronic condition, as the
// record card lists them.
func (p Programme) Chronic() bool {
	return p == Hypertension || p == Type2Diabetes || p == SevereMental || p == Tuberculosis
}

// Enrolment statuses.
const (
	EnrolmentActive = "active"
	EnrolmentEnded  = "ended"
)

// EnrolmentForm is what a client sends to enrol a resident. An enrolment
// that ended before it was entered (from paper) is sent with its end.
type EnrolmentForm struct {
	Programme  Programme  `json:"programme"`
	EnrolledOn civil.Date `json:"enrolled_on"`
	Status     string     `json:"status"` // active (default) or ended
	EndedOn    civil.Date `json:"ended_on"`
	EndReason  string     `json:"end_reason"`
}

// Enrolment is a record's enrolment in a programme, with its follow-up
// schedule when the programme has one.
type Enrolment struct {
	ID       int64  `json:"id"`
	RecordID string `json:"record_id"`
	EnrolmentForm
	// LastFollowupDate and NextFollowupDue are the schedule of DESIGN §4.3,
	// for hypertension and type-2 diabetes only.
	LastFollowupDate civil.Date `json:"last_followup_date"`
	NextFollowupDue  civil.Date `json:"next_followup_due"`
	CreatedAt        time.Time  `json:"created_at"`
	CreatedBy        string     `json:"created_by"`
}

// Resident is what enrolment rules need to know of the resident.
type Resident struct {
	Sex       string
	BirthDate civil.Date
}

// Validate checks a new enrolment against today and the resident: elderly
// care starts at 65, child care ends before 7, maternal care is for women.
func (e *EnrolmentForm) Validate(today civil.Date, r Resident) error {
	var fe apperr.FieldErrors
	if !e.Programme.Valid() {
		fe.Add("programme", "项目应为 hypertension、type2_diabetes、elderly、children_0_6、maternal、severe_mental 或 tuberculosis")
	}
	dateIn(&fe, "enrolled_on", e.EnrolledOn, true, r.BirthDate, "出生日期", today)
	if e.Status == "" {
		e.Status = EnrolmentActive
	}
	switch e.Status {
	case EnrolmentActive:
		if !e.EndedOn.IsZero() {
			fe.Add("ended_on", "在管的项目不能有结案日期")
		}
		if e.EndReason != "" {
			fe.Add("end_reason", "在管的项目不能有结案原因")
		}
	case EnrolmentEnded:
		dateIn(&fe, "ended_on", e.EndedOn, true, e.EnrolledOn, "纳入管理日期", today)
		text(&fe, "end_reason", &e.EndReason, false, "结案原因")
	default:
		fe.Add("status", "状态应为 active（在管）或 ended（结案）")
	}
	if !r.BirthDate.IsZero() && !e.EnrolledOn.IsZero() {
		age := ageOn(r.BirthDate, e.EnrolledOn)
		switch {
		case e.Programme == Elderly && age < 65:
			fe.Add("programme", "老年人健康管理须年满 65 周岁（纳入时 "+strconv.Itoa(age)+" 岁）")
		case e.Programme == Children06 && age > 6:
			fe.Add("programme", "0-6 岁儿童健康管理须未满 7 周岁（纳入时 "+strconv.Itoa(age)+" 岁）")
		}
	}
	if e.Programme == Maternal && r.Sex == "M" {
		fe.Add("programme", "孕产妇健康管理仅适用于女性")
	}
	return fe.Err()
}

// EndForm is what a client sends to end an enrolment (结案).
type EndForm struct {
	EndedOn civil.Date `json:"ended_on"` // today when empty
	Reason  string     `json:"reason"`
}

// End closes an active enrolment: Conflict with the state when it already
// ended, Invalid for a bad date.
func (e *Enrolment) End(f EndForm, today civil.Date) error {
	if e.Status != EnrolmentActive {
		return apperr.Conflictf("该项目已于 %s 结案", e.EndedOn).With("state", e.Status)
	}
	if f.EndedOn.IsZero() {
		f.EndedOn = today
	}
	var fe apperr.FieldErrors
	dateIn(&fe, "ended_on", f.EndedOn, true, e.EnrolledOn, "纳入管理日期", today)
	text(&fe, "reason", &f.Reason, false, "结案原因")
	if err := fe.Err(); err != nil {
		return err
	}
	e.Status, e.EndedOn, e.EndReason = EnrolmentEnded, f.EndedOn, f.Reason
	return nil
}

// ageOn returns the age in whole years on day on of someone born on birth.
func ageOn(birth, on civil.Date) int {
	b, d := birth.Time(), on.Time()
	age := d.Year() - b.Year()
	if d.Month() < b.Month() || d.Month() == b.Month() && d.Day() < b.Day() {
		age--
	}
	return age
}
