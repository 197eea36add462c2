package rates_test

import (
	"testing"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/rates"
)

// TestProvince: the counties' county, township and institution rows are
// ranked across the province, each against its county's target; doctors'
// rows and summaries are left out.
func TestProvince(t *testing.T) {
	p := rates.Params{AsOf: civil.New(2026, 6, 30), Sample: rates.All}
	pop := func(n int) *int { return &n }
	county := func(code string, filed, population int, target rates.Percent) *rates.Report {
		d := &rates.Data{
			County:       rates.Unit{Code: code, Name: "县" + code},
			Townships:    []rates.Unit{{Code: code + "100", Name: "镇" + code}},
			Institutions: []rates.Unit{{Code: "I" + code, Name: "院" + code}},
			Doctors:      []rates.Unit{{Code: "d" + code, Name: "医生" + code, Parent: "I" + code}},
			Villages: []rates.Village{{Code: code + "100101", Name: "村", Township: code + "100", Institution: "I" + code,
				Population: pop(population), Doctor: "d" + code}},
			Groups: []rates.Group{{Village: code + "100101", Doctor: "d" + code, Active: filed, Sampled: filed, Qualified: filed, Used: filed}},
		}
		tg := rates.DefaultTargets
		tg.Coverage = target
		return rates.Compute(p, tg, d, time.Time{})
	}
	// Coverage 90 %, 80 %, 70 %, 60 %, 50 %: the last three are the bottom three.
	var reports []*rates.Report
	for i, code := range []string{"330101", "330102", "330103", "330104", "330105"} {
		reports = append(reports, county(code, 90-10*i, 100, rates.Percent(800+10*i)))
	}
	r := rates.Province("33", "省（33）", p, reports, time.Time{})
	seen := map[rates.Level]int{}
	for _, row := range r.Rows {
		seen[row.Level]++
		if row.Level == rates.County && row.Indicator == rates.Coverage {
			i := int(row.ScopeCode[5] - '1')
			if row.Rank == nil || *row.Rank != i+1 || row.BottomThree != (i >= 2) || row.Target != rates.Percent(800+10*i) {
				t.Errorf("%s: rank %v, bottom three %v, target %s", row.ScopeCode, row.Rank, row.BottomThree, row.Target)
			}
		}
		// A township's or an institution's county is named: the
		// institution's code does not say it.
		if row.Level != rates.County && row.Parent != row.ScopeCode[len(row.ScopeCode)-6:] && row.Parent != row.ScopeCode[:6] {
			t.Errorf("%s %s: parent %q, want its county", row.Level, row.ScopeCode, row.Parent)
		}
	}
	if seen[rates.Doctor] != 0 || seen[rates.County] != 15 || seen[rates.Township] != 15 || seen[rates.Institution] != 15 {
		t.Errorf("rows per level: %v", seen)
	}
	for _, s := range r.Summaries {
		if s.Level == rates.Doctor {
			t.Errorf("a doctor summary")
		}
		if s.Level == rates.County && s.Indicator == rates.Coverage && (s.Ranked != 5 || len(s.Top) != 3 || len(s.Bottom) != 3 || s.Max.String() != "90.0") {
			t.Errorf("county coverage summary: %+v", s)
		}
	}
	// 330105: 50 % against 84 %: bottom three and 34 points below.
	found := false
	for _, w := range r.Warnings {
		found = found || w.ScopeCode == "330105" && w.Indicator == rates.Coverage && w.BottomThree && w.BelowTarget
	}
	if !found {
		t.Errorf("no warning for 330105: %+v", r.Warnings)
	}
}
