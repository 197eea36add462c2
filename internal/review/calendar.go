package review

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// DayKind marks a calendar exception: a public holiday, or a make-up working
// day (调休上班) on a weekend.
type DayKind string

// The two kinds of calendar exceptions.
const (
	Holiday DayKind = "holiday"
	Workday DayKind = "workday"
)

// Calendar answers which days are working days: Monday to Friday, except
// holidays, plus make-up working days. It is built from the stored
// exceptions of every year, so that arithmetic may cross a year's end.
type Calendar struct {
	kinds map[string]DayKind
}

// NewCalendar builds a calendar from holidays and make-up working days.
func NewCalendar(holidays, workdays []civil.Date) *Calendar {
	c := &Calendar{kinds: make(map[string]DayKind, len(holidays)+len(workdays))}
	for _, d := range holidays {
		c.kinds[d.String()] = Holiday
	}
	for _, d := range workdays {
		c.kinds[d.String()] = Workday
	}
	return c
}

// IsWorkday reports whether d is a working day.
func (c *Calendar) IsWorkday(d civil.Date) bool {
	switch c.kinds[d.String()] {
	case Holiday:
		return false
	case Workday:
		return true
	}
	wd := d.Time().Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkdays returns the nth working day after d, d itself not counted:
// "within 20 working days after acceptance" ends on AddWorkdays(accepted, 20),
// and that day is still on time.
func (c *Calendar) AddWorkdays(d civil.Date, n int) civil.Date {
	for n > 0 {
		d = d.AddDays(1)
		if c.IsWorkday(d) {
			n--
		}
	}
	return d
}

// WorkdaysAfter counts the working days after d up to and including e; zero
// when e is not after d. A case's deadline is overdue by WorkdaysAfter(due, today).
func (c *Calendar) WorkdaysAfter(d, e civil.Date) int {
	n := 0
	for x := d.AddDays(1); !x.After(e); x = x.AddDays(1) {
		if c.IsWorkday(x) {
			n++
		}
	}
	return n
}

// CalendarYear is one year's exceptions, as GET/PUT /calendar/{year} shows them.
type CalendarYear struct {
	Year     int          `json:"year"`
	Holidays []civil.Date `json:"holidays"`
	Workdays []civil.Date `json:"workdays"`
}

// Normalize sorts and deduplicates the dates and checks them: every date in
// the year, none both a holiday and a working day, and make-up working days
// on a Saturday or Sunday (a weekday is a working day anyway).
func (y *CalendarYear) Normalize() error {
	var fe apperr.FieldErrors
	if y.Year < 1900 || y.Year > 9999 {
		fe.Add("year", "年份应在 1900–9999 之间")
		return fe.Err()
	}
	// Indexes in field names refer to the lists as sent, so check before sorting.
	holiday := map[string]bool{}
	for i, d := range y.Holidays {
		field := fmt.Sprintf("holidays[%d]", i)
		switch {
		case d.IsZero():
			fe.Add(field, "日期不能为空")
		case d.Year() != y.Year:
			fe.Add(field, fmt.Sprintf("%s 不在 %d 年", d, y.Year))
		}
		holiday[d.String()] = true
	}
	for i, d := range y.Workdays {
		field := fmt.Sprintf("workdays[%d]", i)
		switch {
		case d.IsZero():
			fe.Add(field, "日期不能为空")
		case d.Year() != y.Year:
			fe.Add(field, fmt.Sprintf("%s 不在 %d 年", d, y.Year))
		case holiday[d.String()]:
			fe.Add(field, fmt.Sprintf("%s 不能既是节假日又是调休上班日", d))
		case d.Time().Weekday() != time.Saturday && d.Time().Weekday() != time.Sunday:
			fe.Add(field, fmt.Sprintf("%s 是工作日，调休上班日应为周六或周日", d))
		}
	}
	if err := fe.Err(); err != nil {
		return err
	}
	y.Holidays = sortDates(y.Holidays)
	y.Workdays = sortDates(y.Workdays)
	return nil
}

func sortDates(ds []civil.Date) []civil.Date {
	out := slices.Clone(ds)
	slices.SortFunc(out, func(a, b civil.Date) int { return strings.Compare(a.String(), b.String()) })
	out = slices.CompactFunc(out, func(a, b civil.Date) bool { return a.String() == b.String() })
	if out == nil {
		out = []civil.Date{}
	}
	return out
}

// ParseCalendarCSV reads one year's exceptions from CSV with the header
// `date,kind`, kind being holiday or workday. Every bad row is reported with
// its line number; the result is normalized.
func ParseCalendarCSV(r io.Reader, year int) (*CalendarYear, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	out := &CalendarYear{Year: year, Holidays: []civil.Date{}, Workdays: []civil.Date{}}
	var fe apperr.FieldErrors
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, apperr.InvalidField("file", "CSV 为空，第一行应为 date,kind")
		}
		return nil, apperr.InvalidField("file", "CSV 格式错误: "+err.Error())
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if len(header) != 2 || strings.TrimSpace(header[0]) != "date" || strings.TrimSpace(header[1]) != "kind" {
		return nil, apperr.InvalidField("file", "第 1 行应为表头 date,kind")
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			fe.Add("file", fmt.Sprintf("第 %d 行：CSV 格式错误", line))
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != 2 {
			fe.Add("file", fmt.Sprintf("第 %d 行：应有 2 列（date,kind），实有 %d 列", line, len(rec)))
			continue
		}
		d, err := civil.Parse(strings.TrimSpace(rec[0]))
		if err != nil {
			fe.Add("date", fmt.Sprintf("第 %d 行：%v", line, err))
			continue
		}
		switch DayKind(strings.TrimSpace(rec[1])) {
		case Holiday:
			out.Holidays = append(out.Holidays, d)
		case Workday:
			out.Workdays = append(out.Workdays, d)
		default:
			fe.Add("kind", fmt.Sprintf("第 %d 行：kind 应为 holiday 或 workday", line))
		}
		if len(fe) > 100 {
			break
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if err := out.Normalize(); err != nil {
		return nil, err
	}
	return out, nil
}
