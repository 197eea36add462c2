package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// provinceReportBody is what the tests read of GET /province/report.
type provinceReportBody struct {
	CountyCode string `json:"county_code"`
	Rows       []struct {
		Level       string   `json:"level"`
		ScopeCode   string   `json:"scope_code"`
		Indicator   string   `json:"indicator"`
		Numerator   int      `json:"numerator"`
		Denominator int      `json:"denominator"`
		Rate        *float64 `json:"rate"`
		Target      float64  `json:"target"`
		Rank        *int     `json:"rank"`
	} `json:"rows"`
	Summaries []struct {
		Level     string `json:"level"`
		Indicator string `json:"indicator"`
		Ranked    int    `json:"ranked"`
	} `json:"summaries"`
	Counties []struct {
		County   string  `json:"county_code"`
		DataAsOf *string `json:"data_as_of"`
		Stale    bool    `json:"stale"`
		Message  string  `json:"message"`
	} `json:"counties"`
}

// secondCounty adds a county 330128 of the same province to the database,
// with one institution, one township, two villages with populations and a
// doctor, and returns the doctor's code.
func secondCounty(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.db.CreateRegion(ctx, &region.Region{Code: "330128", Name: "建德市"}))
	must(e.db.CreateInstitution(ctx, &region.Institution{Code: "INSTC", Name: "新安江街道社区卫生服务中心", CountyCode: "330128"}))
	must(e.db.CreateRegion(ctx, &region.Region{Code: "330128100", Name: "新安江街道"}))
	for _, v := range []string{"330128100101", "330128100102"} {
		must(e.db.CreateRegion(ctx, &region.Region{Code: v, Name: "社区" + v[9:], InstitutionCode: "INSTC"}))
		must(e.db.SetPopulation(ctx, "admin", region.Population{VillageCode: v, Year: 2024, Population: 4}))
	}
	must(e.db.CreateStaff(ctx, &staff.Staff{Code: "docC", Name: "人员docC", InstitutionCode: "INSTC", Phone: "13800000000",
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain("INSTC")}}}, ""))
	pgtest.ResetPassword(t, e.db, "docC")
	return "docC"
}

// provinceUser adds a province staff member of province 33.
func provinceUser(t *testing.T, e *env, code string) {
	t.Helper()
	if err := e.db.CreateStaff(context.Background(), &staff.Staff{Code: code, Name: "省卫健委" + code,
		Grants: []staff.Grant{{Role: staff.Province, Domain: staff.ProvinceDomain("33")}}}, ""); err != nil {
		t.Fatal(err)
	}
	pgtest.ResetPassword(t, e.db, code)
}

// TestProvinceReport: the province role reads every county's three rates,
// then its townships and institutions, ranked across the province, with
// each county's figures equal to its own county report's, as JSON, CSV and
// PDF; never a doctor's line, a record, or a person.
func TestProvinceReport(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	docC := secondCounty(t, e)
	provinceUser(t, e, "prov1")
	for _, v := range []string{f.VillageA1, f.VillageA2, f.VillageB1, f.VillageB2} {
		if err := e.db.SetPopulation(context.Background(), "admin", region.Population{VillageCode: v, Year: 2024, Population: 10}); err != nil {
			t.Fatal(err)
		}
	}
	docA := e.login(f.DoctorA)
	rid := docA.fileRecord(f.VillageA1, "省甲", nil)
	docA.fileRecord(f.VillageA2, "省乙", nil)
	c := e.login(docC)
	c.fileRecord("330128100101", "省丙", nil)
	c.fileRecord("330128100101", "省丁", nil)
	c.fileRecord("330128100102", "省戊", nil)
	if _, err := e.db.FoldRateChanges(context.Background()); err != nil {
		t.Fatal(err)
	}

	prov := e.login("prov1")
	r := prov.req("GET", "/api/v1/province/report?as_of=2024-06-30", nil)
	if r.Status != 200 {
		t.Fatalf("province report: %d %s", r.Status, r.Raw)
	}
	var body provinceReportBody
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		t.Fatal(err)
	}
	cov := map[string]int{}
	levels := map[string]int{}
	for _, row := range body.Rows {
		levels[row.Level]++
		if row.Indicator == "coverage" {
			cov[row.Level+"/"+row.ScopeCode] = row.Numerator
		}
	}
	if levels["doctor"] != 0 || levels["county"] != 6 || levels["institution"] != 9 {
		t.Errorf("rows per level: %v (want 2 counties, 3 institutions, no doctor)", levels)
	}
	if cov["county/330127"] != 2 || cov["county/330128"] != 3 || cov["institution/INSTC"] != 3 || cov["institution/"+f.InstA] != 2 {
		t.Errorf("coverage numerators: %v", cov)
	}
	// Ranked across the province: the 2 counties and 3 institutions.
	// (InstB has a population and no record: 0.0 %, ranked too.)
	want := map[string]int{"county": 2, "institution": 3}
	for _, s := range body.Summaries {
		if n, ok := want[s.Level]; ok && s.Indicator == "coverage" && s.Ranked != n || s.Level == "doctor" {
			t.Errorf("summary %s/%s ranked %d", s.Level, s.Indicator, s.Ranked)
		}
	}
	// A county's figures, down to its institutions, are its own report's.
	own := e.login(f.Bureau).req("GET", "/api/v1/reports/rates?as_of=2024-06-30&sample=all&seed=1", nil)
	var ownBody provinceReportBody
	_ = json.Unmarshal(own.Raw, &ownBody)
	compared := 0
	for _, row := range ownBody.Rows {
		if row.Level == "doctor" {
			continue
		}
		for _, p := range body.Rows {
			if p.Level == row.Level && p.ScopeCode == row.ScopeCode && p.Indicator == row.Indicator {
				compared++
				if p.Numerator != row.Numerator || p.Denominator != row.Denominator || p.Target != row.Target {
					t.Errorf("%s %s %s: province %d/%d, county %d/%d", row.Level, row.ScopeCode, row.Indicator, p.Numerator, p.Denominator, row.Numerator, row.Denominator)
				}
			}
		}
	}
	if compared != 15 { // county, 2 townships, 2 institutions × 3 indicators
		t.Errorf("compared %d rows with the county's own report, want 15", compared)
	}
	// No heartbeat has arrived in this database: each county is listed,
	// stale, with its age unknown.
	if len(body.Counties) != 2 || body.Counties[0].DataAsOf != nil || !body.Counties[0].Stale || body.Counties[0].Message == "" {
		t.Errorf("counties: %+v", body.Counties)
	}

	csv := prov.req("GET", "/api/v1/province/report?as_of=2024-06-30&format=csv", nil)
	if csv.Status != 200 || !strings.HasPrefix(string(csv.Raw), "level,scope_code,scope_name,indicator") ||
		!strings.Contains(string(csv.Raw), "\ncounty,330128,建德市,coverage,3,8,37.5,") || strings.Contains(string(csv.Raw), "\ndoctor,") {
		t.Errorf("CSV: %d %s", csv.Status, csv.Raw)
	}
	if pdf := prov.req("GET", "/api/v1/province/report?as_of=2024-06-30&format=pdf", nil); pdf.Status != 200 || !strings.HasPrefix(string(pdf.Raw), "%PDF") {
		t.Errorf("PDF: %d", pdf.Status)
	}
	if cs := prov.req("GET", "/api/v1/province/counties", nil); cs.Status != 200 || len(cs.Body["items"].([]any)) != 2 {
		t.Errorf("counties: %d %s", cs.Status, cs.Raw)
	}

	t.Run("BadInput", func(t *testing.T) {
		for q, field := range map[string]string{"sample=10": "sample", "as_of=2024-02-30": "as_of", "format=xls": "format"} {
			if r := prov.req("GET", "/api/v1/province/report?"+q, nil); r.Status != 400 || r.errField() != field {
				t.Errorf("%s: %d %s", q, r.Status, r.Raw)
			}
		}
	})

	t.Run("AdminMakesAProvinceAccount", func(t *testing.T) {
		admin := e.login(f.Admin)
		body := func(code, domain string) map[string]any {
			return map[string]any{"staff_code": code, "name": "省级用户", "password": "Province-pass-2026",
				"roles": []map[string]string{{"role": "province", "domain": domain}}}
		}
		for _, bad := range []string{"province:3", "province:abc", "county:330127", "province:330"} {
			if r := admin.req("POST", "/api/v1/staff", body("prov-bad", bad)); r.Status != 400 || r.errField() != "roles" {
				t.Errorf("province role in %q: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := admin.req("POST", "/api/v1/staff", body("prov2", "province:33")); r.Status != 201 {
			t.Fatalf("province account: %d %s", r.Status, r.Raw)
		}
		var tok struct {
			Token string `json:"token"`
		}
		if st := e.anon().do("POST", "/api/v1/login", map[string]string{"staff_code": "prov2", "password": "Province-pass-2026"}, &tok); st != 200 {
			t.Fatalf("province login: %d", st)
		}
		c := &client{e: e, token: tok.Token}
		if r := c.req("GET", "/api/v1/province/report?as_of=2024-06-30", nil); r.Status != 200 {
			t.Errorf("the new account's report: %d", r.Status)
		}
	})

	t.Run("Denials", func(t *testing.T) {
		// No record, no person, no county report; each refusal audited.
		for _, path := range []string{"/api/v1/records/" + rid, "/api/v1/records/" + rid + "/timeline", "/api/v1/records?q=省甲",
			"/api/v1/reports/rates", "/api/v1/reports/rates/records", "/api/v1/staff/" + f.DoctorA, "/api/v1/snapshots"} {
			r := prov.req("GET", path, nil)
			if r.Status != 403 || strings.Contains(string(r.Raw), "省甲") {
				t.Errorf("%s: %d %s", path, r.Status, r.Raw)
			}
			record := ""
			if strings.HasPrefix(path, "/api/v1/records/") {
				record = rid
			}
			if n := e.deniedRows("prov1", record, strings.Split(path, "?")[0]); n != 1 {
				t.Errorf("%s: %d denials logged, want 1", path, n)
			}
		}
		// Another province's report, and a county's bureau at the province's.
		if r := prov.req("GET", "/api/v1/province/report?province_code=34", nil); r.Status != 403 {
			t.Errorf("another province: %d", r.Status)
		}
		if n := e.deniedRows("prov1", "", "/api/v1/province/report"); n != 1 {
			t.Errorf("another province: %d denials logged", n)
		}
		if r := e.login(f.Bureau).req("GET", "/api/v1/province/report", nil); r.Status != 403 {
			t.Errorf("bureau at the province report: %d", r.Status)
		}
		if n := e.deniedRows(f.Bureau, "", "/api/v1/province/report"); n != 1 {
			t.Errorf("bureau: %d denials logged", n)
		}
	})
}
