package httpapi_test

import (
	"strings"
	"testing"
)

// TestUsageReason: a record whose only dynamic records in the window do not
// meet their specification is not used, and the records-to-fix lists say
// why, naming each record and what it misses; a record used is not
// explained, nor one with nothing in the window.
func TestUsageReason(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	extra := map[string]any{"responsible_doctor": f.DoctorA}
	unused, used, empty := doc.fileRecord(f.VillageA1, "林秀英", extra), doc.fileRecord(f.VillageA1, "周桂兰", extra), doc.fileRecord(f.VillageA1, "王芳", extra)
	doc.mustReq("POST", "/api/v1/records/"+unused+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-01"}, 201)
	// By phone, nothing measured and no next date: recorded, but it does not count.
	doc.mustReq("POST", "/api/v1/records/"+unused+"/followups", map[string]any{"service_date": "2024-05-01", "programme": "hypertension",
		"method": "phone", "classification": "satisfactory"}, 201)
	doc.mustReq("POST", "/api/v1/records/"+unused+"/exams", map[string]any{"service_date": "2024-05-02", "systolic": 130, "diastolic": 80}, 201)
	doc.mustReq("POST", "/api/v1/records/"+used+"/visits", visitBody("2024-05-03"), 201)

	var out struct {
		Records []struct {
			RecordID    string `json:"record_id"`
			HasDynamic  bool   `json:"has_dynamic_record"`
			UsageReason string `json:"usage_reason"`
		} `json:"records"`
		Figures []struct {
			Indicator string `json:"indicator"`
			Numerator int    `json:"numerator"`
		} `json:"figures"`
	}
	if st := doc.do("GET", "/api/v1/assessment?as_of=2024-06-30&per_page=50", nil, &out); st != 200 {
		t.Fatalf("assessment: %d", st)
	}
	for _, fig := range out.Figures {
		if fig.Indicator == "usage" && fig.Numerator != 1 {
			t.Errorf("usage numerator %d, want 1 (only the visit conforms)", fig.Numerator)
		}
	}
	reasons := map[string]string{}
	for _, r := range out.Records {
		reasons[r.RecordID] = r.UsageReason
		if r.RecordID == used && (!r.HasDynamic || r.UsageReason != "") {
			t.Errorf("the used record (listed for its quality): %+v", r)
		}
	}
	why := reasons[unused]
	for _, want := range []string{"2 条服务记录", "随访记录 2024-05-01 缺少血压、下次随访日期", "健康体检 2024-05-02 缺少身高、体重"} {
		if !strings.Contains(why, want) {
			t.Errorf("usage reason %q lacks %q", why, want)
		}
	}
	if r, ok := reasons[empty]; !ok || r != "" {
		t.Errorf("record without dynamic records: listed %v, reason %q", ok, r)
	}
}
