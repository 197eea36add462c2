// Package record holds the resident health record (DESIGN §3): personal basic
// information, health examinations, status, and the rules a record must keep.
package record

import (
	"database/sql/driver"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
)

// Status is a record's life-cycle state. Only active records count in the rates.
type Status string

// The record statuses.
const (
	Active   Status = "active"
	MovedOut Status = "moved_out"
	Deceased Status = "deceased"
)

// Residence types (户籍/非户籍).
const (
	ResidenceRegistered   = "户籍"
	ResidenceUnregistered = "非户籍"
)

// Record is the personal basic information part of a health record, with the
// filing facts. Field names are the API's and the import CSV's.
type Record struct {
	RecordID          string     `json:"record_id" db:"record_id"`
	VillageCode       string     `json:"village_code" db:"village_code"`
	Name              string     `json:"name" db:"name"`
	Sex               string     `json:"sex" db:"sex"`
	BirthDate         civil.Date `json:"birth_date" db:"birth_date"`
	IDNumber          string     `json:"id_number" db:"id_number"`
	ResidenceType     string     `json:"residence_type" db:"residence_type"`
	Ethnicity         string     `json:"ethnicity" db:"ethnicity"`
	Phone             string     `json:"phone" db:"phone"`
	ContactName       string     `json:"contact_name" db:"contact_name"`
	ContactPhone      string     `json:"contact_phone" db:"contact_phone"`
	ResponsibleDoctor string     `json:"responsible_doctor" db:"responsible_doctor"`
	FiledOn           civil.Date `json:"filed_on" db:"filed_on"`
	FiledBy           string     `json:"filed_by" db:"filed_by"`
	FilingInstitution string     `json:"filing_institution" db:"filing_institution"`
	Status            Status     `json:"status" db:"status"`
	StatusDate        civil.Date `json:"status_date" db:"status_date"`
	Destination       string     `json:"destination,omitempty" db:"destination"`
	// BasicInfo is the rest of the personal basic information table, coded
	// (basicinfo.go); its items are the record's own JSON fields. The store
	// reads and writes it as StoredBasicInfo.
	BasicInfo `db:"-"`
	// DetailsUnmapped keeps what the free-form details of earlier versions
	// held that migration 00024 could not carry into BasicInfo: nothing is
	// dropped, and a doctor transcribes it by hand (then clears it).
	DetailsUnmapped Details   `json:"details_unmapped" db:"details_unmapped"`
	Version         int       `json:"version" db:"version"`
	Created         time.Time `json:"created_at" db:"created_at"`
	Updated         time.Time `json:"updated_at" db:"updated_at"`
}

// Summary is a record as lists show it: identity number masked unless the
// caller may see the full record.
type Summary struct {
	RecordID          string     `json:"record_id" db:"record_id"`
	VillageCode       string     `json:"village_code" db:"village_code"`
	VillageName       string     `json:"village_name" db:"village_name"`
	Name              string     `json:"name" db:"name"`
	Sex               string     `json:"sex" db:"sex"`
	BirthDate         civil.Date `json:"birth_date" db:"birth_date"`
	IDNumber          string     `json:"id_number" db:"id_number"`
	ResponsibleDoctor string     `json:"responsible_doctor" db:"responsible_doctor"`
	Status            Status     `json:"status" db:"status"`
}

var (
	mobileRe   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	landlineRe = regexp.MustCompile(`^0[0-9]{2,3}-?[0-9]{7,8}$`)
)

// ValidPhone reports whether p is an 11-digit mobile number or a landline with
// its area code (quality rule Q8).
func ValidPhone(p string) bool { return mobileRe.MatchString(p) || landlineRe.MatchString(p) }

// Normalize trims text fields and upper-cases the identity number's check character.
func (r *Record) Normalize() {
	for _, f := range []*string{&r.Name, &r.Sex, &r.IDNumber, &r.ResidenceType, &r.Ethnicity, &r.Phone,
		&r.ContactName, &r.ContactPhone, &r.ResponsibleDoctor, &r.VillageCode, &r.Destination} {
		*f = strings.TrimSpace(*f)
	}
	r.IDNumber = strings.ToUpper(r.IDNumber)
	if r.DetailsUnmapped == nil {
		r.DetailsUnmapped = Details{}
	}
	r.BasicInfo.Normalize()
}

// Validate checks the basic information a doctor enters. today bounds birth
// dates. Legacy imports are laxer: the quality rules report their gaps instead.
func (r *Record) Validate(today civil.Date) error {
	r.Normalize()
	var fe apperr.FieldErrors
	if r.Name == "" {
		fe.Add("name", "姓名不能为空")
	} else if len([]rune(r.Name)) > 50 {
		fe.Add("name", "姓名最多 50 个字")
	}
	if r.Sex != "M" && r.Sex != "F" {
		fe.Add("sex", "性别应为 M（男）或 F（女）")
	}
	switch {
	case r.BirthDate.IsZero():
		fe.Add("birth_date", "出生日期不能为空")
	case r.BirthDate.After(today):
		fe.Add("birth_date", "出生日期不能晚于今天")
	case r.BirthDate.Before(civil.New(1900, 1, 1)):
		fe.Add("birth_date", "出生日期不能早于 1900-01-01")
	}
	if r.IDNumber != "" {
		n, err := ident.ParseIDNumber(r.IDNumber)
		if err != nil {
			fe.Add("id_number", reasonOf(err))
		} else {
			r.IDNumber = n.Number
			sex := ident.Sex(r.Sex)
			if sex != ident.Male && sex != ident.Female {
				sex = "" // already reported; do not report it twice
			}
			for _, e := range splitErrors(n.CheckAgainst(r.BirthDate.Time(), sex)) {
				fe.Add(fieldOf(e, "id_number"), reasonOf(e))
			}
		}
	}
	if r.ResidenceType != "" && r.ResidenceType != ResidenceRegistered && r.ResidenceType != ResidenceUnregistered {
		fe.Add("residence_type", "常住类型应为“户籍”或“非户籍”")
	}
	if r.Phone != "" && !ValidPhone(r.Phone) {
		fe.Add("phone", "应为 11 位手机号或带区号的固定电话")
	}
	if r.ContactPhone != "" && !ValidPhone(r.ContactPhone) {
		fe.Add("contact_phone", "应为 11 位手机号或带区号的固定电话")
	}
	fe = append(fe, r.BasicInfo.Validate(today)...)
	if r.Status == "" {
		r.Status = Active
	}
	return fe.Err()
}

// splitErrors undoes errors.Join.
func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func reasonOf(err error) string {
	if e, ok := err.(*ident.Error); ok {
		return e.Reason
	}
	return err.Error()
}

func fieldOf(err error, fallback string) string {
	if e, ok := err.(*ident.Error); ok && e.Field != "" {
		return e.Field
	}
	return fallback
}

// Details is a JSON object of free-form form sections.
type Details map[string]any

// Value stores Details as JSON.
func (d Details) Value() (driver.Value, error) {
	if d == nil {
		return "{}", nil
	}
	b, err := json.Marshal(d)
	// A string, not []byte: the driver sends []byte as binary, which jsonb
	// does not take (postgres.Open).
	return string(b), err
}

// Scan reads a JSON column.
func (d *Details) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*d = Details{}
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	}
	m := Details{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*d = m
	return nil
}
