package httpapi_test

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestCSVFormulaNeutralised: names a spreadsheet would run as a formula
// come out of every CSV as text (a leading '), and numbers stay numbers.
func TestCSVFormulaNeutralised(t *testing.T) {
	e := newRatesEnv(t)
	const formula = `=HYPERLINK("http://x","y")`
	for _, q := range []string{
		`UPDATE staff SET name = '` + formula + `' WHERE code = 'docA'`,
		`UPDATE institutions SET name = '@SUM(1+1)' WHERE code = 'INSTB'`,
		`UPDATE records SET name = '` + formula + `' WHERE record_id = '` + e.good + `'`,
	} {
		if _, err := e.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	r := e.bureau.req("POST", "/api/v1/snapshots", map[string]any{"kind": "pre_assessment", "title": "公式", "as_of": "2026-06-30", "sample": 300, "seed": 11})
	if r.Status != 201 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	for _, path := range []string{"/api/v1/reports/rates?format=csv&seed=1", r.Header.Get("Location") + "?format=csv"} {
		r := e.bureau.req("GET", path, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
		}
		rows, err := csv.NewReader(strings.NewReader(string(r.Raw))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{}
		negative := false
		for _, row := range rows[1:] {
			names[row[1]] = row[2]
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !strings.HasPrefix(cell, "-") {
					t.Errorf("%s: cell %q not neutralised", path, cell)
				}
			}
			if strings.HasPrefix(row[8], "-") {
				negative = true
				if row[8][1] < '0' || row[8][1] > '9' {
					t.Errorf("%s: gap %q is not a plain number", path, row[8])
				}
			}
		}
		if names["docA"] != "'"+formula || names["INSTB"] != "'@SUM(1+1)" {
			t.Errorf("%s: names %q, %q", path, names["docA"], names["INSTB"])
		}
		if !negative {
			t.Errorf("%s: no negative gap to check", path)
		}
	}
}
