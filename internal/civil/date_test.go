package civil

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAddMonths(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2024-01-31", 3, "2024-04-30"},
		{"2023-11-29", 3, "2024-02-29"},
		{"2023-11-30", 3, "2024-02-29"},
		{"2022-11-30", 3, "2023-02-28"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-05-15", 3, "2024-08-15"},
		{"2024-12-31", 2, "2025-02-28"},
	}
	for _, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			if got := MustParse(tt.from).AddMonths(tt.n).String(); got != tt.want {
				t.Errorf("%s + %d months = %s, want %s", tt.from, tt.n, got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"2023-02-29", "2024-13-01", "2024-1-01", "20240101", ""} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
	if d, err := Parse("2024-02-29"); err != nil || d.String() != "2024-02-29" {
		t.Errorf("leap day: %v %v", d, err)
	}
}

func TestJSON(t *testing.T) {
	var v struct{ D Date }
	if err := json.Unmarshal([]byte(`{"D":"2024-03-01"}`), &v); err != nil || v.D.String() != "2024-03-01" {
		t.Fatalf("%v %v", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"D":null}`), &v); err != nil || !v.D.IsZero() {
		t.Fatalf("null: %v %v", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"D":"2024-02-30"}`), &v); err == nil {
		t.Fatal("accepted 2024-02-30")
	}
	b, _ := json.Marshal(struct{ D Date }{})
	if string(b) != `{"D":null}` {
		t.Fatalf("zero date marshals as %s", b)
	}
	if got := MustParse("2024-01-01").DaysUntil(MustParse("2024-12-31")); got != 365 {
		t.Fatalf("DaysUntil = %d", got)
	}
}

func TestYearAndMonthStart(t *testing.T) {
	for _, tc := range []struct{ d, year, month string }{
		{"2024-02-29", "2024-01-01", "2024-02-01"},
		{"2025-01-01", "2025-01-01", "2025-01-01"},
		{"2025-12-31", "2025-01-01", "2025-12-01"},
	} {
		d := MustParse(tc.d)
		if y, m := d.YearStart().String(), d.MonthStart().String(); y != tc.year || m != tc.month {
			t.Errorf("%s: year from %s, month from %s; want %s, %s", tc.d, y, m, tc.year, tc.month)
		}
	}
}

// TestAppendISO: the digit-by-digit format is time's layout, for every day
// of a few years and the edges of four-digit years.
func TestAppendISO(t *testing.T) {
	days := []Date{New(1, time.January, 2), New(999, time.December, 31), New(9999, time.December, 31), New(10000, time.January, 1)}
	for d := New(1999, time.January, 1); d.Before(New(2031, time.January, 1)); d = d.AddDays(1) {
		days = append(days, d)
	}
	for _, d := range days {
		if got, want := string(d.AppendISO([]byte("x"))), "x"+d.Time().Format(Layout); got != want {
			t.Errorf("AppendISO(%v) = %q, want %q", d.Time(), got, want)
		}
		if got := d.String(); got != d.Time().Format(Layout) {
			t.Errorf("String = %q", got)
		}
	}
	if got := string((Date{}).AppendISO([]byte("x"))); got != "x" || (Date{}).String() != "" {
		t.Errorf("the zero Date appended %q", got)
	}
}
