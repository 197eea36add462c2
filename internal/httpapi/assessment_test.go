package httpapi_test

import (
	"encoding/json"
	"testing"
)

type assessmentJSON struct {
	ScopeName string `json:"scope_name"`
	Figures   []struct {
		Indicator   string   `json:"indicator"`
		Numerator   int      `json:"numerator"`
		Denominator int      `json:"denominator"`
		Rate        *float64 `json:"rate"`
		Target      float64  `json:"target"`
		Rank        *int     `json:"rank"`
		Ranked      int      `json:"ranked"`
	} `json:"figures"`
	Doctors []struct {
		ScopeCode string `json:"scope_code"`
	} `json:"doctors"`
	Trend struct {
		Indicators map[string][]struct {
			AsOf string `json:"as_of"`
		} `json:"indicators"`
	} `json:"trend"`
	Rules   map[string]string `json:"rules"`
	Records []struct {
		RecordID string   `json:"record_id"`
		Rules    []string `json:"rules"`
		Details  *struct {
			Name string `json:"name"`
		} `json:"details"`
	} `json:"records"`
	Total int `json:"total"`
}

func (f assessmentJSON) figure(ind string) (num, den int) {
	for _, x := range f.Figures {
		if x.Indicator == ind {
			return x.Numerator, x.Denominator
		}
	}
	return -1, -1
}

// TestMyAssessment: a doctor's own live figures with rank, trend and the
// records to fix; fixing one moves the figure at once; a records
// administrator sees the institution with its doctors; nobody else's.
func TestMyAssessment(t *testing.T) {
	e := newRatesEnv(t)
	get := func(c *client, q string) assessmentJSON {
		t.Helper()
		r := c.req("GET", "/api/v1/assessment"+q, nil)
		if r.Status != 200 {
			t.Fatalf("assessment%s: %d %s", q, r.Status, r.Raw)
		}
		var out assessmentJSON
		if err := json.Unmarshal(r.Raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if r := e.bureau.req("POST", "/api/v1/snapshots", map[string]any{"kind": "pre_assessment", "as_of": "2026-04-30"}); r.Status != 201 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	mine := get(e.docA, "")
	if n, d := mine.figure("quality"); n != 1 || d != 2 || len(mine.Figures) != 3 || mine.Figures[0].Ranked == 0 || mine.Figures[0].Rank == nil {
		t.Fatalf("docA's figures: %+v", mine.Figures)
	}
	if len(mine.Trend.Indicators["quality"]) != 1 || mine.Trend.Indicators["quality"][0].AsOf != "2026-04-30" {
		t.Fatalf("trend: %+v", mine.Trend)
	}
	if mine.Total != 1 || mine.Records[0].RecordID != e.bad || len(mine.Records[0].Rules) == 0 || mine.Records[0].Details == nil ||
		mine.Rules[mine.Records[0].Rules[0]] == "" {
		t.Fatalf("records to fix: %+v", mine.Records)
	}
	if r := e.docA.req("PATCH", "/api/v1/records/"+e.bad, map[string]any{"phone": "13800000000"}); r.Status != 200 {
		t.Fatalf("fix: %d %s", r.Status, r.Raw)
	}
	if r := e.docA.req("POST", "/api/v1/records/"+e.bad+"/exams", map[string]any{"service_date": "2026-05-01", "systolic": 120,
		"diastolic": 80, "height_cm": 150, "weight_kg": 50}); r.Status != 201 {
		t.Fatalf("exam: %d", r.Status)
	}
	if n, _ := get(e.docA, "").figure("quality"); n != 2 {
		t.Fatalf("the figure did not move after the fix: %d", n)
	}
	if past := get(e.docA, "?as_of=2024-12-31"); len(past.Figures) != 3 {
		t.Fatalf("as of a chosen date: %+v", past.Figures)
	}
	inst := get(e.raA, "?level=institution&scope_code="+e.f.InstA)
	if len(inst.Doctors) == 0 || inst.Doctors[0].ScopeCode != e.f.DoctorA {
		t.Fatalf("the institution's doctors: %+v", inst.Doctors)
	}
	get(e.raA, "?level=doctor&scope_code="+e.f.DoctorA)
	for _, c := range []struct {
		who  *client
		q    string
		want int
	}{
		{e.docB, "?scope_code=" + e.f.DoctorA, 403},
		{e.login(e.f.AdminB), "?level=institution&scope_code=" + e.f.InstA, 403},
		{e.docA, "?level=township&scope_code=330127100", 400},
		{e.docA, "?as_of=2026-02-30", 400},
		{e.docA, "?scope_code=nobody", 404},
	} {
		if r := c.who.req("GET", "/api/v1/assessment"+c.q, nil); r.Status != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.q, r.Status, c.want, r.Raw)
		}
	}
}
