package httpapi_test

import (
	"fmt"
	"testing"

	"healthrec/internal/staff"
)

// entriesDump is every entry row as text: filing must leave it as it was.
func (e *env) entriesDump() string {
	e.t.Helper()
	var rows []string
	if err := e.db.Select(&rows, `SELECT e::text FROM entries e ORDER BY id`); err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprint(rows)
}

// TestFilingQueue: the entries home-visit staff, a records administrator or
// another doctor write on a record wait in its responsible doctor's queue;
// the doctor's own and legacy imports do not. Only the responsible doctor
// files (403, logged on the record, for the others), all or none, one or a
// batch, again without effect; and no entry changes.
func TestFilingQueue(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	e.addStaff("docA2", f.InstA, staff.Grant{Role: staff.Doctor, Domain: staff.InstitutionDomain(f.InstA)})
	doc, hv, ra, doc2 := e.login(f.DoctorA), e.login(f.HomeVisitA), e.login(f.AdminA), e.login("docA2")
	rec := doc.fileRecord(f.VillageA1, "林秀英", map[string]any{"responsible_doctor": f.DoctorA})
	var responsible string
	if err := e.db.Get(&responsible, `SELECT responsible_doctor FROM records WHERE record_id = $1`, rec); err != nil || responsible != f.DoctorA {
		t.Fatalf("setup: responsible doctor %q %v", responsible, err)
	}
	visit := func(c *client, date string) int64 {
		t.Helper()
		r := c.mustReq("POST", "/api/v1/records/"+rec+"/visits", visitBody(date), 201)
		return int64(r.Body["id"].(float64))
	}
	byHV, byRA, byDoc2, own := visit(hv, "2024-06-01"), visit(ra, "2024-06-02"), visit(doc2, "2024-06-03"), visit(doc, "2024-06-04")
	st, rep := ra.upload("/api/v1/imports", map[string]string{"entries.csv": "record_id,kind,service_date,staff_code,systolic,diastolic,height_cm,weight_kg\n" +
		rec + ",visit,2020-03-02,hvA,,,,\n"})
	if st != 200 || !rep.OK {
		t.Fatalf("import: %d %+v", st, rep)
	}

	var queue struct {
		Items []struct {
			EntryID   int64  `json:"entry_id"`
			RecordID  string `json:"record_id"`
			Name      string `json:"name"`
			WrittenBy string `json:"written_by"`
		} `json:"items"`
		Total int `json:"total"`
	}
	if st := doc.do("GET", "/api/v1/filing/queue", nil, &queue); st != 200 || queue.Total != 3 || len(queue.Items) != 3 {
		t.Fatalf("queue: %d %+v", st, queue)
	}
	for i, w := range []struct {
		id int64
		by string
	}{{byHV, f.HomeVisitA}, {byRA, f.AdminA}, {byDoc2, "docA2"}} {
		if it := queue.Items[i]; it.EntryID != w.id || it.WrittenBy != w.by || it.RecordID != rec || it.Name != "林秀英" {
			t.Errorf("queue item %d: %+v, want entry %d by %s", i, it, w.id, w.by)
		}
	}
	if st := doc2.do("GET", "/api/v1/filing/queue", nil, &queue); st != 200 || queue.Total != 0 {
		t.Errorf("another doctor's queue: %d %+v", st, queue)
	}
	if r := hv.req("GET", "/api/v1/filing/queue", nil); r.Status != 403 {
		t.Errorf("home-visit staff read a queue: %d", r.Status)
	}

	before := e.entriesDump()
	for _, c := range []struct {
		who    *client
		code   string
		reason string
	}{{hv, f.HomeVisitA, "role"}, {ra, f.AdminA, "not the responsible doctor"}, {doc2, "docA2", "not the responsible doctor"}} {
		denied := e.accessRows(rec, c.code, "filing", "denied")
		if r := c.who.req("POST", "/api/v1/filing", map[string]any{"entry_ids": []int64{byHV}}); r.Status != 403 {
			t.Errorf("%s (%s) filed: %d %s", c.code, c.reason, r.Status, r.Raw)
		}
		if n := e.accessRows(rec, c.code, "filing", "denied"); n != denied+1 {
			t.Errorf("%s: denial not logged on the record (%d rows)", c.code, n)
		}
	}
	for _, c := range []struct {
		body  any
		want  int
		field string
	}{
		{map[string]any{"entry_ids": []int64{byHV, own}}, 409, ""}, // the doctor's own entry was never queued
		{map[string]any{"entry_ids": []int64{byHV, 999999}}, 404, ""},
		{map[string]any{"entry_ids": []int64{}}, 400, "entry_ids"},
		{map[string]any{"entry_ids": []int64{0}}, 400, "entry_ids"},
		{map[string]any{}, 400, "entry_ids"},
		{map[string]any{"entry_ids": "1"}, 400, "entry_ids"},
	} {
		r := doc.req("POST", "/api/v1/filing", c.body)
		if r.Status != c.want || c.field != "" && r.errField() != c.field {
			t.Errorf("%v: %d %s, want %d %s", c.body, r.Status, r.Raw, c.want, c.field)
		}
	}
	if doc.do("GET", "/api/v1/filing/queue", nil, &queue); queue.Total != 3 {
		t.Fatalf("a refused filing filed something: queue %d", queue.Total)
	}

	var filed struct {
		Filed        []int64 `json:"filed"`
		AlreadyFiled []int64 `json:"already_filed"`
		Queue        int     `json:"queue"`
	}
	allowed := e.accessRows(rec, f.DoctorA, "filing", "allowed")
	if st := doc.do("POST", "/api/v1/filing", map[string]any{"entry_ids": []int64{byRA, byHV, byHV}}, &filed); st != 200 ||
		fmt.Sprint(filed.Filed) != fmt.Sprint([]int64{byHV, byRA}) || len(filed.AlreadyFiled) != 0 || filed.Queue != 1 {
		t.Fatalf("batch filing: %d %+v", st, filed)
	}
	if n := e.accessRows(rec, f.DoctorA, "filing", "allowed"); n != allowed+1 {
		t.Errorf("filing logged %d rows, want 1", n-allowed)
	}
	// Again, with the last one: the filed ones stay as they were.
	if st := doc.do("POST", "/api/v1/filing", map[string]any{"entry_ids": []int64{byHV, byRA, byDoc2}}, &filed); st != 200 ||
		fmt.Sprint(filed.Filed) != fmt.Sprint([]int64{byDoc2}) || fmt.Sprint(filed.AlreadyFiled) != fmt.Sprint([]int64{byHV, byRA}) || filed.Queue != 0 {
		t.Fatalf("filing again: %d %+v", st, filed)
	}
	if doc.do("GET", "/api/v1/filing/queue", nil, &queue); queue.Total != 0 || len(queue.Items) != 0 {
		t.Errorf("queue after filing: %+v", queue)
	}
	if after := e.entriesDump(); after != before {
		t.Errorf("filing changed entries:\n%s\nwas\n%s", after, before)
	}
	var by string
	if err := e.db.Get(&by, `SELECT filed_by FROM entry_filings WHERE entry_id = $1`, byHV); err != nil || by != f.DoctorA {
		t.Errorf("filed_by %q %v", by, err)
	}
}
