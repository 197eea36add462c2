package ident

import "errors"

// Sentinel errors, wrapped by every *Error this package returns. Their English
// text complements the Chinese Error.Reason when a message needs both.
var (
	// ErrFormat means wrong length, wrong characters, or a structurally
	// impossible code (zero segment, prefecture code, serial 0000, …).
	ErrFormat = errors.New("malformed identifier")
	// ErrDate means the birth date in an identity number is not a real
	// calendar date or lies before 1900-01-01.
	ErrDate = errors.New("impossible birth date")
	// ErrCheckChar means the 18th character of an identity number is not
	// the ISO 7064 MOD 11-2 check character of the first 17.
	ErrCheckChar = errors.New("wrong check character")
	// ErrMismatch means a separately entered birth date or sex contradicts
	// the identity number.
	ErrMismatch = errors.New("contradicts identity number")
)

// API field names used in Error.Field. They match the request/response field
// names so a handler can pass an *Error straight through as a field error.
const (
	FieldIDNumber  = "id_number"
	FieldBirthDate = "birth_date"
	FieldSex       = "sex"
	FieldRecordID  = "record_id"
	FieldCode      = "code"
)

// Error is a validation failure of one field. Field is the API field name,
// Reason a short Simplified-Chinese explanation for the user, and Err one of
// the sentinel errors above, so errors.Is(err, ErrCheckChar) works.
type Error struct {
	Field  string
	Reason string
	Err    error
}

// Error renders "field: 中文原因 (english sentinel)", readable in logs by
// either audience.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Field + ": " + e.Reason
	}
	return e.Field + ": " + e.Reason + " (" + e.Err.Error() + ")"
}

// Unwrap returns the sentinel error, for errors.Is.
func (e *Error) Unwrap() error { return e.Err }

func fieldErr(field string, sentinel error, reason string) *Error {
	return &Error{Field: field, Reason: reason, Err: sentinel}
}

// allDigits reports whether s is non-empty and only ASCII digits. Unicode
// digits (全角数字 and the like) are rejected on purpose: identifiers are
// stored and compared byte-wise.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
