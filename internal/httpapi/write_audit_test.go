package httpapi_test

import (
	"fmt"
	"testing"
)

// TestWritesAuditedWithWrite: every write on a record follows one
// protocol. Its audit row commits in the write's own transaction (the
// row's xmin is the written row's), and an attempt that fails before or in
// the write is logged exactly once.
func TestWritesAuditedWithWrite(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	rid := doc.fileRecord(f.VillageA1, "钱八", nil)
	// sameTx reports whether the newest allowed write row of section on rid
	// was committed by the transaction that wrote the row the query names.
	sameTx := func(section, written string, args ...any) bool {
		t.Helper()
		var ok bool
		q := fmt.Sprintf(`SELECT (SELECT xmin::text FROM access_log WHERE record_id = '%s' AND section = '%s' AND action = 'write'
			AND outcome = 'allowed' ORDER BY id DESC LIMIT 1) = (%s)`, rid, section, written)
		if err := e.db.Get(&ok, q, args...); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	rows := func() int {
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM access_log WHERE record_id = $1 AND action = 'write'`, rid); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if !sameTx("basic", `SELECT xmin::text FROM records WHERE record_id = $1`, rid) {
		t.Error("filing: audit row not in the filing's transaction")
	}
	recordsPath := "/api/v1/records/" + rid
	enrol := doc.mustReq("POST", recordsPath+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-10"}, 201)
	if !sameTx("programmes", `SELECT xmin::text FROM enrolments WHERE record_id = $1`, rid) {
		t.Error("enrolment: audit row not in the write's transaction")
	}
	doc.mustReq("POST", recordsPath+"/exams", map[string]any{"service_date": "2024-06-01", "systolic": 130, "diastolic": 80}, 201)
	if !sameTx("exams", `SELECT xmin::text FROM exams WHERE record_id = $1`, rid) {
		t.Error("exam: audit row not in the write's transaction")
	}
	ref := doc.issue(rid, "2024-06-01", "")
	doc.mustReq("POST", ref+"/receive", nil, 200)
	if !sameTx("entries.referrals", `SELECT xmin::text FROM entries WHERE record_id = $1 AND kind = 'referral'`, rid) {
		t.Error("referral receive: audit row not in the write's transaction")
	}
	doc.mustReq("PATCH", recordsPath, map[string]any{"phone": "13800000001"}, 200)
	if !sameTx("basic", `SELECT xmin::text FROM records WHERE record_id = $1`, rid) {
		t.Error("patch: audit row not in the write's transaction")
	}
	doc.mustReq("POST", fmt.Sprintf("%s/programmes/%.0f/end", recordsPath, enrol.Body["id"]), map[string]any{"reason": "血压控制良好"}, 200)
	if !sameTx("programmes", `SELECT xmin::text FROM enrolments WHERE record_id = $1`, rid) {
		t.Error("end enrolment: audit row not in the write's transaction")
	}

	// Attempts that never write: each logged once.
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"ExamMalformed", "POST", recordsPath + "/exams", map[string]any{"service_date": 5}, 400},
		{"ExamRefused", "POST", recordsPath + "/exams", map[string]any{"service_date": "1900-01-01"}, 400},
		{"PatchMalformed", "PATCH", recordsPath, "{", 400},
		{"PatchRefused", "PATCH", recordsPath, map[string]any{"phone": "12"}, 400},
		{"StatusMalformed", "POST", recordsPath + "/status", map[string]any{"status": "gone"}, 400},
		{"EnrolmentTwice", "POST", recordsPath + "/programmes", map[string]any{"programme": "type2_diabetes", "enrolled_on": "2024-01-10"}, 201},
		{"EnrolmentDuplicate", "POST", recordsPath + "/programmes", map[string]any{"programme": "type2_diabetes", "enrolled_on": "2024-01-10"}, 409},
		{"ReferralIllegal", "POST", ref + "/receive", nil, 409},
		{"Status", "POST", recordsPath + "/status", map[string]any{"status": "deceased", "status_date": "2024-06-30"}, 200},
		{"ExamOnDeceased", "POST", recordsPath + "/exams", map[string]any{"service_date": "2024-06-01"}, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rows()
			doc.mustReq(tc.method, tc.path, tc.body, tc.status)
			if got := rows() - before; got != 1 {
				t.Fatalf("%d audit rows for one attempt, want 1", got)
			}
		})
	}
}
