package ident

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// withCheck appends the computed check character to 17 digits, so tests can
// build valid numbers for any date and order code.
func withCheck(first17 string) string {
	return first17 + string(CheckChar(first17))
}

// wrongCheck appends a check character that is certainly wrong.
func wrongCheck(first17 string) string {
	c := CheckChar(first17)
	if c == '0' {
		return first17 + "1"
	}
	return first17 + "0"
}

func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestCheckChar(t *testing.T) {
	tests := []struct {
		name    string
		first17 string
		want    byte
	}{
		// The two worked examples of GB 11643-1999, independent of our code.
		{"GB 11643 example X", "11010519491231002", 'X'},
		{"GB 11643 example 4", "44052418800101001", '4'},
		// Sum of all zeros is 0, which indexes '1'.
		{"all zeros", "00000000000000000", '1'},
		{"16 digits", "1101051949123100", 0},
		{"18 digits", "110105194912310021", 0},
		{"letter", "1101051949123100a", 0},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckChar(tt.first17); got != tt.want {
				t.Errorf("CheckChar(%q) = %q, want %q", tt.first17, got, tt.want)
			}
		})
	}
}

// TestCheckCharAllResidues makes sure every entry of "10X98765432" is
// reachable and matches the MOD 11-2 definition: the full 18-character
// weighted sum (check char X counting 10, weight 1) is 1 mod 11.
func TestCheckCharAllResidues(t *testing.T) {
	seen := map[byte]bool{}
	for order := 0; order < 1000 && len(seen) < 11; order++ {
		first17 := "33010619900101" + pad3(order)
		c := CheckChar(first17)
		seen[c] = true
		sum := 0
		for i, w := range checkWeights {
			sum += int(first17[i]-'0') * w
		}
		v := int(c - '0')
		if c == 'X' {
			v = 10
		}
		if (sum+v)%11 != 1 {
			t.Fatalf("CheckChar(%q) = %q: full sum %d mod 11 != 1", first17, c, sum+v)
		}
	}
	if len(seen) != 11 {
		t.Errorf("only %d distinct check characters seen", len(seen))
	}
}

func pad3(n int) string {
	s := "00" + itoa(n)
	return s[len(s)-3:]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestParseIDNumber(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  IDNumber // compared when error is nil
		error error
	}{
		{"valid male", withCheck("33010619900101123"),
			IDNumber{withCheck("33010619900101123"), date(1990, 1, 1), Male}, nil},
		{"valid female", withCheck("33010619900101124"),
			IDNumber{withCheck("33010619900101124"), date(1990, 1, 1), Female}, nil},
		{"order code 000 female", withCheck("33010619900101000"),
			IDNumber{withCheck("33010619900101000"), date(1990, 1, 1), Female}, nil},
		{"GB example uppercase X", "11010519491231002X",
			IDNumber{"11010519491231002X", date(1949, 12, 31), Female}, nil},
		{"lowercase x normalised", "11010519491231002x",
			IDNumber{"11010519491231002X", date(1949, 12, 31), Female}, nil},

		{"wrong check char", wrongCheck("33010619900101123"), IDNumber{}, ErrCheckChar},
		{"X where digit expected", "33010619900101125X", IDNumber{}, ErrCheckChar},
		{"lowercase x where digit expected", "33010619900101125x", IDNumber{}, ErrCheckChar},
		{"digit where X expected", "110105194912310020", IDNumber{}, ErrCheckChar},
		{"ten in place of X", "1101051949123100210", IDNumber{}, ErrFormat},

		{"empty", "", IDNumber{}, ErrFormat},
		{"17 chars", "33010619900101123", IDNumber{}, ErrFormat},
		{"19 chars", withCheck("33010619900101123") + "0", IDNumber{}, ErrFormat},
		{"15-digit legacy", "330106900101123", IDNumber{}, ErrFormat},
		{"X inside", "3301061990010112X5", IDNumber{}, ErrFormat},
		{"bad last char", "33010619900101123Y", IDNumber{}, ErrFormat},
		{"surrounding space", " " + withCheck("33010619900101123")[1:], IDNumber{}, ErrFormat},
		{"full-width digit", "３30106199001011230", IDNumber{}, ErrFormat},

		{"Feb 29 leap year 2000", withCheck("33010620000229123"),
			IDNumber{withCheck("33010620000229123"), date(2000, 2, 29), Male}, nil},
		{"Feb 29 leap year 2024", withCheck("33010620240229124"),
			IDNumber{withCheck("33010620240229124"), date(2024, 2, 29), Female}, nil},
		{"Feb 29 non-leap 2023", withCheck("33010620230229123"), IDNumber{}, ErrDate},
		{"Feb 29 non-leap century 1900", withCheck("33010619000229123"), IDNumber{}, ErrDate},
		{"Feb 30", withCheck("33010619990230123"), IDNumber{}, ErrDate},
		{"Apr 31", withCheck("33010619990431123"), IDNumber{}, ErrDate},
		{"Dec 31", withCheck("33010619991231123"),
			IDNumber{withCheck("33010619991231123"), date(1999, 12, 31), Male}, nil},
		{"day 32", withCheck("33010619990132123"), IDNumber{}, ErrDate},
		{"day 00", withCheck("33010619990100123"), IDNumber{}, ErrDate},
		{"month 00", withCheck("33010619990001123"), IDNumber{}, ErrDate},
		{"month 13", withCheck("33010619991301123"), IDNumber{}, ErrDate},
		{"1899-12-31 too early", withCheck("33010618991231123"), IDNumber{}, ErrDate},
		{"GB example 1880 too early", "440524188001010014", IDNumber{}, ErrDate},
		{"1900-01-01 earliest", withCheck("33010619000101123"),
			IDNumber{withCheck("33010619000101123"), date(1900, 1, 1), Male}, nil},
		{"future date parses; BornAfter is the caller's check", withCheck("33010629990101123"),
			IDNumber{withCheck("33010629990101123"), date(2999, 1, 1), Male}, nil},
		// With both the date and check char wrong, the date is reported.
		{"bad date and bad check char", wrongCheck("33010619990230123"), IDNumber{}, ErrDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDNumber(tt.in)
			if tt.error != nil {
				wantIdentErr(t, err, FieldIDNumber, tt.error)
				if got != (IDNumber{}) {
					t.Errorf("got %+v alongside error, want zero", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIDNumber(%q) error: %v", tt.in, err)
			}
			if got.Number != tt.want.Number || !got.Birth.Equal(tt.want.Birth) || got.Sex != tt.want.Sex {
				t.Errorf("ParseIDNumber(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.Birth.Location() != time.UTC {
				t.Errorf("Birth location = %v, want UTC", got.Birth.Location())
			}
		})
	}
}

func TestParseIDNumberReasons(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"check char", wrongCheck("33010619900101123"), "校验码错误"},
		{"impossible date", withCheck("33010619990230123"), "出生日期不存在"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIDNumber(tt.in)
			var ie *Error
			if !errors.As(err, &ie) || ie.Reason != tt.reason {
				t.Errorf("error %v, want Reason %q", err, tt.reason)
			}
		})
	}
}

func TestBornAfter(t *testing.T) {
	n, err := ParseIDNumber(withCheck("33010620240615123"))
	if err != nil {
		t.Fatal(err)
	}
	east8 := time.FixedZone("UTC+8", 8*3600)
	tests := []struct {
		name  string
		today time.Time
		want  bool
	}{
		{"day before birth", date(2024, 6, 14), true},
		{"birth day itself", date(2024, 6, 15), false},
		{"day after", date(2024, 6, 16), false},
		{"late on birth day", time.Date(2024, 6, 15, 23, 59, 0, 0, time.UTC), false},
		// 00:30 on the 15th in UTC+8 is still the 14th in UTC; the calendar
		// date in the caller's zone is what counts.
		{"birth day just after local midnight", time.Date(2024, 6, 15, 0, 30, 0, 0, east8), false},
		{"day before, local late evening", time.Date(2024, 6, 14, 23, 30, 0, 0, east8), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := n.BornAfter(tt.today); got != tt.want {
				t.Errorf("BornAfter(%v) = %v, want %v", tt.today, got, tt.want)
			}
		})
	}
}

func TestCheckAgainst(t *testing.T) {
	n, err := ParseIDNumber(withCheck("33010619900315123")) // male, 1990-03-15
	if err != nil {
		t.Fatal(err)
	}
	east8 := time.FixedZone("UTC+8", 8*3600)
	tests := []struct {
		name   string
		birth  time.Time
		sex    Sex
		fields []string // mismatching fields, in order
	}{
		{"both match", date(1990, 3, 15), Male, nil},
		{"nothing entered", time.Time{}, "", nil},
		{"only birth entered, matches", date(1990, 3, 15), "", nil},
		{"only sex entered, matches", time.Time{}, Male, nil},
		{"local midnight matches", time.Date(1990, 3, 15, 0, 0, 0, 0, east8), Male, nil},
		{"birth off by one day", date(1990, 3, 16), Male, []string{FieldBirthDate}},
		{"birth wrong, sex not entered", date(1991, 3, 15), "", []string{FieldBirthDate}},
		{"sex wrong", date(1990, 3, 15), Female, []string{FieldSex}},
		{"sex wrong, birth not entered", time.Time{}, Female, []string{FieldSex}},
		{"unknown sex value", time.Time{}, "X", []string{FieldSex}},
		{"both wrong", date(2000, 1, 1), Female, []string{FieldBirthDate, FieldSex}},
	}
	reasons := map[string]string{FieldBirthDate: "与身份证号中的出生日期不符", FieldSex: "与身份证号中的性别不符"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := n.CheckAgainst(tt.birth, tt.sex)
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatalf("CheckAgainst error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMismatch) {
				t.Fatalf("error %v does not wrap ErrMismatch", err)
			}
			var got []*Error
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					got = append(got, e.(*Error))
				}
			} else {
				got = append(got, err.(*Error))
			}
			if len(got) != len(tt.fields) {
				t.Fatalf("got %d field errors (%v), want %v", len(got), err, tt.fields)
			}
			for i, f := range tt.fields {
				if got[i].Field != f || got[i].Reason != reasons[f] {
					t.Errorf("error %d = %s/%s, want %s/%s", i, got[i].Field, got[i].Reason, f, reasons[f])
				}
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"18 with X", "33010619900101123X", "330106********123X"},
		{"18 digits", "330106199001011234", "330106********1234"},
		{"18 lowercase x kept as given", "33010619900101123x", "330106********123x"},
		{"15-digit legacy", "330106900101123", "***********1123"},
		{"17 chars", "33010619900101123", "*************1123"},
		{"19 chars", "3301061990010112345", "***************2345"},
		{"5 chars", "12345", "*2345"},
		{"4 chars", "1234", "1234"},
		{"3 chars", "123", "123"},
		{"empty", "", ""},
		{"full-width counted as runes", "３３０１０６19900101123X", "３３０１０６********123X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := ParseIDNumber(wrongCheck("33010619900101123"))
	msg := err.Error()
	for _, part := range []string{FieldIDNumber, "校验码错误", ErrCheckChar.Error()} {
		if !strings.Contains(msg, part) {
			t.Errorf("Error() = %q, missing %q", msg, part)
		}
	}
	if got := (&Error{Field: "x", Reason: "原因"}).Error(); got != "x: 原因" {
		t.Errorf("Error() without sentinel = %q", got)
	}
}

// FuzzParseIDNumber checks that ParseIDNumber never panics, that every
// failure is a well-formed *Error, and that every accepted number is
// internally consistent and parses again to the same value.
func FuzzParseIDNumber(f *testing.F) {
	f.Add("11010519491231002X")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseIDNumber(s)
		_ = Mask(s) // must not panic on anything
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) || ie.Field != FieldIDNumber {
				t.Fatalf("ParseIDNumber(%q) error %v is not an id_number *Error", s, err)
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrDate) && !errors.Is(err, ErrCheckChar) {
				t.Fatalf("ParseIDNumber(%q) error %v wraps no known sentinel", s, err)
			}
			return
		}
		if len(n.Number) != 18 || n.Number != strings.ToUpper(s) {
			t.Fatalf("Number = %q for input %q", n.Number, s)
		}
		if got := CheckChar(n.Number[:17]); got != n.Number[17] {
			t.Fatalf("accepted %q but CheckChar = %q", s, got)
		}
		if n.Birth.Location() != time.UTC || n.Birth.Hour() != 0 || n.Birth.Minute() != 0 ||
			n.Birth.Second() != 0 || n.Birth.Nanosecond() != 0 {
			t.Fatalf("Birth %v is not UTC midnight", n.Birth)
		}
		if n.Birth.Format("20060102") != n.Number[6:14] || n.Birth.Year() < 1900 {
			t.Fatalf("Birth %v does not match %q", n.Birth, n.Number)
		}
		wantSex := Female
		if (n.Number[16]-'0')%2 == 1 {
			wantSex = Male
		}
		if n.Sex != wantSex {
			t.Fatalf("Sex = %q for %q", n.Sex, n.Number)
		}
		if err := n.CheckAgainst(n.Birth, n.Sex); err != nil {
			t.Fatalf("CheckAgainst own values: %v", err)
		}
		again, err := ParseIDNumber(n.Number)
		if err != nil || again.Number != n.Number || !again.Birth.Equal(n.Birth) || again.Sex != n.Sex {
			t.Fatalf("reparse of %q = %+v, %v; want %+v", n.Number, again, err, n)
		}
		if m := Mask(n.Number); len(m) != 18 || m[:6] != n.Number[:6] || m[14:] != n.Number[14:] {
			t.Fatalf("Mask(%q) = %q", n.Number, m)
		}
	})
}
