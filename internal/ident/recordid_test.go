package ident

import (
	"errors"
	"testing"
)

func TestParseRecordID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"serial 0001", "3301060011010001", true},
		{"serial 9999", "3301060011019999", true},
		{"serial 0042 residents committee", "3301060010010042", true},
		{"other-class village", "3301060019990001", true},
		{"serial 0000", "3301060011010000", false},

		{"empty", "", false},
		{"15 digits", "330106001101001", false},
		{"17 digits", "33010600110100010", false},
		{"letter", "330106001101000a", false},
		{"space", " 330106001101001", false},
		{"full-width digit", "330106001101000１", false},

		{"village segment 000", "3301060010000001", false},
		{"village class 100", "3301060011000001", false},
		{"village class 500", "3301060015000001", false},
		{"township segment 000", "3301060001010001", false},
		{"prefecture code", "3301000011010001", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRecordID(tt.in)
			if !tt.ok {
				wantIdentErr(t, err, FieldRecordID, ErrFormat)
				if got != "" {
					t.Errorf("got %q alongside error, want empty", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRecordID(%q) error: %v", tt.in, err)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestNewRecordID(t *testing.T) {
	const village = "330106001101"
	tests := []struct {
		name    string
		village string
		serial  int
		want    RecordID // "" means an error is expected
		field   string
	}{
		{"serial 1 padded", village, 1, "3301060011010001", ""},
		{"serial 42 padded", village, 42, "3301060011010042", ""},
		{"serial 9999 max", village, MaxSerial, "3301060011019999", ""},
		{"serial 0", village, 0, "", FieldRecordID},
		{"serial -1", village, -1, "", FieldRecordID},
		{"serial 10000 village full", village, MaxSerial + 1, "", FieldRecordID},
		{"village class 000", "330106001000", 1, "", FieldCode},
		{"village class 200", "330106001200", 1, "", FieldCode},
		{"township not village", "330106001", 1, "", FieldCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewRecordID(tt.village, tt.serial)
			if tt.want == "" {
				wantIdentErr(t, err, tt.field, ErrFormat)
				return
			}
			if err != nil {
				t.Fatalf("NewRecordID error: %v", err)
			}
			if got != tt.want {
				t.Errorf("NewRecordID(%q, %d) = %q, want %q", tt.village, tt.serial, got, tt.want)
			}
			if got.Village() != tt.village || got.Serial() != tt.serial {
				t.Errorf("parts = (%q, %d), want (%q, %d)", got.Village(), got.Serial(), tt.village, tt.serial)
			}
		})
	}
}

func TestRecordIDParts(t *testing.T) {
	tests := []struct {
		name    string
		r       RecordID
		village string
		serial  int
	}{
		{"valid", "3301060011010123", "330106001101", 123},
		{"zero value", "", "", 0},
		{"wrong length by conversion", "33010600110101", "", 0},
		{"signed serial by conversion", "330106001101+001", "330106001101", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Village(); got != tt.village {
				t.Errorf("Village() = %q, want %q", got, tt.village)
			}
			if got := tt.r.Serial(); got != tt.serial {
				t.Errorf("Serial() = %d, want %d", got, tt.serial)
			}
		})
	}
}

// FuzzParseRecordID checks that ParseRecordID never panics, that every
// failure is a well-formed *Error, and that every accepted number satisfies
// the documented structure and round-trips through NewRecordID.
func FuzzParseRecordID(f *testing.F) {
	f.Add("3301060011010001")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecordID(s)
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) || ie.Field != FieldRecordID || !errors.Is(err, ErrFormat) {
				t.Fatalf("ParseRecordID(%q) error %v is not a record_id ErrFormat *Error", s, err)
			}
			if r != "" {
				t.Fatalf("ParseRecordID(%q) returned %q alongside error", s, r)
			}
			return
		}
		if r.String() != s {
			t.Fatalf("String() = %q, want input %q", r.String(), s)
		}
		if n := r.Serial(); n < 1 || n > MaxSerial {
			t.Fatalf("accepted %q with serial %d", s, n)
		}
		if _, err := ClassOfVillage(r.Village()); err != nil {
			t.Fatalf("accepted %q whose village fails ClassOfVillage: %v", s, err)
		}
		if lvl, err := RegionLevel(r.Village()); err != nil || lvl != LevelVillage {
			t.Fatalf("accepted %q whose village has level %q, %v", s, lvl, err)
		}
		again, err := NewRecordID(r.Village(), r.Serial())
		if err != nil || again != r {
			t.Fatalf("NewRecordID(%q, %d) = %q, %v; want %q", r.Village(), r.Serial(), again, err, r)
		}
	})
}
