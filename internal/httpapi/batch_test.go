package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// batchScene is the same small day's work, sent either one request at a
// time or as one batch: good entries of several kinds, a malformed one, one
// on another institution's record (403), one with an unknown kind.
type batchScene struct {
	e          *env
	doc        *client
	r1, r2, rB string
}

func newBatchScene(t *testing.T) *batchScene {
	e := newEnv(t)
	e.at("2024-06-30")
	s := &batchScene{e: e, doc: e.login(e.f.DoctorA)}
	s.r1 = s.doc.fileRecord(e.f.VillageA1, "张秀英", nil)
	s.r2 = s.doc.fileRecord(e.f.VillageA1, "李建国", nil)
	s.doc.mustReq("POST", "/api/v1/records/"+s.r1+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-10"}, 201)
	s.rB = e.login(e.f.DoctorB).fileRecord(e.f.VillageB1, "赵美兰", nil)
	return s
}

func (s *batchScene) items() []map[string]any {
	bad := followupBody("2024-06-02", "")
	delete(bad, "systolic")
	return []map[string]any{
		{"record_id": s.r1, "kind": "followups", "idempotency_key": "k1", "body": followupBody("2024-06-01", "")},
		{"record_id": s.r2, "kind": "visits", "idempotency_key": "k2", "body": visitBody("2024-06-01")},
		{"record_id": s.r1, "kind": "followups", "idempotency_key": "k3", "body": bad},
		{"record_id": s.rB, "kind": "visits", "idempotency_key": "k4", "body": visitBody("2024-06-01")},
		{"record_id": s.r1, "kind": "exams", "idempotency_key": "k5", "body": map[string]any{"service_date": "2024-05-01"}},
		{"record_id": s.r2, "kind": "consultations", "idempotency_key": "k6", "body": map[string]any{"service_date": "2024-06-04",
			"reason": "血压难以控制", "opinion": "加用利尿剂", "consultants": []map[string]any{{"institution": "淳安县第一人民医院", "doctor": "王主任"}}}},
	}
}

// auditRows is the access log as a list of comparable lines (no ids or times).
func (s *batchScene) auditRows() []string {
	var rows []string
	if err := s.e.db.Select(&rows, `SELECT concat_ws('|', staff_code, roles, record_id, section, action, outcome, reason, method, path)
		FROM access_log ORDER BY id`); err != nil {
		s.e.t.Fatal(err)
	}
	return rows
}

func (s *batchScene) entries() int {
	var n int
	if err := s.e.db.Get(&n, `SELECT (SELECT count(*) FROM entries) + (SELECT count(*) FROM exams)`); err != nil {
		s.e.t.Fatal(err)
	}
	return n
}

type batchAnswer struct {
	Items []struct {
		Status   int             `json:"status"`
		Location string          `json:"location"`
		Body     json.RawMessage `json:"body"`
	} `json:"items"`
}

func (s *batchScene) batch(items []map[string]any) batchAnswer {
	s.e.t.Helper()
	r := s.doc.mustReq("POST", "/api/v1/batch", map[string]any{"items": items}, 200)
	var out batchAnswer
	if err := json.Unmarshal(r.Raw, &out); err != nil {
		s.e.t.Fatal(err)
	}
	if len(out.Items) != len(items) {
		s.e.t.Fatalf("%d answers for %d items", len(out.Items), len(items))
	}
	return out
}

// TestBatch: each item of a batch answers what it would have answered
// alone, is logged in the access log exactly as a single request is, and
// one bad item blocks none of the others; a replay of the whole batch
// creates nothing twice.
func TestBatch(t *testing.T) {
	single := newBatchScene(t)
	batched := newBatchScene(t)
	if single.r1 != batched.r1 || single.rB != batched.rB {
		t.Fatal("the two scenes allocated different record IDs")
	}
	before := batched.auditRows()

	var want []int
	var wantBodies []map[string]any
	for _, it := range single.items() {
		r := single.doc.req("POST", fmt.Sprintf("/api/v1/records/%s/%s", it["record_id"], it["kind"]), it["body"],
			"Idempotency-Key", it["idempotency_key"].(string))
		want = append(want, r.Status)
		wantBodies = append(wantBodies, r.Body)
	}
	if fmt.Sprint(want) != "[201 201 400 403 201 201]" {
		t.Fatalf("single statuses %v", want)
	}

	got := batched.batch(batched.items())
	for i, it := range got.Items {
		if it.Status != want[i] {
			t.Errorf("item %d: status %d, alone %d: %s", i, it.Status, want[i], it.Body)
		}
		var body map[string]any
		_ = json.Unmarshal(it.Body, &body)
		// The same answer but for the moment it was made at and its ID
		// (different residents' items run side by side).
		for _, b := range []map[string]any{body, wantBodies[i]} {
			delete(b, "created_at")
			delete(b, "id")
		}
		if !reflect.DeepEqual(body, wantBodies[i]) {
			t.Errorf("item %d: body %s, alone %v", i, it.Body, wantBodies[i])
		}
		if it.Status == 201 && it.Location == "" {
			t.Errorf("item %d: no location", i)
		}
	}
	if b := string(got.Items[2].Body); !strings.Contains(b, `"field":"systolic"`) {
		t.Errorf("the malformed item's answer does not name its field: %s", b)
	}

	// The access log: the same lines as the single requests wrote (denial
	// of the other institution's record included); records' items may run
	// side by side, so in any order.
	wantLog := single.auditRows()
	gotLog := batched.auditRows()
	slices.Sort(wantLog[len(before):])
	slices.Sort(gotLog[len(before):])
	if !reflect.DeepEqual(gotLog[len(before):], wantLog[len(before):]) {
		t.Fatalf("access log of the batch:\n%v\nof single requests:\n%v", gotLog[len(before):], wantLog[len(before):])
	}
	var denied int
	if err := batched.e.db.Get(&denied, `SELECT count(*) FROM access_log WHERE record_id = $1 AND outcome = 'denied' AND staff_code = $2`,
		batched.rB, batched.e.f.DoctorA); err != nil || denied != 1 {
		t.Fatalf("denials logged on the other institution's record: %d %v", denied, err)
	}

	// A replay of the whole batch (its answer was lost): nothing twice, the
	// created ones answer 200 with the first result.
	n := batched.entries()
	again := batched.batch(batched.items())
	for i, it := range again.Items {
		w := want[i]
		if w == 201 {
			w = 200
		}
		if it.Status != w {
			t.Errorf("replayed item %d: status %d, want %d", i, it.Status, w)
		}
		if w == 200 && string(it.Body) != string(got.Items[i].Body) {
			t.Errorf("replayed item %d: %s, first %s", i, it.Body, got.Items[i].Body)
		}
	}
	if m := batched.entries(); m != n {
		t.Fatalf("entries after a replay: %d, before %d", m, n)
	}
}

// TestBatchShape: a batch that is not one answers 400 as a whole; an item
// that does not say what to create answers its own 400; a role that may
// write no entry may not send a batch (403, logged).
func TestBatchShape(t *testing.T) {
	s := newBatchScene(t)
	e := s.e
	var over []map[string]any
	for i := range 201 {
		over = append(over, map[string]any{"record_id": s.r1, "kind": "visits", "idempotency_key": fmt.Sprint("o", i), "body": visitBody("2024-06-01")})
	}
	n := s.entries()
	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{"items": over}, "items"},
		{map[string]any{"items": []any{}}, "items"},
		{map[string]any{}, "items"},
		{map[string]any{"items": over[:1], "extra": 1}, "extra"},
	} {
		r := s.doc.req("POST", "/api/v1/batch", c.body)
		if r.Status != 400 || r.errField() != c.field {
			t.Errorf("batch %.60v: %d %s", c.body, r.Status, r.Raw)
		}
	}
	if r := s.doc.req("POST", "/api/v1/batch", "[1,2]"); r.Status != 400 {
		t.Errorf("a batch that is no object: %d %s", r.Status, r.Raw)
	}
	if m := s.entries(); m != n {
		t.Fatalf("a refused batch created %d entries", m-n)
	}

	got := s.batch([]map[string]any{
		{"record_id": s.r1, "kind": "programmes", "body": map[string]any{}},
		{"kind": "visits", "body": visitBody("2024-06-01")},
		{"record_id": s.r1, "kind": "visits"},
		{"record_id": "123", "kind": "visits", "body": visitBody("2024-06-01")},
		{"record_id": s.r1, "kind": "visits", "body": visitBody("2024-06-01"), "priority": 1},
		{"record_id": s.r1, "kind": "visits", "body": visitBody("2024-06-01")},
	})
	for i, want := range []string{"items[0].kind", "items[1].record_id", "items[2].body", "record_id", "items[4].priority", ""} {
		it := got.Items[i]
		var b response
		_ = json.Unmarshal(it.Body, &b.Body)
		if want == "" && it.Status != 201 || want != "" && (it.Status != 400 || b.errField() != want) {
			t.Errorf("item %d: %d %s, want field %q", i, it.Status, it.Body, want)
		}
	}

	before := len(s.auditRows())
	if r := e.login(e.f.Bureau).req("POST", "/api/v1/batch", map[string]any{"items": over[:1]}); r.Status != 403 {
		t.Fatalf("bureau batch: %d %s", r.Status, r.Raw)
	}
	if rows := s.auditRows(); len(rows) != before+1 || !strings.Contains(rows[before], "|denied|") {
		t.Fatalf("the refused batch is not logged: %v", rows[before:])
	}
}

// TestWorklist: the worklist answers the due list exactly as GET
// /followups/due does and each listed resident's record as GET
// /records/{id} does, and writes each listed resident to the access log
// once, as a sync (not as reads of each section). A refused due list
// (another institution's village) is the due list's own answer.
func TestWorklist(t *testing.T) {
	single := newBatchScene(t)
	one := newBatchScene(t)
	for _, s := range []*batchScene{single, one} {
		s.doc.mustReq("POST", "/api/v1/records/"+s.r2+"/programmes", map[string]any{"programme": "type2_diabetes", "enrolled_on": "2024-02-01"}, 201)
	}
	before := len(one.auditRows())

	hv := single.e.login(single.e.f.HomeVisitA)
	due := hv.mustReq("GET", "/api/v1/followups/due?per_page=500", nil, 200)
	items, _ := due.Body["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("due: %s", due.Raw)
	}
	var recs []map[string]any
	for _, it := range items {
		recs = append(recs, hv.mustReq("GET", "/api/v1/records/"+it.(map[string]any)["record_id"].(string), nil, 200).Body)
	}

	got := worklistOf(t, one.e.login(one.e.f.HomeVisitA), "")
	if !reflect.DeepEqual(got.Due, due.Body) {
		t.Errorf("due %v, alone %v", got.Due, due.Body)
	}
	if got.Delta || got.Cursor == "" {
		t.Errorf("first worklist: delta %v, cursor %q", got.Delta, got.Cursor)
	}
	if len(got.Records) != len(recs) {
		t.Fatalf("%d records, want %d", len(got.Records), len(recs))
	}
	for i, rec := range got.Records {
		if rec.Status != 200 || rec.RecordID != recs[i]["record_id"] || !reflect.DeepEqual(rec.Body["sections"], recs[i]["sections"]) {
			t.Errorf("record %s: %d %v, alone %v", rec.RecordID, rec.Status, rec.Body, recs[i])
		}
	}
	log := one.auditRows()[before:]
	if len(log) != len(got.Records) {
		t.Fatalf("access log of the worklist: %d rows, want one per record:\n%s", len(log), strings.Join(log, "\n"))
	}
	for _, rec := range got.Records {
		if !strings.Contains(strings.Join(log, "\n"), "|"+rec.RecordID+"|record|sync|allowed||GET|/api/v1/followups/worklist") {
			t.Fatalf("no sync of %s in the access log: %v", rec.RecordID, log)
		}
	}

	if r := one.doc.req("GET", "/api/v1/followups/worklist?village_code="+one.e.f.VillageB1, nil); r.Status != 403 {
		t.Fatalf("worklist of another institution's village: %d %s", r.Status, r.Raw)
	}
}

type worklistAnswer struct {
	Due     map[string]any `json:"due"`
	Records []struct {
		RecordID string         `json:"record_id"`
		Status   int            `json:"status"`
		Body     map[string]any `json:"body"`
	} `json:"records"`
	Cursor string `json:"cursor"`
	Delta  bool   `json:"delta"`
}

func worklistOf(t *testing.T, c *client, query string) worklistAnswer {
	t.Helper()
	r := c.mustReq("GET", "/api/v1/followups/worklist"+query, nil, 200)
	var got worklistAnswer
	if err := json.Unmarshal(r.Raw, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func (w worklistAnswer) ids() []string {
	out := []string{}
	for _, r := range w.Records {
		out = append(out, r.RecordID)
	}
	return out
}

// TestWorklistDelta: given the last answer's cursor, the worklist sends
// only the records changed since (basic information, an exam, an
// enrolment), and those the device asks for; each listed resident is
// logged once per sync — a record sent as "record", the others as
// "summary". A change by a transaction that began before the cursor was
// taken but committed after it is sent too; a cursor of another person is
// ignored; a forged one is 400.
func TestWorklistDelta(t *testing.T) {
	s := newBatchScene(t)
	s.doc.mustReq("POST", "/api/v1/records/"+s.r2+"/programmes", map[string]any{"programme": "type2_diabetes", "enrolled_on": "2024-02-01"}, 201)
	// A transaction of something else, running across the syncs, makes
	// nothing be sent again.
	other, err := s.e.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	if _, err := other.Exec(`SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	hv := s.e.login(s.e.f.HomeVisitA)
	first := worklistOf(t, hv, "")
	if len(first.Records) != 2 {
		t.Fatalf("first worklist: %v", first.ids())
	}

	before := len(s.auditRows())
	same := worklistOf(t, hv, "?since="+url.QueryEscape(first.Cursor))
	if !same.Delta || len(same.Records) != 0 {
		t.Fatalf("nothing changed: delta %v, records %v", same.Delta, same.ids())
	}
	if items, _ := same.Due["items"].([]any); len(items) != 2 {
		t.Fatalf("the due list is always whole: %v", same.Due)
	}
	log := s.auditRows()[before:]
	if len(log) != 2 || !strings.Contains(log[0], "|summary|sync|allowed|") || !strings.Contains(log[1], "|summary|sync|allowed|") {
		t.Fatalf("access log of an unchanged sync: %v", log)
	}

	// A visit moves only the rates' columns of the record (its last
	// service): not on the record page, so nothing is sent again.
	hv.mustReq("POST", "/api/v1/records/"+s.r2+"/visits", visitBody("2024-06-20"), 201)
	visited := worklistOf(t, hv, "?since="+url.QueryEscape(same.Cursor))
	if len(visited.Records) != 0 {
		t.Fatalf("a visit sent records again: %v", visited.ids())
	}
	same = visited

	// A basic change to one, and the other asked for by the device.
	s.doc.mustReq("PATCH", "/api/v1/records/"+s.r1, map[string]any{"phone": "13900001111"}, 200)
	changed := worklistOf(t, hv, "?since="+url.QueryEscape(same.Cursor))
	if !reflect.DeepEqual(changed.ids(), []string{s.r1}) {
		t.Fatalf("after a change to %s: %v", s.r1, changed.ids())
	}
	asked := worklistOf(t, hv, "?since="+url.QueryEscape(changed.Cursor)+"&records="+s.r2)
	if !reflect.DeepEqual(asked.ids(), []string{s.r2}) {
		t.Fatalf("asked for %s: %v", s.r2, asked.ids())
	}
	// An exam is on the record page too.
	s.doc.mustReq("POST", "/api/v1/records/"+s.r2+"/exams", map[string]any{"service_date": "2024-06-20", "systolic": 130, "diastolic": 80}, 201)
	exam := worklistOf(t, hv, "?since="+url.QueryEscape(asked.Cursor))
	if !reflect.DeepEqual(exam.ids(), []string{s.r2}) {
		t.Fatalf("after an exam of %s: %v", s.r2, exam.ids())
	}

	// A follow-up moves the enrolment's schedule, which the record shows.
	hv.mustReq("POST", "/api/v1/records/"+s.r1+"/followups", followupBody("2024-06-25", ""), 201)
	// (Now due in three months: the list looks further ahead.)
	followed := worklistOf(t, hv, "?within_days=120&since="+url.QueryEscape(exam.Cursor))
	if !reflect.DeepEqual(followed.ids(), []string{s.r1}) {
		t.Fatalf("after a follow-up of %s: %v", s.r1, followed.ids())
	}
	exam = followed

	// A transaction that began before the cursor and commits after it.
	tx, err := s.e.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`UPDATE records SET phone = '13900002222', version = version + 1 WHERE record_id = $1`, s.r2); err != nil {
		t.Fatal(err)
	}
	during := worklistOf(t, hv, "?since="+url.QueryEscape(exam.Cursor))
	if len(during.Records) != 0 {
		t.Fatalf("an uncommitted change was sent: %v", during.ids())
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	late := worklistOf(t, hv, "?since="+url.QueryEscape(during.Cursor))
	if !reflect.DeepEqual(late.ids(), []string{s.r2}) || late.Records[0].Body["basic"].(map[string]any)["phone"] != "13900002222" {
		t.Fatalf("a change committed after the cursor was taken: %v", late.ids())
	}

	// Another person's cursor is no cursor; a forged one is refused.
	doc := worklistOf(t, s.doc, "?since="+url.QueryEscape(late.Cursor))
	if doc.Delta || len(doc.Records) == 0 {
		t.Fatalf("another person's cursor: delta %v, %v", doc.Delta, doc.ids())
	}
	for _, q := range []string{"?since=12", "?since=abc-0123456789ab", "?since=0123456789ab.5:3:", "?since=0123456789ab.3:9:2", "?records=123"} {
		r := hv.req("GET", "/api/v1/followups/worklist"+q, nil)
		if r.Status != 400 || !strings.Contains(string(r.Raw), `"field"`) {
			t.Fatalf("%s: %d %s", q, r.Status, r.Raw)
		}
	}
}
