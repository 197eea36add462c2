package pgtest

import (
	"testing"

	"healthrec/internal/postgres"
)

// CheckRateFacts fails the test for every record whose write-time facts
// (migrations 00003 and 00010) differ from their definition over its exams
// and entries, the view record_rate_facts.
func CheckRateFacts(t testing.TB, db *postgres.DB) {
	t.Helper()
	var bad []struct {
		ID     string `db:"record_id"`
		Stored string `db:"stored"`
		Want   string `db:"want"`
	}
	err := db.Select(&bad, `SELECT r.record_id,
			ROW(r.last_exam_date, r.last_exam_complete, r.last_service_date, r.used_on, r.exam_from, r.exam_ok_on)::text AS stored,
			ROW(f.last_exam_date, COALESCE(f.last_exam_complete, false), f.last_service_date, f.used_on, f.exam_from, f.exam_ok_on)::text AS want
		FROM records r LEFT JOIN record_rate_facts f ON f.record_id = r.record_id
		WHERE (r.last_exam_date, r.last_exam_complete, r.last_service_date, r.used_on, r.exam_from, r.exam_ok_on)
			IS DISTINCT FROM (f.last_exam_date, COALESCE(f.last_exam_complete, false), f.last_service_date, f.used_on, f.exam_from, f.exam_ok_on)
		ORDER BY r.record_id`)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("record %s: facts %s, from its exams and entries %s", b.ID, b.Stored, b.Want)
	}
}
