package httpapi

import (
	"strings"
	"testing"

	"healthrec/internal/pdfdoc/pdftest"
	"healthrec/internal/record"
)

func TestBloodType(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"A", "A型"},
		{"AB", "AB型"},
		{"O型", "O型"},
		{"不详", "不详"},
		{map[string]any{"abo": "B", "rh": "阴性"}, "B型 Rh 阴性"},
		{nil, ""},
	} {
		if got := bloodType(record.Details{"blood_type": tc.in}); got != tc.want {
			t.Errorf("bloodType(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCardMasksForGrantees checks a reader without a role over the record (a
// consent grant) gets the identity number masked.
func TestCardMasksForGrantees(t *testing.T) {
	r := &record.Record{RecordID: "3301271001010001", Name: "张三", IDNumber: "330127195503080021", Details: record.Details{}}
	for _, tc := range []struct {
		full bool
		want string
	}{{true, "330127195503080021"}, {false, "330127********0021"}} {
		pdf, err := cardData{Record: r, Full: tc.full}.pdf()
		if err != nil {
			t.Fatal(err)
		}
		if text := pdftest.Compact(t, pdf); !strings.Contains(text, "身份证号："+tc.want) {
			t.Errorf("full=%v: card lacks %s:\n%s", tc.full, tc.want, text)
		}
	}
}
