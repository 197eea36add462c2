package httpapi_test

import (
	"fmt"
	"testing"

	"healthrec/internal/postgres/pgtest"
)

// TestCorrectEntry: a follow-up that misses its measurement is corrected
// by a new version; the old one is kept unchanged and listed in the
// history only; the record becomes used and its schedule follows the new
// version; only the current version can be corrected; a replay creates
// nothing twice; and a correction by someone else than the responsible
// doctor waits in the filing queue.
func TestCorrectEntry(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc, hv := e.login(f.DoctorA), e.login(f.HomeVisitA)
	rec := doc.fileRecord(f.VillageA1, "林秀英", map[string]any{"responsible_doctor": f.DoctorA})
	doc.mustReq("POST", "/api/v1/records/"+rec+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-01"}, 201)
	first := doc.mustReq("POST", "/api/v1/records/"+rec+"/followups", map[string]any{"service_date": "2024-05-01", "programme": "hypertension",
		"method": "phone", "classification": "satisfactory"}, 201)
	old := fmt.Sprint(int64(first.Body["id"].(float64)))
	usedOn := func() string {
		t.Helper()
		var s string
		if err := e.db.Get(&s, `SELECT COALESCE(used_on::text, 'never') FROM records WHERE record_id = $1`, rec); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if u := usedOn(); u != "never" {
		t.Fatalf("a follow-up without its measurement made the record used: %s", u)
	}
	var oldRow string
	if err := e.db.Get(&oldRow, `SELECT e::text FROM entries e WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}

	path := "/api/v1/records/" + rec + "/followups/" + old + "/corrections"
	body := map[string]any{"service_date": "2024-05-01", "programme": "hypertension", "method": "phone", "classification": "satisfactory",
		"systolic": 138, "diastolic": 86, "weight_kg": 61.5, "next_date": "2024-08-01", "correction_reason": "补录电话随访时居民自测的血压"}
	if r := doc.req("POST", path, map[string]any{"service_date": "2024-05-01", "programme": "hypertension", "method": "phone",
		"classification": "satisfactory"}); r.Status != 400 || r.errField() != "correction_reason" {
		t.Errorf("without a reason: %d %s", r.Status, r.Raw)
	}
	r := doc.mustReq("POST", path, body, 201, "Idempotency-Key", "fix-1")
	newID := fmt.Sprint(int64(r.Body["id"].(float64)))
	if r.Header.Get("Location") != "/api/v1/records/"+rec+"/followups/"+newID {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	if again := doc.mustReq("POST", path, body, 200, "Idempotency-Key", "fix-1"); fmt.Sprint(int64(again.Body["id"].(float64))) != newID {
		t.Errorf("replay answered %v, want %s", again.Body["id"], newID)
	}
	if r := doc.req("POST", path, body); r.Status != 409 {
		t.Errorf("a corrected version corrected again: %d %s", r.Status, r.Raw)
	}
	var row string
	if err := e.db.Get(&row, `SELECT e::text FROM entries e WHERE id = $1`, old); err != nil || row != oldRow {
		t.Errorf("the corrected version changed:\n%s\nwas\n%s", row, oldRow)
	}
	if u := usedOn(); u != "{[2024-05-01,2025-05-01)}" {
		t.Errorf("used_on after the correction: %s", u)
	}
	var due string
	if err := e.db.Get(&due, `SELECT next_due_date::text FROM enrolments WHERE record_id = $1`, rec); err != nil || due != "2024-08-01" {
		t.Errorf("schedule after the correction: %q %v", due, err)
	}
	pgtest.CheckRateFacts(t, e.db)

	var list struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total"`
	}
	doc.do("GET", "/api/v1/records/"+rec+"/followups", nil, &list)
	if list.Total != 1 || len(list.Items) != 1 || fmt.Sprint(int64(list.Items[0]["id"].(float64))) != newID {
		t.Errorf("list after the correction: %+v", list)
	}
	doc.do("GET", "/api/v1/records/"+rec+"/timeline", nil, &list)
	if list.Total != 1 {
		t.Errorf("timeline after the correction: %d items", list.Total)
	}
	var hist struct {
		Items []struct {
			Version  int            `json:"version"`
			Corrects *int64         `json:"corrects"`
			Reason   string         `json:"correction_reason"`
			Current  bool           `json:"current"`
			Entry    map[string]any `json:"entry"`
		} `json:"items"`
	}
	for _, from := range []string{old, newID} {
		if st := doc.do("GET", "/api/v1/records/"+rec+"/followups/"+from+"/history", nil, &hist); st != 200 || len(hist.Items) != 2 {
			t.Fatalf("history from %s: %d %+v", from, st, hist)
		}
		v1, v2 := hist.Items[0], hist.Items[1]
		if v1.Version != 1 || v1.Corrects != nil || v1.Current || v1.Entry["systolic"] != nil ||
			v2.Version != 2 || v2.Corrects == nil || fmt.Sprint(*v2.Corrects) != old || !v2.Current || v2.Reason != "补录电话随访时居民自测的血压" {
			t.Errorf("history from %s: %+v", from, hist.Items)
		}
	}
	if r := doc.req("GET", "/api/v1/records/"+rec+"/visits/"+old+"/history", nil); r.Status != 404 {
		t.Errorf("a follow-up's history as a visit's: %d", r.Status)
	}

	// The home-visit worker's correction of their own visit waits for the doctor.
	v := hv.mustReq("POST", "/api/v1/records/"+rec+"/visits", visitBody("2024-06-01"), 201)
	fix := visitBody("2024-06-02")
	fix["correction_reason"] = "日期写错"
	c := hv.mustReq("POST", fmt.Sprintf("/api/v1/records/%s/visits/%v/corrections", rec, int64(v.Body["id"].(float64))), fix, 201)
	var queue struct {
		Items []struct {
			EntryID int64 `json:"entry_id"`
		} `json:"items"`
	}
	doc.do("GET", "/api/v1/filing/queue", nil, &queue)
	if len(queue.Items) != 2 || queue.Items[1].EntryID != int64(c.Body["id"].(float64)) {
		t.Errorf("queue after the home-visit worker's correction: %+v", queue)
	}
}
