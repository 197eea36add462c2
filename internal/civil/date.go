// Package civil holds the calendar date type used for every date field (birth,
// filing, service): dates without a time of day or zone, as YYYY-MM-DD.
package civil

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// Layout is the one date format of the API and CSV files.
const Layout = "2006-01-02"

// Date is a calendar date. The zero Date means "no date" and is null in JSON
// and NULL in the database.
type Date struct{ t time.Time }

// New returns the date y-m-d.
func New(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// Of returns the calendar date of t in t's location.
func Of(t time.Time) Date { return New(t.Year(), t.Month(), t.Day()) }

// Parse reads YYYY-MM-DD, rejecting impossible dates such as 2023-02-29.
func Parse(s string) (Date, error) {
	t, err := time.Parse(Layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("日期格式应为 YYYY-MM-DD 且为真实日期: %q", s)
	}
	return Date{t}, nil
}

// MustParse is Parse for constants in tests and fixtures.
func MustParse(s string) Date {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d is the zero ("no date") value.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return d.t }

// Year returns d's year.
func (d Date) Year() int { return d.t.Year() }

// YearStart returns the first day of d's year.
func (d Date) YearStart() Date { return New(d.t.Year(), time.January, 1) }

// MonthStart returns the first day of d's month.
func (d Date) MonthStart() Date { return New(d.t.Year(), d.t.Month(), 1) }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// AddMonths returns d moved by n calendar months, clamped to the month's last
// day (2024-01-31 + 1 month = 2024-02-29), as people count "three months later".
func (d Date) AddMonths(n int) Date {
	y, m, day := d.t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if day > last {
		day = last
	}
	return Date{time.Date(first.Year(), first.Month(), day, 0, 0, 0, 0, time.UTC)}
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// DaysUntil returns the number of days from d to e (negative when e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.t.Sub(d.t).Hours() / 24) }

// String formats d as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.AppendISO(make([]byte, 0, len(Layout))))
}

// AppendISO appends d as YYYY-MM-DD (nothing for the zero Date). Digit by
// digit rather than by time's layout interpreter: an import writes tens of
// millions of dates, and Format was a tenth of its Go CPU.
func (d Date) AppendISO(b []byte) []byte {
	if d.IsZero() {
		return b
	}
	y, m, day := d.t.Date()
	if y < 0 || y > 9999 {
		return d.t.AppendFormat(b, Layout)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+day/10), byte('0'+day%10))
}

// MarshalJSON writes "YYYY-MM-DD" or null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD", "" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("日期应为字符串 YYYY-MM-DD")
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Value stores d as a DATE, or NULL.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.t, nil
}

// Scan reads a DATE column.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
	case time.Time:
		*d = New(v.Year(), v.Month(), v.Day())
	case string:
		p, err := Parse(v[:min(len(v), 10)])
		if err != nil {
			return err
		}
		*d = p
	case []byte:
		return d.Scan(string(v))
	default:
		return fmt.Errorf("civil.Date: cannot scan %T", src)
	}
	return nil
}
