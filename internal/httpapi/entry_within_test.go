package httpapi_test

import (
	"strings"
	"testing"
)

// TestEntryCreateWithinReach: a create checks the caller's write reach in
// the entry's own statement instead of the gate's lookup of the record
// first (AddEntryWithin). Every outcome is the gate's: an allowed create's
// audit row commits with the entry; a record outside the reach is denied
// (403), logged with the gate's reason, and nothing of the entry is
// written — neither the entry, nor its key, nor the record's facts; a
// missing record within the reach is 404 and not logged; a body the
// entry refuses is 400 and logged once; an author named other than the
// caller goes through the gate's scope and the attribution rule.
func TestEntryCreateWithinReach(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	inA1 := doc.fileRecord(f.VillageA1, "钱一", nil)
	inA2 := doc.fileRecord(f.VillageA2, "孙二", nil)
	for _, rid := range []string{inA1, inA2} {
		doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-01"}, 201)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := e.db.Get(&n, q, args...); err != nil {
			t.Fatal(err)
		}
		return n
	}
	logged := func(rid, outcome string) int {
		return count(`SELECT count(*) FROM access_log WHERE record_id = $1 AND action = 'write' AND outcome = $2`, rid, outcome)
	}
	written := func(rid string) [3]int {
		t.Helper()
		var w [3]int
		w[0] = count(`SELECT count(*) FROM entries WHERE record_id = $1`, rid)
		w[1] = count(`SELECT count(*) FROM idempotency_keys WHERE resource_id IN (SELECT id::text FROM entries WHERE record_id = $1)`, rid)
		w[2] = count(`SELECT count(*) FROM records WHERE record_id = $1 AND last_service_date IS NOT NULL`, rid)
		return w
	}

	hv := e.login(f.HomeVisitA)
	hv.mustReq("POST", "/api/v1/records/"+inA1+"/followups", followupBody("2024-06-01", ""), 201, "Idempotency-Key", "w1")
	var sameTx bool
	if err := e.db.Get(&sameTx, `SELECT (SELECT xmin::text FROM access_log WHERE record_id = $1 AND action = 'write' ORDER BY id DESC LIMIT 1)
		= (SELECT xmin::text FROM entries WHERE record_id = $1 ORDER BY id DESC LIMIT 1)`, inA1); err != nil || !sameTx {
		t.Fatalf("the allowed create's audit row is not in the entry's transaction (%v)", err)
	}
	if who, section, outcome := e.lastAccess(inA1); who != f.HomeVisitA || section != "entries.followups" || outcome != "allowed" {
		t.Fatalf("access log: %s %s %s", who, section, outcome)
	}

	for _, tc := range []struct{ who, reason string }{
		{f.HomeVisitA, "入户随访人员只能访问分配给本人的村居"}, // the village rule
		{f.DoctorB, "档案不在本人机构或村居范围内"},        // another institution
	} {
		t.Run(tc.who, func(t *testing.T) {
			before, denials := written(inA2), logged(inA2, "denied")
			e.login(tc.who).mustReq("POST", "/api/v1/records/"+inA2+"/followups", followupBody("2024-06-02", ""), 403,
				"Idempotency-Key", "d-"+tc.who)
			if got := written(inA2); got != before {
				t.Fatalf("a denied create wrote: entries, keys, facts %v → %v", before, got)
			}
			if got := logged(inA2, "denied") - denials; got != 1 {
				t.Fatalf("%d denials logged, want 1", got)
			}
			var reason string
			if err := e.db.Get(&reason, `SELECT reason FROM access_log WHERE record_id = $1 ORDER BY id DESC LIMIT 1`, inA2); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(reason, tc.reason) {
				t.Fatalf("denial reason %q, want it to say %q", reason, tc.reason)
			}
		})
	}

	missing := f.VillageA1 + "9999"
	doc.mustReq("POST", "/api/v1/records/"+missing+"/followups", followupBody("2024-06-02", ""), 404)
	if n := count(`SELECT count(*) FROM access_log WHERE record_id = $1`, missing); n != 0 {
		t.Fatalf("a missing record's create was logged %d times", n)
	}
	e.login(f.DoctorB).mustReq("POST", "/api/v1/records/"+missing+"/followups", followupBody("2024-06-02", ""), 403)
	doc.mustReq("POST", "/api/v1/records/9999999999999999/followups", followupBody("2024-06-02", ""), 404)

	before := logged(inA1, "allowed")
	doc.mustReq("POST", "/api/v1/records/"+inA1+"/followups", followupBody("2099-01-01", ""), 400)
	if got := logged(inA1, "allowed") - before; got != 1 {
		t.Fatalf("a refused body logged %d times", got)
	}

	// Named author: the gate's scope and the attribution rule.
	body := visitBody("2024-06-03")
	body["staff_code"] = f.HomeVisitA
	r := doc.mustReq("POST", "/api/v1/records/"+inA1+"/visits", body, 201)
	if r.Body["staff_code"] != f.HomeVisitA || r.Body["institution_code"] != f.InstA {
		t.Fatalf("named author: %v", r.Body)
	}
	body["staff_code"] = f.DoctorB
	doc.mustReq("POST", "/api/v1/records/"+inA1+"/visits", body, 400)

	// The entry's institution is the record's, as the gate's scope gives it.
	r = hv.mustReq("POST", "/api/v1/records/"+inA1+"/visits", visitBody("2024-06-04"), 201)
	if r.Body["institution_code"] != f.InstA || r.Body["staff_code"] != f.HomeVisitA {
		t.Fatalf("visit: %v", r.Body)
	}
}
