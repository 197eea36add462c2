package rates_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/rates"
)

func TestRateOf(t *testing.T) {
	cases := []struct {
		name     string
		num, den int
		want     string
		ok       bool
	}{
		{"no denominator", 0, 0, "", false},
		{"negative denominator", 1, -1, "", false},
		{"zero", 0, 7, "0.0", true},
		{"whole", 1, 1, "100.0", true},
		{"third rounds down", 1, 3, "33.3", true},
		{"two thirds rounds up", 2, 3, "66.7", true},
		{"half rounds up", 1, 16, "6.3", true},
		{"just below half", 6249, 100000, "6.2", true},
		{"above 100", 105, 100, "105.0", true},
		{"large", 999999, 1000000, "100.0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := rates.RateOf(tc.num, tc.den)
			if ok != tc.ok || ok && got.String() != tc.want {
				t.Errorf("RateOf(%d, %d) = %v, %v; want %s, %v", tc.num, tc.den, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]string{"90": "90.0", "92.5": "92.5", "0": "0.0", "-3.0": "-3.0", "100.0": "100.0"} {
		got, err := rates.ParsePercent(in)
		if err != nil || got.String() != want {
			t.Errorf("ParsePercent(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "9.25", "abc", "1e3", ".5", "5.", "+5", "--1", "1234567"} {
		if _, err := rates.ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q) accepted", in)
		}
	}
}

func TestParseSample(t *testing.T) {
	for in, want := range map[string]rates.Sample{"": rates.All, "all": rates.All, "1": 1, "300": 300, "1000000": 1000000} {
		if got, err := rates.ParseSample(in); err != nil || got != want {
			t.Errorf("ParseSample(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-5", "1000001", "ALL", "3.5", "+3", " 3"} {
		if _, err := rates.ParseSample(in); err == nil {
			t.Errorf("ParseSample(%q) accepted", in)
		}
	}
}

func TestWindow(t *testing.T) {
	p := rates.Params{AsOf: civil.MustParse("2024-12-31")}
	from, to := p.Window()
	if from.String() != "2024-01-02" || to.String() != "2024-12-31" {
		t.Errorf("window %s … %s", from, to)
	}
	p.AsOf = civil.MustParse("2025-12-31") // not a leap year: 365 days back is the same date
	if from, _ := p.Window(); from.String() != "2025-01-01" {
		t.Errorf("window from %s", from)
	}
}

func pop(n int) *int { return &n }

// county builds a county with one township, one institution and one village
// per doctor, and a group per doctor with the given sample counts.
func county(doctors []rates.Unit, groups map[string]rates.Group) *rates.Data {
	d := &rates.Data{
		County:       rates.Unit{Code: "330127", Name: "淳安县"},
		Townships:    []rates.Unit{{Code: "330127100", Name: "千岛湖镇"}},
		Institutions: []rates.Unit{{Code: "INSTA", Name: "中心"}},
		Doctors:      doctors,
	}
	for i, u := range doctors {
		v := rates.Village{Code: "330127100" + string(rune('1'+i/10)) + "0" + string(rune('1'+i%10)), Township: "330127100",
			Institution: "INSTA", Population: pop(100), Doctor: u.Code}
		d.Villages = append(d.Villages, v)
		g := groups[u.Code]
		g.Village, g.Doctor = v.Code, u.Code
		d.Groups = append(d.Groups, g)
	}
	return d
}

func doctors(codes ...string) []rates.Unit {
	var out []rates.Unit
	for _, c := range codes {
		out = append(out, rates.Unit{Code: c, Name: "医生" + c, Parent: "INSTA"})
	}
	return out
}

func row(t *testing.T, r *rates.Report, l rates.Level, code string, ind rates.Indicator) rates.Row {
	t.Helper()
	for _, x := range r.Rows {
		if x.Level == l && x.ScopeCode == code && x.Indicator == ind {
			return x
		}
	}
	t.Fatalf("no row %s %s %s", l, code, ind)
	return rates.Row{}
}

func rank(x rates.Row) int {
	if x.Rank == nil {
		return 0
	}
	return *x.Rank
}

var params = rates.Params{AsOf: civil.MustParse("2025-12-31"), Sample: rates.All, Seed: 7}

func TestRanksTiesAndWarnings(t *testing.T) {
	// Quality of six doctors: 95.0, 95.0, 90.0, 85.0, 85.0, 50.0 — target 90.
	q := map[string]rates.Group{
		"d1": {Active: 20, Sampled: 20, Qualified: 19, Used: 20},
		"d2": {Active: 20, Sampled: 20, Qualified: 19, Used: 20},
		"d3": {Active: 20, Sampled: 20, Qualified: 18, Used: 20},
		"d4": {Active: 20, Sampled: 20, Qualified: 17, Used: 20},
		"d5": {Active: 20, Sampled: 20, Qualified: 17, Used: 20},
		"d6": {Active: 20, Sampled: 20, Qualified: 10, Used: 20},
	}
	r := rates.Compute(params, rates.DefaultTargets, county(doctors("d1", "d2", "d3", "d4", "d5", "d6"), q), time.Time{})
	cases := []struct {
		code      string
		rate      string
		rank      int
		bottom    bool
		warning   bool
		gap       string
		warnBelow bool
	}{
		{"d1", "95.0", 1, false, false, "5.0", false},
		{"d2", "95.0", 1, false, false, "5.0", false},
		{"d3", "90.0", 3, false, false, "0.0", false},
		{"d4", "85.0", 4, true, true, "-5.0", false},
		{"d5", "85.0", 4, true, true, "-5.0", false},
		{"d6", "50.0", 6, true, true, "-40.0", true},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			x := row(t, r, rates.Doctor, tc.code, rates.Quality)
			if x.Rate.String() != tc.rate || rank(x) != tc.rank || x.BottomThree != tc.bottom || x.Warning != tc.warning || x.Gap.String() != tc.gap {
				t.Errorf("got rate %s rank %d bottom %v warning %v gap %s", x.Rate, rank(x), x.BottomThree, x.Warning, x.Gap)
			}
		})
	}
	var s rates.Summary
	for _, x := range r.Summaries {
		if x.Level == rates.Doctor && x.Indicator == rates.Quality {
			s = x
		}
	}
	codes := func(st []rates.Standing) string {
		var out []string
		for _, x := range st {
			out = append(out, x.ScopeCode)
		}
		return strings.Join(out, ",")
	}
	if got := codes(s.Top); got != "d1,d2,d3" {
		t.Errorf("top three %s", got)
	}
	if got := codes(s.Bottom); got != "d6,d5,d4" {
		t.Errorf("bottom three %s", got)
	}
	// mean of 95, 95, 90, 85, 85, 50 = 83.33…
	if s.Max.String() != "95.0" || s.Min.String() != "50.0" || s.Mean.String() != "83.3" || s.Ranked != 6 {
		t.Errorf("max %s min %s mean %s ranked %d", s.Max, s.Min, s.Mean, s.Ranked)
	}
	var warned []string
	for _, w := range r.Warnings {
		if w.Level == rates.Doctor && w.Indicator == rates.Quality {
			warned = append(warned, w.ScopeCode)
			if !strings.Contains(w.Message, "合格率") {
				t.Errorf("message does not name the indicator: %s", w.Message)
			}
		}
	}
	if strings.Join(warned, ",") != "d4,d5,d6" {
		t.Errorf("warned %v", warned)
	}
	d6 := warningFor(r, "d6", rates.Quality)
	if !d6.BelowTarget || !d6.BottomThree || d6.Gap.String() != "-40.0" || !strings.Contains(d6.Message, "低于目标 40.0 个百分点") {
		t.Errorf("d6 warning %+v", d6)
	}
}

func warningFor(r *rates.Report, code string, ind rates.Indicator) rates.Warning {
	for _, w := range r.Warnings {
		if w.ScopeCode == code && w.Indicator == ind {
			return w
		}
	}
	return rates.Warning{}
}

func TestTenPointWarning(t *testing.T) {
	// Three doctors: no bottom-three warnings, only the 10-point rule.
	// Usage target 60: 50.0 is exactly 10 below, 50.1 is 9.9 below.
	g := map[string]rates.Group{
		"a": {Active: 1000, Sampled: 1000, Qualified: 1000, Used: 500},
		"b": {Active: 1000, Sampled: 1000, Qualified: 1000, Used: 501},
		"c": {Active: 1000, Sampled: 1000, Qualified: 1000, Used: 900},
	}
	r := rates.Compute(params, rates.DefaultTargets, county(doctors("a", "b", "c"), g), time.Time{})
	for code, want := range map[string]bool{"a": true, "b": false, "c": false} {
		x := row(t, r, rates.Doctor, code, rates.Usage)
		if x.Warning != want || x.BottomThree {
			t.Errorf("%s: usage %s warning %v bottom %v", code, x.Rate, x.Warning, x.BottomThree)
		}
	}
	if w := warningFor(r, "a", rates.Usage); !w.BelowTarget || w.Gap.String() != "-10.0" {
		t.Errorf("warning %+v", w)
	}
	// The county is alone at its level: never "bottom three".
	if c := row(t, r, rates.County, "330127", rates.Quality); c.BottomThree || c.Warning || rank(c) != 1 {
		t.Errorf("county quality %+v", c)
	}
}

func TestCustomTargets(t *testing.T) {
	g := map[string]rates.Group{"a": {Active: 10, Sampled: 10, Qualified: 7, Used: 7}}
	r := rates.Compute(params, rates.Targets{Coverage: 50, Quality: 800, Usage: 700}, county(doctors("a"), g), time.Time{})
	if x := row(t, r, rates.Doctor, "a", rates.Quality); x.Target.String() != "80.0" || x.Gap.String() != "-10.0" || !x.Warning {
		t.Errorf("quality %+v", x)
	}
	if x := row(t, r, rates.Doctor, "a", rates.Usage); x.Target.String() != "70.0" || x.Gap.String() != "0.0" || x.Warning {
		t.Errorf("usage %+v", x)
	}
}

func TestCoverage(t *testing.T) {
	d := &rates.Data{
		County:       rates.Unit{Code: "330127", Name: "淳安县"},
		Townships:    []rates.Unit{{Code: "330127100", Name: "甲镇"}, {Code: "330127101", Name: "乙镇"}},
		Institutions: []rates.Unit{{Code: "A", Name: "甲"}, {Code: "B", Name: "乙"}, {Code: "C", Name: "无村"}},
		Doctors:      []rates.Unit{{Code: "da", Name: "A", Parent: "A"}, {Code: "db", Name: "B", Parent: "B"}, {Code: "dx", Name: "X", Parent: "B"}},
		Villages: []rates.Village{
			{Code: "330127100101", Township: "330127100", Institution: "A", Population: pop(200), Doctor: "da"},
			{Code: "330127100102", Township: "330127100", Institution: "A", Population: pop(100), Doctor: "da"},
			{Code: "330127101101", Township: "330127101", Institution: "B", Population: nil, Doctor: "db"},
			{Code: "330127101102", Township: "330127101", Institution: "B", Population: pop(0), Doctor: ""},
		},
		Groups: []rates.Group{
			{Village: "330127100101", Doctor: "da", Active: 150},
			{Village: "330127100102", Doctor: "da", Active: 50},
			{Village: "330127100102", Doctor: "", Active: 10},
			{Village: "330127101101", Doctor: "db", Active: 40},
			{Village: "330127101102", Doctor: "dx", Active: 5},
		},
	}
	r := rates.Compute(params, rates.DefaultTargets, d, time.Time{})
	cases := []struct {
		level    rates.Level
		code     string
		num, den int
		rate     string
		missing  string
	}{
		{rates.County, "330127", 255, 300, "85.0", "330127101101"},
		{rates.Township, "330127100", 210, 300, "70.0", ""},
		// a village without population and one with population 0: no rate
		{rates.Township, "330127101", 45, 0, "", "330127101101"},
		{rates.Institution, "A", 210, 300, "70.0", ""},
		{rates.Institution, "B", 45, 0, "", "330127101101"},
		{rates.Institution, "C", 0, 0, "", ""},
		{rates.Doctor, "da", 210, 300, "70.0", ""},
		{rates.Doctor, "db", 40, 0, "", "330127101101"},
		// dx is responsible for no village: records, but no coverage
		{rates.Doctor, "dx", 0, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(string(tc.level)+" "+tc.code, func(t *testing.T) {
			x := row(t, r, tc.level, tc.code, rates.Coverage)
			rate := ""
			if x.Rate != nil {
				rate = x.Rate.String()
			}
			if x.Numerator != tc.num || x.Denominator != tc.den || rate != tc.rate || strings.Join(x.MissingPopulation, ",") != tc.missing {
				t.Errorf("got %d/%d %q missing %v", x.Numerator, x.Denominator, rate, x.MissingPopulation)
			}
			if x.Rate == nil && (x.Gap != nil || x.Rank != nil || x.Warning) {
				t.Errorf("a row without a rate has gap %v rank %v warning %v", x.Gap, x.Rank, x.Warning)
			}
		})
	}
}

func TestCSV(t *testing.T) {
	d := &rates.Data{
		County:       rates.Unit{Code: "330127", Name: "淳安县"},
		Townships:    []rates.Unit{{Code: "330127101", Name: "乙镇"}, {Code: "330127100", Name: "甲,镇"}},
		Institutions: []rates.Unit{{Code: "B", Name: "乙"}, {Code: "A", Name: "甲"}},
		Doctors:      []rates.Unit{{Code: "zz", Name: "赵", Parent: "A"}, {Code: "aa", Name: "钱", Parent: "B"}},
		Villages: []rates.Village{
			{Code: "330127100101", Township: "330127100", Institution: "A", Population: pop(3), Doctor: "zz"},
			{Code: "330127101101", Township: "330127101", Institution: "B", Doctor: "aa"},
		},
		Groups: []rates.Group{
			{Village: "330127100101", Doctor: "zz", Active: 2, Sampled: 2, Qualified: 1, Used: 0},
			{Village: "330127101101", Doctor: "aa", Active: 1, Sampled: 1, Qualified: 1, Used: 1},
		},
	}
	r := rates.Compute(params, rates.DefaultTargets, d, time.Time{})
	var b bytes.Buffer
	if err := rates.WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `level,scope_code,scope_name,indicator,numerator,denominator,rate,target,gap,rank,warning
county,330127,淳安县,coverage,3,3,100.0,90.0,10.0,1,0
county,330127,淳安县,quality,2,3,66.7,90.0,-23.3,1,1
county,330127,淳安县,usage,1,3,33.3,60.0,-26.7,1,1
township,330127100,"甲,镇",coverage,2,3,66.7,90.0,-23.3,1,1
township,330127100,"甲,镇",quality,1,2,50.0,90.0,-40.0,2,1
township,330127100,"甲,镇",usage,0,2,0.0,60.0,-60.0,2,1
township,330127101,乙镇,coverage,1,0,,90.0,,,0
township,330127101,乙镇,quality,1,1,100.0,90.0,10.0,1,0
township,330127101,乙镇,usage,1,1,100.0,60.0,40.0,1,0
institution,A,甲,coverage,2,3,66.7,90.0,-23.3,1,1
institution,A,甲,quality,1,2,50.0,90.0,-40.0,2,1
institution,A,甲,usage,0,2,0.0,60.0,-60.0,2,1
institution,B,乙,coverage,1,0,,90.0,,,0
institution,B,乙,quality,1,1,100.0,90.0,10.0,1,0
institution,B,乙,usage,1,1,100.0,60.0,40.0,1,0
doctor,aa,钱,coverage,1,0,,90.0,,,0
doctor,aa,钱,quality,1,1,100.0,90.0,10.0,1,0
doctor,aa,钱,usage,1,1,100.0,60.0,40.0,1,0
doctor,zz,赵,coverage,2,3,66.7,90.0,-23.3,1,1
doctor,zz,赵,quality,1,2,50.0,90.0,-40.0,2,1
doctor,zz,赵,usage,0,2,0.0,60.0,-60.0,2,1
`
	if got := b.String(); got != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}
}

func TestJSONShape(t *testing.T) {
	g := map[string]rates.Group{"a": {Active: 10, Sampled: 3, Qualified: 1, Used: 2}}
	p := params
	p.Sample = 3
	r := rates.Compute(p, rates.DefaultTargets, county(doctors("a"), g), time.Time{})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["as_of"] != "2025-12-31" || m["sample"] != 3.0 || m["seed"] != 7.0 || m["window_from"] != "2025-01-01" {
		t.Errorf("parameters: %v %v %v %v", m["as_of"], m["sample"], m["seed"], m["window_from"])
	}
	if !strings.Contains(string(b), `"rate":33.3`) || !strings.Contains(string(b), `"targets":{"coverage":90.0,"quality":90.0,"usage":60.0}`) {
		t.Errorf("JSON: %s", b)
	}
	var back rates.Report
	if err := json.Unmarshal(b, &back); err != nil || back.Sample != 3 || len(back.Rows) != len(r.Rows) {
		t.Errorf("round trip: %v %+v", err, back.Params)
	}
}

func TestFilter(t *testing.T) {
	g := map[string]rates.Group{
		"a": {Active: 10, Sampled: 10, Qualified: 1, Used: 10},
		"b": {Active: 10, Sampled: 10, Qualified: 2, Used: 10},
		"c": {Active: 10, Sampled: 10, Qualified: 3, Used: 10},
		"d": {Active: 10, Sampled: 10, Qualified: 4, Used: 10},
	}
	r := rates.Compute(params, rates.DefaultTargets, county(doctors("a", "b", "c", "d"), g), time.Time{})
	f := r.Filter(func(x rates.Row) bool { return x.Level == rates.Doctor && x.ScopeCode == "b" })
	if len(f.Rows) != 3 {
		t.Fatalf("rows %d", len(f.Rows))
	}
	if x := row(t, f, rates.Doctor, "b", rates.Quality); rank(x) != 3 || !x.Warning {
		t.Errorf("b keeps its county-wide rank: %+v", x)
	}
	for _, w := range f.Warnings {
		if w.ScopeCode != "b" {
			t.Errorf("warning of %s leaked", w.ScopeCode)
		}
	}
	for _, s := range f.Summaries {
		if s.Level == rates.Doctor && s.Indicator == rates.Quality {
			if len(s.Bottom) != 1 || s.Bottom[0].ScopeCode != "b" || s.Max.String() != "40.0" || len(s.Top) != 1 {
				t.Errorf("summary %+v", s)
			}
		}
	}
}
