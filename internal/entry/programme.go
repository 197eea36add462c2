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
	// The dates a schedule counts from (Schedule): a newborn's discharge
	// from hospital (children, optional), the last menstrual period
	// (maternal, required) and the delivery (maternal, once known).
	DischargedOn civil.Date `json:"discharged_on"`
	LMPDate      civil.Date `json:"lmp_date"`
	DeliveredOn  civil.Date `json:"delivered_on"`
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
	// Schedule is the services of the children, maternal and elderly
	// programmes, with their windows and what gave them.
	Schedule  []ScheduleItem `json:"schedule"`
	CreatedAt time.Time      `json:"created_at"`
	CreatedBy string         `json:"created_by"`
}

// Resident is what enrolment rules need to know of the resident.
type Resident struct {
	Sex       string
	BirthDate civil.Date
}

// Validate checks a new enrolment against today and the resident: elderly
// care starts at 65, child care ends before 7, maternal care is for women.
func (e *EnrolmentForm) Validate(today civil.Date, r Resident) error {
	return e.validate(today, r, false)
}

// ValidateLegacy checks an enrolment from a legacy file, which may lack what
// a schedule counts from (the resident's birth date, the LMP): such an
// enrolment is taken without its schedule.
func (e *EnrolmentForm) ValidateLegacy(today civil.Date, r Resident) error {
	return e.validate(today, r, true)
}

func (e *EnrolmentForm) validate(today civil.Date, r Resident, legacy bool) error {
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
	e.validateAnchors(&fe, today, r, legacy)
	return fe.Err()
}

// validateAnchors checks the dates a schedule counts from: each only for
// its programme, the LMP required for maternal care, a birth date on the
// record for child care.
func (e *EnrolmentForm) validateAnchors(fe *apperr.FieldErrors, today civil.Date, r Resident, legacy bool) {
	if e.Programme == Children06 && r.BirthDate.IsZero() && !legacy {
		fe.Add("programme", "儿童健康管理须先在档案中填写出生日期")
	}
	if e.Programme != Children06 && !e.DischargedOn.IsZero() {
		fe.Add("discharged_on", "出院日期仅用于儿童健康管理（新生儿出院）")
	} else {
		dateIn(fe, "discharged_on", e.DischargedOn, false, r.BirthDate, "出生日期", today)
	}
	if e.Programme != Maternal {
		if !e.LMPDate.IsZero() {
			fe.Add("lmp_date", "末次月经日期仅用于孕产妇健康管理")
		}
		if !e.DeliveredOn.IsZero() {
			fe.Add("delivered_on", "分娩日期仅用于孕产妇健康管理")
		}
		return
	}
	dateIn(fe, "lmp_date", e.LMPDate, !legacy, r.BirthDate, "出生日期", today)
	if !e.LMPDate.IsZero() && !e.EnrolledOn.IsZero() && e.LMPDate.AddDays(7*45).Before(e.EnrolledOn) && e.DeliveredOn.IsZero() {
		fe.Add("lmp_date", "末次月经距纳入日期超过 45 周，请填写分娩日期")
	}
	if err := ValidDelivery(e.LMPDate, e.DeliveredOn, today); err != "" && !e.DeliveredOn.IsZero() {
		fe.Add("delivered_on", err)
	}
}

// ValidDelivery says what is wrong with a delivery date after an LMP, or "".
func ValidDelivery(lmp, delivered, today civil.Date) string {
	switch {
	case delivered.IsZero():
		return "分娩日期不能为空"
	case delivered.After(today):
		return "分娩日期不能晚于今天"
	case !lmp.IsZero() && delivered.Before(lmp.AddDays(7*20)):
		return "分娩日期应在末次月经 20 周之后"
	case !lmp.IsZero() && delivered.After(lmp.AddDays(7*46)):
		return "分娩日期应在末次月经 46 周之内"
	}
	return ""
}

// Anchors returns the dates the enrolment's schedule counts from.
func (e *EnrolmentForm) Anchors(birth civil.Date) Anchors {
	return Anchors{EnrolledOn: e.EnrolledOn, Birth: birth, DischargedOn: e.DischargedOn, LMP: e.LMPDate, DeliveredOn: e.DeliveredOn}
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
