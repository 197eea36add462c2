package csvout_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"healthrec/internal/csvout"
)

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+1+2":                       "'+1+2",
		"-2+3":                       "'-2+3",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\tx":                        "'\tx",
		"\rx":                        "'\rx",
		"-":                          "'-",
		"-5.0":                       "-5.0",
		"+3":                         "+3",
		"-.5":                        "-.5",
		"12.50":                      "12.50",
		"张秀英":                        "张秀英",
		"a=b":                        "a=b",
		"":                           "",
	} {
		if got := csvout.Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := csvout.NewWriter(&b)
	row := []string{"=1+1", "-5.0", "李四"}
	if err := w.Write(row); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if row[0] != "=1+1" {
		t.Errorf("caller's row changed: %q", row)
	}
	got, err := csv.NewReader(&b).Read()
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "'=1+1" || got[1] != "-5.0" || got[2] != "李四" {
		t.Errorf("read back %q", got)
	}
}
