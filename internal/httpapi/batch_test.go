package httpapi_test

import (
	"encoding/json"
	"fmt"
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

// TestWorklist: the due list and its residents' records in one answer; each
// record is logged as a read, as its own GET would be, and a refused due
// list (another institution's village) is the due list's own answer.
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

	r := one.e.login(one.e.f.HomeVisitA).mustReq("GET", "/api/v1/followups/worklist", nil, 200)
	var got struct {
		Due     map[string]any `json:"due"`
		Records []struct {
			RecordID string         `json:"record_id"`
			Status   int            `json:"status"`
			Body     map[string]any `json:"body"`
		} `json:"records"`
	}
	if err := json.Unmarshal(r.Raw, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Due, due.Body) {
		t.Errorf("due %v, alone %v", got.Due, due.Body)
	}
	if len(got.Records) != len(recs) {
		t.Fatalf("%d records, want %d", len(got.Records), len(recs))
	}
	for i, rec := range got.Records {
		if rec.Status != 200 || rec.RecordID != recs[i]["record_id"] || !reflect.DeepEqual(rec.Body["sections"], recs[i]["sections"]) {
			t.Errorf("record %s: %d %v, alone %v", rec.RecordID, rec.Status, rec.Body, recs[i])
		}
	}
	wantLog, gotLog := single.auditRows(), one.auditRows()
	if !reflect.DeepEqual(gotLog[before:], wantLog[before:]) {
		t.Fatalf("access log of the worklist:\n%v\nof single requests:\n%v", gotLog[before:], wantLog[before:])
	}
	for _, rec := range got.Records {
		if !strings.Contains(strings.Join(gotLog[before:], "\n"), "|"+rec.RecordID+"|basic|read|allowed|") {
			t.Fatalf("no read of %s in the access log: %v", rec.RecordID, gotLog[before:])
		}
	}

	if r := one.doc.req("GET", "/api/v1/followups/worklist?village_code="+one.e.f.VillageB1, nil); r.Status != 403 {
		t.Fatalf("worklist of another institution's village: %d %s", r.Status, r.Raw)
	}
}
