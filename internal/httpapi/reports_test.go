package httpapi_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"healthrec/internal/pdfdoc/pdftest"
)

// ratesEnv is the fixture county on 2026-06-30 with populations, two
// records in INSTA (one qualified and used, one failing Q8 without an exam)
// and one in INSTB.
type ratesEnv struct {
	*env
	bureau, raA, docA, docB *client
	good, bad, other        string
}

func newRatesEnv(t *testing.T) *ratesEnv {
	e := newEnv(t)
	e.now = time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
	r := &ratesEnv{env: e, bureau: e.login(e.f.Bureau), raA: e.login(e.f.AdminA), docA: e.login(e.f.DoctorA), docB: e.login(e.f.DoctorB)}
	for _, v := range []struct {
		c       *client
		village string
		n       int
	}{{r.raA, e.f.VillageA1, 4}, {r.raA, e.f.VillageA2, 10}, {e.login(e.f.AdminB), e.f.VillageB1, 5}} {
		if st := v.c.req("PUT", "/api/v1/villages/"+v.village+"/populations/2026", map[string]int{"population": v.n}).Status; st != 200 && st != 204 {
			t.Fatalf("population: %d", st)
		}
	}
	r.good = r.docA.fileRecord(e.f.VillageA1, "张好", map[string]any{"id_number": validID("1955-03-08", 2), "filed_on": "2025-01-01"})
	r.bad = r.docA.fileRecord(e.f.VillageA1, "李缺", map[string]any{"id_number": validID("1955-03-08", 4), "phone": "", "filed_on": "2025-01-01"})
	r.other = r.docB.fileRecord(e.f.VillageB1, "王乙", map[string]any{"id_number": validID("1955-03-08", 6), "filed_on": "2025-01-01"})
	for _, id := range []string{r.good, r.other} {
		c := r.docA
		if id == r.other {
			c = r.docB
		}
		if st := c.req("POST", "/api/v1/records/"+id+"/exams", map[string]any{"service_date": "2026-03-01", "systolic": 130,
			"diastolic": 80, "height_cm": 160, "weight_kg": 60}).Status; st != 201 {
			t.Fatalf("exam: %d", st)
		}
	}
	return r
}

type reportJSON struct {
	AsOf     string `json:"as_of"`
	Sample   any    `json:"sample"`
	Seed     int64  `json:"seed"`
	Rows     []rowJSON
	Warnings []struct {
		ScopeCode string `json:"scope_code"`
		Indicator string `json:"indicator"`
		Message   string `json:"message"`
	}
}

type rowJSON struct {
	Level       string   `json:"level"`
	ScopeCode   string   `json:"scope_code"`
	Indicator   string   `json:"indicator"`
	Numerator   int      `json:"numerator"`
	Denominator int      `json:"denominator"`
	Rate        *float64 `json:"rate"`
	Rank        *int     `json:"rank"`
	Warning     bool     `json:"warning"`
}

func (rep reportJSON) row(level, code, ind string) *rowJSON {
	for i, x := range rep.Rows {
		if x.Level == level && x.ScopeCode == code && x.Indicator == ind {
			return &rep.Rows[i]
		}
	}
	return nil
}

func getReport(t *testing.T, c *client, query string) reportJSON {
	t.Helper()
	r := c.req("GET", "/api/v1/reports/rates"+query, nil)
	if r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Raw)
	}
	var rep reportJSON
	if err := json.Unmarshal(r.Raw, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRatesReportAPI(t *testing.T) {
	e := newRatesEnv(t)
	f := e.f
	t.Run("BureauSeesTheCounty", func(t *testing.T) {
		rep := getReport(t, e.bureau, "?as_of=2026-06-30&sample=all&seed=5")
		if rep.AsOf != "2026-06-30" || rep.Sample != "all" || rep.Seed != 5 {
			t.Errorf("parameters %v %v %v", rep.AsOf, rep.Sample, rep.Seed)
		}
		cases := []struct {
			level, code, ind string
			num, den         int
			rate             float64
		}{
			{"county", f.County, "coverage", 3, 19, 15.8},
			{"county", f.County, "quality", 2, 3, 66.7},
			{"institution", f.InstA, "quality", 1, 2, 50.0},
			{"institution", f.InstA, "usage", 1, 2, 50.0},
			{"doctor", f.DoctorA, "coverage", 2, 4, 50.0},
			{"doctor", f.DoctorB, "quality", 1, 1, 100.0},
		}
		for _, tc := range cases {
			x := rep.row(tc.level, tc.code, tc.ind)
			if x == nil || x.Numerator != tc.num || x.Denominator != tc.den || x.Rate == nil || *x.Rate != tc.rate {
				t.Errorf("%s %s %s: %+v", tc.level, tc.code, tc.ind, x)
			}
		}
	})
	t.Run("DefaultsAndRandomSeed", func(t *testing.T) {
		a := getReport(t, e.bureau, "?sample=1")
		b := getReport(t, e.bureau, "?sample=1")
		if a.AsOf != "2026-06-30" || a.Seed == 0 || a.Seed == b.Seed {
			t.Errorf("as_of %s, seeds %d %d", a.AsOf, a.Seed, b.Seed)
		}
	})
	t.Run("RecordsAdminSeesTheInstitution", func(t *testing.T) {
		rep := getReport(t, e.raA, "")
		for _, x := range rep.Rows {
			if !(x.Level == "institution" && x.ScopeCode == f.InstA || x.Level == "doctor" && x.ScopeCode == f.DoctorA) {
				t.Errorf("records admin of INSTA sees %s %s", x.Level, x.ScopeCode)
			}
		}
		if rep.row("doctor", f.DoctorA, "quality") == nil {
			t.Error("records admin does not see their doctor")
		}
	})
	t.Run("Forbidden", func(t *testing.T) {
		for _, code := range []string{f.DoctorA, f.Reviewer, f.Requester, f.HomeVisitA, f.Admin} {
			if r := e.login(code).req("GET", "/api/v1/reports/rates", nil); r.Status != 403 {
				t.Errorf("%s: %d", code, r.Status)
			}
		}
	})
	t.Run("BadParameters", func(t *testing.T) {
		for q, field := range map[string]string{"?as_of=2023-02-30": "as_of", "?as_of=1899-12-31": "as_of", "?sample=-5": "sample",
			"?sample=0": "sample", "?seed=abc": "seed", "?format=exe": "format"} {
			r := e.bureau.req("GET", "/api/v1/reports/rates"+q, nil)
			if r.Status != 400 || r.errField() != field {
				t.Errorf("%s: %d %s", q, r.Status, r.Raw)
			}
		}
	})
	t.Run("CSV", func(t *testing.T) {
		r := e.bureau.req("GET", "/api/v1/reports/rates?format=csv&seed=1", nil)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%d %s", r.Status, r.Header.Get("Content-Type"))
		}
		lines := strings.Split(strings.TrimSpace(string(r.Raw)), "\n")
		if lines[0] != "level,scope_code,scope_name,indicator,numerator,denominator,rate,target,gap,rank,warning" {
			t.Errorf("header %q", lines[0])
		}
		var order []string
		for _, l := range lines[1:] {
			p := strings.Split(l, ",")
			order = append(order, p[0]+" "+p[1]+" "+p[3])
		}
		want := []string{"county 330127 coverage", "county 330127 quality", "county 330127 usage",
			"township 330127100 coverage", "township 330127100 quality", "township 330127100 usage",
			"township 330127101 coverage", "township 330127101 quality", "township 330127101 usage",
			"institution INSTA coverage", "institution INSTA quality", "institution INSTA usage",
			"institution INSTB coverage", "institution INSTB quality", "institution INSTB usage",
			"doctor docA coverage", "doctor docA quality", "doctor docA usage",
			"doctor docB coverage", "doctor docB quality", "doctor docB usage"}
		if strings.Join(order, "\n") != strings.Join(want, "\n") {
			t.Errorf("order:\n%s", strings.Join(order, "\n"))
		}
		if !strings.Contains(string(r.Raw), "\ncounty,330127,淳安县,coverage,3,19,15.8,90.0,-74.2,1,1\n") {
			t.Errorf("county coverage line missing:\n%s", r.Raw)
		}
	})
	t.Run("PDF", func(t *testing.T) {
		r := e.bureau.req("GET", "/api/v1/reports/rates?format=pdf&sample=300&seed=9", nil)
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("%d %s", r.Status, r.Header.Get("Content-Type"))
		}
		text := pdftest.Text(t, r.Raw)
		for _, want := range []string{"淳安县健康档案考核报表", "四、责任医生", "人员docA", "六、预警名单", "随机种子", "9"} {
			if !strings.Contains(text, want) {
				t.Errorf("PDF lacks %q", want)
			}
		}
	})
}

type drillJSON struct {
	Level     string `json:"level"`
	ScopeCode string `json:"scope_code"`
	Figures   []rowJSON
	Rules     map[string]string
	Items     []struct {
		RecordID   string         `json:"record_id"`
		Rules      []string       `json:"rules"`
		HasDynamic bool           `json:"has_dynamic_record"`
		Details    map[string]any `json:"details"`
	}
	Total int `json:"total"`
}

func TestRateRecordsAPI(t *testing.T) {
	e := newRatesEnv(t)
	f := e.f
	get := func(c *client, query string) (response, drillJSON) {
		t.Helper()
		r := c.req("GET", "/api/v1/reports/rates/records"+query, nil)
		var d drillJSON
		_ = json.Unmarshal(r.Raw, &d)
		return r, d
	}
	t.Run("DoctorSeesOwnByDefault", func(t *testing.T) {
		r, d := get(e.docA, "?as_of=2026-06-30")
		if r.Status != 200 || d.Level != "doctor" || d.ScopeCode != f.DoctorA || d.Total != 1 || len(d.Items) != 1 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		it := d.Items[0]
		if it.RecordID != e.bad || strings.Join(it.Rules, ",") != "Q8,Q10" || it.HasDynamic || it.Details["name"] != "李缺" {
			t.Errorf("item %+v", it)
		}
		if len(d.Figures) != 3 || d.Rules["Q8"] == "" {
			t.Errorf("figures %+v rules %v", d.Figures, d.Rules)
		}
		if id, _ := it.Details["id_number"].(string); !strings.Contains(id, "****") {
			t.Errorf("identity number not masked: %q", id)
		}
	})
	t.Run("BureauGetsNoPersonalDetails", func(t *testing.T) {
		r, d := get(e.bureau, "?level=institution&scope_code="+f.InstA+"&indicator=quality")
		if r.Status != 200 || len(d.Items) != 1 || d.Items[0].Details != nil || strings.Contains(string(r.Raw), "李缺") {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("RecordsAdminSeesDetailsAndIsAudited", func(t *testing.T) {
		r, d := get(e.raA, "?level=doctor&scope_code="+f.DoctorA)
		if r.Status != 200 || len(d.Items) != 1 || d.Items[0].Details == nil {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		log := e.raA.req("GET", "/api/v1/records/"+e.bad+"/access-log", nil)
		if !strings.Contains(string(log.Raw), "/api/v1/reports/rates/records") {
			t.Errorf("the drill-down read is not in the access log: %s", log.Raw)
		}
	})
	t.Run("UsageAndCoverage", func(t *testing.T) {
		_, d := get(e.bureau, "?level=county&scope_code="+f.County+"&indicator=usage")
		if d.Total != 1 || d.Items[0].RecordID != e.bad {
			t.Errorf("usage: %+v", d)
		}
		r, d := get(e.bureau, "?level=county&scope_code="+f.County+"&indicator=coverage")
		if r.Status != 200 || len(d.Items) != 0 || len(d.Figures) != 3 {
			t.Errorf("coverage: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("Forbidden", func(t *testing.T) {
		for _, tc := range []struct {
			c     *client
			query string
		}{
			{e.docA, "?level=doctor&scope_code=" + f.DoctorB},
			{e.docA, "?level=institution&scope_code=" + f.InstA},
			{e.raA, "?level=doctor&scope_code=" + f.DoctorB},
			{e.raA, "?level=county&scope_code=" + f.County},
			{e.login(f.Reviewer), "?level=county&scope_code=" + f.County},
		} {
			if r, _ := get(tc.c, tc.query); r.Status != 403 {
				t.Errorf("%s: %d %s", tc.query, r.Status, r.Raw)
			}
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		for q, want := range map[string]int{"?level=planet&scope_code=x": 400, "?level=doctor": 400, "?level=doctor&scope_code=nobody": 404,
			"?level=doctor&scope_code=docA&indicator=speed": 400, "?level=township&scope_code=999999999": 404} {
			if r, _ := get(e.bureau, q); r.Status != want {
				t.Errorf("%s: %d, want %d", q, r.Status, want)
			}
		}
	})
}

func TestTargetsAPI(t *testing.T) {
	e := newRatesEnv(t)
	r := e.bureau.req("GET", "/api/v1/targets", nil)
	if r.Status != 200 || string(bytes.TrimSpace(r.Raw)) != `{"coverage":90.0,"quality":90.0,"usage":60.0}` {
		t.Fatalf("defaults: %d %s", r.Status, r.Raw)
	}
	if r := e.bureau.req("PUT", "/api/v1/targets", `{"coverage":95,"quality":85.5,"usage":50}`); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Raw)
	}
	if r := e.bureau.req("GET", "/api/v1/targets", nil); string(bytes.TrimSpace(r.Raw)) != `{"coverage":95.0,"quality":85.5,"usage":50.0}` {
		t.Errorf("after put: %s", r.Raw)
	}
	rep := getReport(t, e.bureau, "")
	if x := rep.row("county", e.f.County, "quality"); x == nil || !x.Warning {
		t.Errorf("the report does not use the new targets: %+v", x)
	}
	for body, field := range map[string]string{`{"coverage":95,"quality":85}`: "usage", `{"coverage":101,"quality":85,"usage":1}`: "coverage",
		`{"coverage":9.25,"quality":85,"usage":1}`: "coverage", `{"coverage":"x","quality":85,"usage":1}`: "coverage", `{"extra":1}`: "extra"} {
		if r := e.bureau.req("PUT", "/api/v1/targets", body); r.Status != 400 || r.errField() != field {
			t.Errorf("%s: %d %s", body, r.Status, r.Raw)
		}
	}
	if r := e.raA.req("PUT", "/api/v1/targets", `{"coverage":1,"quality":1,"usage":1}`); r.Status != 403 {
		t.Errorf("records admin: %d", r.Status)
	}
}

func TestSnapshotsAPI(t *testing.T) {
	e := newRatesEnv(t)
	f := e.f
	r := e.bureau.req("POST", "/api/v1/snapshots", map[string]any{"kind": "pre_assessment", "title": "2026 年上半年预考核", "as_of": "2026-06-30", "sample": 300, "seed": 11})
	if r.Status != 201 || !strings.HasPrefix(r.Header.Get("Location"), "/api/v1/snapshots/") {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	loc := r.Header.Get("Location")
	if r.Body["sampled_records"] != 3.0 || r.Body["seed"] != 11.0 || r.Body["sample"] != 300.0 {
		t.Errorf("snapshot %v", r.Body)
	}
	before := e.bureau.req("GET", loc, nil)
	beforeCSV := e.bureau.req("GET", loc+"?format=csv", nil)
	if before.Status != 200 || beforeCSV.Status != 200 {
		t.Fatalf("%d %d", before.Status, beforeCSV.Status)
	}
	// The snapshot states the rule set it was computed with, in every format.
	if before.Body["rule_set"] != "Q1-Q15" || before.Body["report"].(map[string]any)["rule_set"] != "Q1-Q15" ||
		beforeCSV.Header.Get("X-Rule-Set") != "Q1-Q15" {
		t.Errorf("rule set: %v %v %q", before.Body["rule_set"], before.Body["report"].(map[string]any)["rule_set"], beforeCSV.Header.Get("X-Rule-Set"))
	}
	if pdf := e.bureau.req("GET", loc+"?format=pdf", nil); !strings.Contains(pdftest.Compact(t, pdf.Raw), "合格率规则：Q1–Q15") {
		t.Errorf("the PDF does not state the rule set:\n%s", pdftest.Compact(t, pdf.Raw))
	}

	// Fix the failing record, add an exam, move a record out: the live
	// figures move, the snapshot does not.
	if r := e.docA.req("PATCH", "/api/v1/records/"+e.bad, map[string]any{"phone": "13800000000"}); r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Raw)
	}
	if r := e.docA.req("POST", "/api/v1/records/"+e.bad+"/exams", map[string]any{"service_date": "2026-05-01", "systolic": 120,
		"diastolic": 80, "height_cm": 150, "weight_kg": 50}); r.Status != 201 {
		t.Fatalf("exam: %d", r.Status)
	}
	if r := e.docB.req("POST", "/api/v1/records/"+e.other+"/status", map[string]any{"status": "deceased", "status_date": "2026-06-01"}); r.Status != 200 {
		t.Fatalf("status: %d %s", r.Status, r.Raw)
	}
	live := getReport(t, e.bureau, "?as_of=2026-06-30&sample=300&seed=11")
	if x := live.row("county", f.County, "quality"); x.Numerator != 2 || x.Denominator != 2 {
		t.Errorf("live quality %d/%d, want 2/2", x.Numerator, x.Denominator)
	}
	after := e.bureau.req("GET", loc, nil)
	afterCSV := e.bureau.req("GET", loc+"?format=csv", nil)
	if !reflect.DeepEqual(before.Body, after.Body) || !bytes.Equal(beforeCSV.Raw, afterCSV.Raw) {
		t.Errorf("the snapshot changed:\n%s\n%s", before.Raw, after.Raw)
	}
	var snap struct {
		Report reportJSON `json:"report"`
	}
	_ = json.Unmarshal(after.Raw, &snap)
	if x := snap.Report.row("county", f.County, "quality"); x.Numerator != 2 || x.Denominator != 3 {
		t.Errorf("frozen quality %d/%d, want 2/3", x.Numerator, x.Denominator)
	}
	if _, err := e.db.Exec(`UPDATE rate_snapshot_rows SET numerator = 0`); err == nil {
		t.Error("the database let a snapshot row change")
	}
	if _, err := e.db.Exec(`DELETE FROM rate_snapshot_samples`); err == nil {
		t.Error("the database let a snapshot's records go")
	}
	if r := e.bureau.req("GET", loc+"?format=pdf", nil); r.Status != 200 || !strings.Contains(pdftest.Text(t, r.Raw), "2026-06-30") {
		t.Errorf("pdf: %d", r.Status)
	}

	t.Run("ListAndReviewer", func(t *testing.T) {
		rev := e.login(f.Reviewer)
		for _, c := range []*client{e.bureau, rev} {
			if r := c.req("GET", "/api/v1/snapshots", nil); r.Status != 200 || r.Body["total"] != 1.0 {
				t.Errorf("list: %d %s", r.Status, r.Raw)
			}
		}
		if r := rev.req("GET", loc, nil); r.Status != 200 {
			t.Errorf("reviewer reads: %d", r.Status)
		}
		if r := rev.req("POST", "/api/v1/snapshots", map[string]any{}); r.Status != 403 {
			t.Errorf("reviewer publishes: %d", r.Status)
		}
		if r := e.raA.req("GET", loc, nil); r.Status != 403 {
			t.Errorf("records admin reads: %d", r.Status)
		}
		if r := e.bureau.req("GET", "/api/v1/snapshots/999999", nil); r.Status != 404 {
			t.Errorf("unknown: %d", r.Status)
		}
		if r := e.bureau.req("GET", "/api/v1/snapshots/abc", nil); r.Status != 404 {
			t.Errorf("malformed: %d", r.Status)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		for body, field := range map[string]string{`{"as_of":"2026-02-30"}`: "as_of", `{"sample":-1}`: "sample", `{"sample":"some"}`: "sample",
			`{"seed":"x"}`: "seed", `{"kind":"assessment","title":"` + strings.Repeat("长", 201) + `"}`: "title",
			`{"kind":"assessment","as_of":"1899-12-31"}`: "as_of", `{"as_of":"2026-06-30"}`: "kind", `{"kind":"yearly"}`: "kind"} {
			if r := e.bureau.req("POST", "/api/v1/snapshots", body); r.Status != 400 || r.errField() != field {
				t.Errorf("%s: %d %s", body, r.Status, r.Raw)
			}
		}
	})
	t.Run("Trends", func(t *testing.T) {
		if r := e.bureau.req("POST", "/api/v1/snapshots", map[string]any{"kind": "assessment", "as_of": "2026-06-30", "sample": "all", "seed": 1}); r.Status != 201 {
			t.Fatalf("second publish: %d %s", r.Status, r.Raw)
		}
		if r := e.bureau.req("POST", "/api/v1/snapshots", map[string]any{"kind": "pre_assessment", "as_of": "2025-12-31"}); r.Status != 201 {
			t.Fatalf("third publish: %d %s", r.Status, r.Raw)
		}
		r := e.bureau.req("GET", "/api/v1/trends?level=doctor&scope_code="+f.DoctorA, nil)
		var tr struct {
			ScopeName  string `json:"scope_name"`
			Indicators map[string][]struct {
				AsOf        string   `json:"as_of"`
				Numerator   int      `json:"numerator"`
				Denominator int      `json:"denominator"`
				Rate        *float64 `json:"rate"`
			}
		}
		if err := json.Unmarshal(r.Raw, &tr); err != nil || r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		q := tr.Indicators["quality"]
		if len(q) != 3 || q[0].AsOf != "2025-12-31" || q[1].AsOf != "2026-06-30" || *q[1].Rate != 50.0 || *q[2].Rate != 100.0 {
			t.Errorf("quality trend %+v", q)
		}
		if len(tr.Indicators["coverage"]) != 3 || len(tr.Indicators["usage"]) != 3 || tr.ScopeName == "" {
			t.Errorf("trend %s", r.Raw)
		}
		for q, want := range map[string]int{"?level=doctor": 400, "?level=x&scope_code=docA": 400, "?level=doctor&scope_code=nobody": 404} {
			if r := e.bureau.req("GET", "/api/v1/trends"+q, nil); r.Status != want {
				t.Errorf("%s: %d", q, r.Status)
			}
		}
	})
}
