// Package entry holds the service entries of a health record (DESIGN §4,
// 动态记录) — visits, two-way referrals, follow-ups, consultations and
// hospitalisations — and the key-population programme enrolments they hang
// off (DESIGN §3 part 3). Domain types and their rules only; no SQL.
package entry

import (
	"strings"
	"time"
	"unicode/utf8"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// Kind is the kind of a service entry.
type Kind string

// The entry kinds, as stored and as the kind field of the API shows them.
const (
	KindVisit           Kind = "visit"
	KindReferral        Kind = "referral"
	KindFollowup        Kind = "followup"
	KindConsultation    Kind = "consultation"
	KindHospitalisation Kind = "hospitalisation"
	// The key populations' scheduled services (DESIGN §3 part 3).
	KindChildVisit    Kind = "child_visit"    // 儿童健康管理: newborn visit, health checks
	KindMaternalVisit Kind = "maternal_visit" // 孕产妇健康管理: antenatal, postpartum
	KindElderlyCheck  Kind = "elderly_check"  // 老年人健康管理: the annual one
)

// Kinds lists every kind, in the order the record page shows them.
var Kinds = []Kind{KindVisit, KindReferral, KindFollowup, KindConsultation, KindHospitalisation,
	KindChildVisit, KindMaternalVisit, KindElderlyCheck}

// Programme returns the programme whose schedule entries of kind k serve:
// an entry of such a kind needs an active enrolment in it. Empty for the
// kinds that need none; a follow-up names its own programme.
func (k Kind) Programme() Programme {
	switch k {
	case KindChildVisit:
		return Children06
	case KindMaternalVisit:
		return Maternal
	case KindElderlyCheck:
		return Elderly
	}
	return ""
}

// Plural is the kind's path segment, /records/{id}/{plural}, and the name of
// its write section, entries.<plural>.
func (k Kind) Plural() string { return string(k) + "s" }

// Section is the record section a create of this kind writes.
func (k Kind) Section() string { return "entries." + k.Plural() }

// Chinese returns the kind's name on the paper forms.
func (k Kind) Chinese() string {
	switch k {
	case KindVisit:
		return "接诊记录"
	case KindReferral:
		return "双向转诊"
	case KindFollowup:
		return "随访记录"
	case KindConsultation:
		return "会诊记录"
	case KindHospitalisation:
		return "住院记录"
	case KindChildVisit:
		return "儿童健康管理记录"
	case KindMaternalVisit:
		return "孕产妇健康管理记录"
	case KindElderlyCheck:
		return "老年人健康管理记录"
	}
	return string(k)
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Meta are the fields of an entry the service sets: never sent by a client.
type Meta struct {
	ID              int64     `json:"id"`
	RecordID        string    `json:"record_id"`
	Kind            Kind      `json:"kind"`
	InstitutionCode string    `json:"institution_code"`
	CreatedAt       time.Time `json:"created_at"`
	CreatedBy       string    `json:"created_by"`
	// Conforming is whether the entry met its kind's service specification
	// when it was written (Conforms, as the store computed it).
	Conforming bool `json:"-"`
}

// Head returns the entry's service-set fields.
func (m *Meta) Head() *Meta { return m }

// Base are the common fields a client sends with every entry: the date of
// service and the doctor (a staff code; the caller when empty).
type Base struct {
	ServiceDate civil.Date `json:"service_date"`
	StaffCode   string     `json:"staff_code"`
}

// Basics returns the entry's date of service and doctor.
func (b *Base) Basics() *Base { return b }

func (b *Base) validate(fe *apperr.FieldErrors, today civil.Date) {
	b.StaffCode = strings.TrimSpace(b.StaffCode)
	switch {
	case b.ServiceDate.IsZero():
		fe.Add("service_date", "服务日期不能为空")
	case b.ServiceDate.After(today):
		fe.Add("service_date", "服务日期不能晚于今天")
	case b.ServiceDate.Before(civil.New(1900, 1, 1)):
		fe.Add("service_date", "服务日期不能早于 1900-01-01")
	}
}

// Entry is a service entry of any kind. Each kind is a struct of Meta, a
// form (Base and the kind's own fields, what a client sends) and, for a
// referral, the state its transitions write.
type Entry interface {
	Head() *Meta
	Basics() *Base
	// Form returns a pointer to what a client sends to create the entry.
	Form() any
	// Own returns a pointer to the kind's own fields, stored whole.
	Own() any
	// Validate checks a new entry: the common fields and the kind's own.
	// It may normalise (trim) what it checks.
	Validate(today civil.Date) error
}

// New returns an empty entry of kind k, or nil for an unknown kind.
func New(k Kind) Entry {
	var e Entry
	switch k {
	case KindVisit:
		e = &Visit{}
	case KindReferral:
		e = &Referral{}
	case KindFollowup:
		e = &Followup{}
	case KindConsultation:
		e = &Consultation{}
	case KindHospitalisation:
		e = &Hospitalisation{}
	case KindChildVisit:
		e = &ChildVisit{}
	case KindMaternalVisit:
		e = &MaternalVisit{}
	case KindElderlyCheck:
		e = &ElderlyCheck{}
	default:
		return nil
	}
	e.Head().Kind = k
	return e
}

// MaxText bounds a free-text field, in characters.
const MaxText = 4000

// text trims a free-text field and checks its length, and presence when required.
func text(fe *apperr.FieldErrors, field string, s *string, required bool, what string) {
	*s = strings.TrimSpace(*s)
	switch {
	case *s == "" && required:
		fe.Add(field, what+"不能为空")
	case utf8.RuneCountInString(*s) > MaxText:
		fe.Add(field, what+"最多 4000 个字")
	case strings.ContainsRune(*s, 0):
		fe.Add(field, what+"含有非法字符")
	}
}

// dateIn checks an optional or required date lies between lo (when set) and today.
func dateIn(fe *apperr.FieldErrors, field string, d civil.Date, required bool, lo civil.Date, loWhat string, today civil.Date) {
	switch {
	case d.IsZero():
		if required {
			fe.Add(field, "日期不能为空")
		}
	case d.After(today):
		fe.Add(field, "日期不能晚于今天")
	case !lo.IsZero() && d.Before(lo):
		fe.Add(field, "日期不能早于"+loWhat)
	}
}
