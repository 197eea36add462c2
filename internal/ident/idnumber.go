package ident

import (
	"errors"
	"time"
)

// Sex is a resident's sex as encoded in the identity number.
type Sex string

// Sex values; the single letters are what the API and database use.
const (
	Male   Sex = "M"
	Female Sex = "F"
)

// IDNumber is a parsed 18-character resident identity number (GB 11643):
// a 6-digit address code, the birth date YYYYMMDD, a 3-digit order code whose
// parity gives the sex, and a check character.
type IDNumber struct {
	// Number is the 18 characters with a trailing lowercase x normalised to
	// X, so equal numbers compare equal and hit the same unique index.
	Number string
	// Birth is the encoded birth date at midnight UTC.
	Birth time.Time
	// Sex comes from the 17th character: odd male, even female.
	Sex Sex
}

const (
	idLen = 18
	// minBirthYear is the earliest year accepted. GB 11643 allows 18xx in
	// principle, but nobody born then is alive to be filed, so an 18xx date
	// is a typo.
	minBirthYear = 1900
)

// checkWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 for the
// first 17 positions.
var checkWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the weighted sum mod 11 to the check character.
const checkChars = "10X98765432"

// CheckChar returns the ISO 7064 MOD 11-2 check character ('0'–'9' or 'X')
// for the first 17 characters of an identity number. It returns 0 if first17
// is not exactly 17 ASCII digits, so it never panics on user input.
func CheckChar(first17 string) byte {
	if len(first17) != len(checkWeights) || !allDigits(first17) {
		return 0
	}
	sum := 0
	for i, w := range checkWeights {
		sum += int(first17[i]-'0') * w
	}
	return checkChars[sum%11]
}

// ParseIDNumber validates an 18-character identity number and extracts its
// birth date and sex. Checks run in this order, and the first failure is
// returned as an *Error for field id_number:
//
//   - ErrFormat: not 17 ASCII digits followed by a digit, X or x. The
//     15-digit numbers of before 1999 are not accepted; surrounding spaces
//     are not trimmed (that is the caller's input hygiene).
//   - ErrDate: YYYYMMDD is not a real calendar date (19990230, 20230229) or
//     is before 1900-01-01. Dates in the future are not checked here because
//     "today" belongs to the caller; use BornAfter.
//   - ErrCheckChar: the last character is not CheckChar of the first 17.
//
// The date is checked before the check character so that a number with an
// impossible date reports the more useful "出生日期不存在".
func ParseIDNumber(s string) (IDNumber, error) {
	if len(s) != idLen || !allDigits(s[:idLen-1]) {
		return IDNumber{}, fieldErr(FieldIDNumber, ErrFormat, "身份证号应为18位，前17位为数字")
	}
	last := s[idLen-1]
	switch {
	case last == 'x':
		last = 'X'
		s = s[:idLen-1] + "X"
	case last == 'X' || (last >= '0' && last <= '9'):
	default:
		return IDNumber{}, fieldErr(FieldIDNumber, ErrFormat, "身份证号末位应为数字或X")
	}

	y := atoi(s[6:10])
	m := atoi(s[10:12])
	d := atoi(s[12:14])
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	// time.Date normalises 02-30 to 03-02; a date that does not survive the
	// round trip does not exist.
	if birth.Year() != y || int(birth.Month()) != m || birth.Day() != d {
		return IDNumber{}, fieldErr(FieldIDNumber, ErrDate, "出生日期不存在")
	}
	if y < minBirthYear {
		return IDNumber{}, fieldErr(FieldIDNumber, ErrDate, "出生日期早于1900年")
	}

	if CheckChar(s[:idLen-1]) != last {
		return IDNumber{}, fieldErr(FieldIDNumber, ErrCheckChar, "校验码错误")
	}

	sex := Female
	if (s[16]-'0')%2 == 1 {
		sex = Male
	}
	return IDNumber{Number: s, Birth: birth, Sex: sex}, nil
}

// atoi converts a string already known to be ASCII digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// BornAfter reports whether the encoded birth date is later than the calendar
// date of t (in t's location). Callers pass their own "today" to reject
// numbers of people not yet born; someone born today is not after today.
func (n IDNumber) BornAfter(t time.Time) bool {
	y, m, d := t.Date()
	return n.Birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// CheckAgainst reports whether a separately entered birth date and sex agree
// with the number. A zero birth or empty sex is not compared, so partial
// forms can be checked. Birth is compared as a calendar date in its own
// location, so a local-midnight time.Time matches. A contradiction is an
// *Error wrapping ErrMismatch whose Field names the entered field
// (birth_date or sex); if both contradict, the two errors are joined with
// errors.Join, birth_date first.
func (n IDNumber) CheckAgainst(birth time.Time, sex Sex) error {
	var errs []error
	if !birth.IsZero() {
		y, m, d := birth.Date()
		if !n.Birth.Equal(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
			errs = append(errs, fieldErr(FieldBirthDate, ErrMismatch, "与身份证号中的出生日期不符"))
		}
	}
	if sex != "" && sex != n.Sex {
		errs = append(errs, fieldErr(FieldSex, ErrMismatch, "与身份证号中的性别不符"))
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// maskedMiddle hides the 8-digit birth date of an 18-character number, the
// part that together with the name identifies a person.
const maskedMiddle = "********"

// Mask hides an identity number for display and logs. An 18-character value
// keeps its first 6 (the region, useful to staff) and last 4:
// 330106********123X. Any other length — a malformed or legacy number —
// keeps only its last 4, and one of 4 or fewer characters is returned as is
// since the rule reveals the last 4 anyway. Characters are counted as runes
// so a mistyped full-width digit never yields broken UTF-8.
func Mask(s string) string {
	r := []rune(s) // invalid bytes become U+FFFD, keeping the output valid UTF-8
	n := len(r)
	if n == idLen {
		return string(r[:6]) + maskedMiddle + string(r[idLen-4:])
	}
	if n <= 4 {
		return string(r)
	}
	out := make([]rune, n)
	for i := range out {
		out[i] = '*'
	}
	copy(out[n-4:], r[n-4:])
	return string(out)
}
