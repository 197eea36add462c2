package ident

import "strconv"

// RecordID is a resident health-record number: the 12-digit code of the
// village where the record is filed followed by a 4-digit serial within that
// village, 16 ASCII digits in all. Values obtained from ParseRecordID or
// NewRecordID are always well-formed; the zero value "" means "no record".
type RecordID string

// MaxSerial is the largest serial a village can issue. Serial 0000 is never
// issued, so a village holds at most 9999 records.
const MaxSerial = 9999

const (
	recordIDLen = villageLen + 4
	// serialWidth is the fixed width of the serial, zero-padded.
	serialWidth = 4
)

// ParseRecordID validates s as a record number: exactly 16 ASCII digits, the
// first 12 a valid village code (see ClassOfVillage), the last 4 a serial in
// 0001–9999. Failures are an *Error for field record_id wrapping ErrFormat.
// Whether the village is registered is not known here; the caller checks it
// against the database.
func ParseRecordID(s string) (RecordID, error) {
	if len(s) != recordIDLen || !allDigits(s) {
		return "", fieldErr(FieldRecordID, ErrFormat, "档案编号应为16位数字")
	}
	if _, err := ClassOfVillage(s[:villageLen]); err != nil {
		return "", fieldErr(FieldRecordID, ErrFormat, "档案编号前12位不是有效的村级区划代码")
	}
	if s[villageLen:] == "0000" {
		return "", fieldErr(FieldRecordID, ErrFormat, "档案编号序号应为0001–9999")
	}
	return RecordID(s), nil
}

// NewRecordID builds the record number for serial within village. An invalid
// village gives ClassOfVillage's error (field code); a serial outside
// 1..MaxSerial gives an *Error for field record_id wrapping ErrFormat, which
// is how a caller allocating serials learns the village is full.
func NewRecordID(village string, serial int) (RecordID, error) {
	if _, err := ClassOfVillage(village); err != nil {
		return "", err
	}
	if serial < 1 || serial > MaxSerial {
		return "", fieldErr(FieldRecordID, ErrFormat, "档案编号序号应为0001–9999")
	}
	s := strconv.Itoa(serial)
	for len(s) < serialWidth {
		s = "0" + s
	}
	return RecordID(village + s), nil
}

// Village returns the 12-digit village code, or "" if r is not well-formed
// (e.g. the zero value).
func (r RecordID) Village() string {
	if len(r) != recordIDLen {
		return ""
	}
	return string(r[:villageLen])
}

// Serial returns the serial within the village, or 0 if r is not well-formed.
func (r RecordID) Serial() int {
	if len(r) != recordIDLen {
		return 0
	}
	// Digit by digit rather than strconv.Atoi, which would accept "+001"
	// or "-001" in a RecordID built by conversion instead of parsing.
	n := 0
	for i := villageLen; i < recordIDLen; i++ {
		c := r[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// String returns the 16-digit number.
func (r RecordID) String() string { return string(r) }
