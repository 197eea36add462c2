package review_test

import (
	"strings"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/review"
)

// nationalDay2026 is the 2026 National Day calendar: 1–7 October off, with the
// make-up working days Sunday 20 September and Saturday 10 October, plus New
// Year's Day 2027 so that arithmetic crosses a year's end.
func nationalDay2026() *review.Calendar {
	var hol []civil.Date
	for d := civil.MustParse("2026-10-01"); !d.After(civil.MustParse("2026-10-07")); d = d.AddDays(1) {
		hol = append(hol, d)
	}
	hol = append(hol, civil.MustParse("2027-01-01"))
	return review.NewCalendar(hol, []civil.Date{civil.MustParse("2026-09-20"), civil.MustParse("2026-10-10")})
}

func TestAddWorkdays(t *testing.T) {
	cal := nationalDay2026()
	plain := review.NewCalendar(nil, nil)
	tests := []struct {
		name string
		cal  *review.Calendar
		from string
		n    int
		want string
	}{
		{"WithinWeek", cal, "2026-06-01", 3, "2026-06-04"},
		{"Zero", cal, "2026-06-05", 0, "2026-06-05"},
		{"OverWeekend", cal, "2026-06-05", 1, "2026-06-08"},
		{"FromSaturday", cal, "2026-06-06", 1, "2026-06-08"},
		{"OverHolidayBlock", cal, "2026-09-30", 1, "2026-10-08"},
		{"MakeUpSaturday", cal, "2026-10-08", 2, "2026-10-10"},
		{"SundayAfterMakeUpSaturday", cal, "2026-10-08", 3, "2026-10-12"},
		{"MakeUpSunday", cal, "2026-09-18", 1, "2026-09-20"},
		{"Investigation20OverNationalDay", cal, "2026-09-25", 20, "2026-10-29"},
		{"Investigation20NoHolidays", plain, "2026-09-25", 20, "2026-10-23"},
		{"Serving10OverNationalDay", cal, "2026-09-29", 10, "2026-10-19"},
		{"Extension10", cal, "2026-10-29", 10, "2026-11-12"},
		{"OverNewYear", cal, "2026-12-31", 1, "2027-01-04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.AddWorkdays(civil.MustParse(tt.from), tt.n).String(); got != tt.want {
				t.Fatalf("AddWorkdays(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
			}
		})
	}
}

func TestIsWorkday(t *testing.T) {
	cal := nationalDay2026()
	for day, want := range map[string]bool{
		"2026-09-19": false, // Saturday
		"2026-09-20": true,  // make-up Sunday
		"2026-10-01": false, // holiday, Thursday
		"2026-10-03": false, // holiday on a Saturday
		"2026-10-09": true,  // Friday
		"2026-10-10": true,  // make-up Saturday
		"2026-10-11": false, // Sunday
	} {
		if got := cal.IsWorkday(civil.MustParse(day)); got != want {
			t.Errorf("IsWorkday(%s) = %v, want %v", day, got, want)
		}
	}
}

func TestWorkdaysAfter(t *testing.T) {
	cal := nationalDay2026()
	tests := []struct {
		name, from, to string
		want           int
	}{
		{"Same", "2026-10-08", "2026-10-08", 0},
		{"Earlier", "2026-10-08", "2026-10-01", 0},
		{"HolidayBlock", "2026-09-30", "2026-10-07", 0},
		{"ThroughMakeUpSaturday", "2026-09-30", "2026-10-12", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.WorkdaysAfter(civil.MustParse(tt.from), civil.MustParse(tt.to)); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCalendarYearNormalize(t *testing.T) {
	d := civil.MustParse
	tests := []struct {
		name  string
		y     review.CalendarYear
		field string
	}{
		{"OK", review.CalendarYear{Year: 2026, Holidays: []civil.Date{d("2026-10-02"), d("2026-10-01"), d("2026-10-01")}, Workdays: []civil.Date{d("2026-10-10")}}, ""},
		{"ErrOtherYear", review.CalendarYear{Year: 2026, Holidays: []civil.Date{d("2027-01-01")}}, "holidays[0]"},
		{"ErrBoth", review.CalendarYear{Year: 2026, Holidays: []civil.Date{d("2026-10-10")}, Workdays: []civil.Date{d("2026-10-10")}}, "workdays[0]"},
		{"ErrWeekdayWorkday", review.CalendarYear{Year: 2026, Workdays: []civil.Date{d("2026-10-10"), d("2026-10-09")}}, "workdays[1]"},
		{"ErrYear", review.CalendarYear{Year: 10000}, "year"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.y.Normalize()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := len(tt.y.Holidays); got != 2 || tt.y.Holidays[0].String() != "2026-10-01" {
					t.Fatalf("holidays not sorted and deduplicated: %v", tt.y.Holidays)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Fatalf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestParseCalendarCSV(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		y, err := review.ParseCalendarCSV(strings.NewReader("\ufeffdate,kind\n2026-10-01,holiday\n2026-10-02,holiday\n\n2026-10-10,workday\n"), 2026)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(y.Holidays), 2; got != want {
			t.Fatalf("holidays %d, want %d", got, want)
		}
		if got, want := y.Workdays[0].String(), "2026-10-10"; got != want {
			t.Fatalf("workday %s, want %s", got, want)
		}
	})
	bad := []struct {
		name, csv, field, inReason string
	}{
		{"ErrHeader", "day,kind\n", "file", "第 1 行"},
		{"ErrEmpty", "", "file", "为空"},
		{"ErrDate", "date,kind\n2026-10-01,holiday\n2026-02-30,holiday\n", "date", "第 3 行"},
		{"ErrKind", "date,kind\n2026-10-01,vacation\n", "kind", "第 2 行"},
		{"ErrColumns", "date,kind\n2026-10-01\n", "file", "第 2 行"},
		{"ErrYear", "date,kind\n2025-10-01,holiday\n", "holidays[0]", "2025"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := review.ParseCalendarCSV(strings.NewReader(tt.csv), 2026)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 {
				t.Fatalf("err = %v, want invalid", err)
			}
			if f := e.Fields[0]; f.Field != tt.field || !strings.Contains(f.Reason, tt.inReason) {
				t.Fatalf("field error %+v, want %s mentioning %q", f, tt.field, tt.inReason)
			}
		})
	}
}
