package ident

import (
	"errors"
	"testing"
)

// wantIdentErr fails t unless err is an *Error for field wrapping sentinel.
func wantIdentErr(t *testing.T, err error, field string, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v for %s", sentinel, field)
	}
	var ie *Error
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an *ident.Error", err, err)
	}
	if ie.Field != field {
		t.Errorf("Field = %q, want %q", ie.Field, field)
	}
	if ie.Reason == "" {
		t.Errorf("Reason is empty")
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("errors.Is(%v, %v) = false", err, sentinel)
	}
}

func TestRegionLevel(t *testing.T) {
	tests := []struct {
		name string
		code string
		want Level // "" means an ErrFormat error is expected
	}{
		{"county", "330106", LevelCounty},
		{"township", "330106001", LevelTownship},
		{"village", "330106001001", LevelVillage},
		{"county ending 01", "110101", LevelCounty},
		{"county ending 90 (county-level city)", "419001", LevelCounty},

		{"empty", "", ""},
		{"5 digits", "33010", ""},
		{"7 digits", "3301060", ""},
		{"8 digits", "33010600", ""},
		{"10 digits", "3301060010", ""},
		{"11 digits", "33010600100", ""},
		{"13 digits", "3301060010011", ""},
		{"letter", "33010a", ""},
		{"space", "33010 ", ""},
		{"sign", "+33010", ""},
		{"full-width digits", "３３０１０６", ""},

		{"prefecture code (county 00)", "330100", ""},
		{"province code", "330000", ""},
		{"all zero", "000000", ""},
		{"province segment 00", "000106", ""},
		{"prefecture segment 00", "330006", ""},
		{"township under prefecture code", "330100001", ""},
		{"township segment 000", "330106000", ""},
		{"village under township 000", "330106000001", ""},
		{"village segment 000", "330106001000", ""},
		{"township segment 001 boundary", "330106001", LevelTownship},
		{"village segment 001 boundary", "330106001001", LevelVillage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RegionLevel(tt.code)
			if tt.want == "" {
				wantIdentErr(t, err, FieldCode, ErrFormat)
				if got != "" {
					t.Errorf("level = %q alongside error, want empty", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("RegionLevel(%q) error: %v", tt.code, err)
			}
			if got != tt.want {
				t.Errorf("RegionLevel(%q) = %q, want %q", tt.code, got, tt.want)
			}
		})
	}
}

func TestParentCode(t *testing.T) {
	tests := []struct {
		name, code, want string
	}{
		{"village to township", "330106001101", "330106001"},
		{"township to county", "330106001", "330106"},
		{"county has no parent", "330106", ""},
		{"invalid length", "3301060", ""},
		{"invalid village segment", "330106001000", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParentCode(tt.code); got != tt.want {
				t.Errorf("ParentCode(%q) = %q, want %q", tt.code, got, tt.want)
			}
		})
	}
}

func TestClassOfVillage(t *testing.T) {
	const township = "330106001"
	tests := []struct {
		name string
		last string
		want VillageClass // "" means an ErrFormat error is expected
	}{
		{"000 is the township itself", "000", ""},
		{"001 first residents committee", "001", ClassResidentsCommittee},
		{"050 residents committee", "050", ClassResidentsCommittee},
		{"099 last residents committee", "099", ClassResidentsCommittee},
		{"100 unassigned", "100", ""},
		{"101 first village committee", "101", ClassVillageCommittee},
		{"199 last village committee", "199", ClassVillageCommittee},
		{"200 unassigned", "200", ""},
		{"201 statistical village committee", "201", ClassVillageCommittee},
		{"399 last statistical village committee", "399", ClassVillageCommittee},
		{"401 statistical similar unit", "401", ClassOther},
		{"599 last statistical similar unit", "599", ClassOther},
		{"600 unassigned", "600", ""},
		{"601 unassigned", "601", ""},
		{"899 unassigned", "899", ""},
		{"900 unassigned", "900", ""},
		{"901 first other", "901", ClassOther},
		{"999 last other", "999", ClassOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ClassOfVillage(township + tt.last)
			if tt.want == "" {
				wantIdentErr(t, err, FieldCode, ErrFormat)
				return
			}
			if err != nil {
				t.Fatalf("ClassOfVillage error: %v", err)
			}
			if got != tt.want {
				t.Errorf("ClassOfVillage(%q) = %q, want %q", township+tt.last, got, tt.want)
			}
		})
	}

	notVillage := []struct{ name, code string }{
		{"county", "330106"},
		{"township", "330106001"},
		{"bad county part", "330100001001"},
		{"letters", "33010600100a"},
		{"empty", ""},
	}
	for _, tt := range notVillage {
		t.Run("not a village/"+tt.name, func(t *testing.T) {
			_, err := ClassOfVillage(tt.code)
			wantIdentErr(t, err, FieldCode, ErrFormat)
		})
	}
}

func TestVillageClassChinese(t *testing.T) {
	tests := []struct {
		class VillageClass
		want  string
	}{
		{ClassResidentsCommittee, "居委会"},
		{ClassVillageCommittee, "村委会"},
		{ClassOther, "其他"},
		{"", ""},
		{"bogus", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.class), func(t *testing.T) {
			if got := tt.class.Chinese(); got != tt.want {
				t.Errorf("%q.Chinese() = %q, want %q", tt.class, got, tt.want)
			}
		})
	}
}
