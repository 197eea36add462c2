package httpapi

import (
	"strings"
	"testing"

	"healthrec/internal/pdfdoc/pdftest"
	"healthrec/internal/record"
)

func TestBloodType(t *testing.T) {
	for _, tc := range []struct {
		abo, rh string
		want    string
	}{
		{"1", "", "A型"},
		{"4", "2", "AB型 Rh阳性"},
		{"5", "3", "不详 Rh 不详"},
		{"", "1", "ABO 未填写 Rh阴性"},
		{"", "", "未填写"},
	} {
		if got := bloodType(&record.BasicInfo{BloodABO: tc.abo, BloodRh: tc.rh}); got != tc.want {
			t.Errorf("bloodType(%q, %q) = %q, want %q", tc.abo, tc.rh, got, tc.want)
		}
	}
}

// TestCardMasksForGrantees checks a reader without a role over the record (a
// consent grant) gets the identity number masked.
func TestCardMasksForGrantees(t *testing.T) {
	r := &record.Record{RecordID: "3301271001010001", Name: "张三", IDNumber: "330127195503080021"}
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
