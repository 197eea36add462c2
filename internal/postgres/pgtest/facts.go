package pgtest

import (
	"testing"

	"healthrec/internal/postgres"
)

// CheckRateFacts fails the test for every record whose write-time facts
// (migrations 00003 and 00010) differ from their definition over its exams
// and entries, the view record_rate_facts, and for every village and doctor
// whose count of active records (rate_active_counts) is not the records'.
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
	var counts []struct {
		Village string `db:"village_code"`
		Doctor  string `db:"doctor"`
		Stored  int    `db:"stored"`
		Want    int    `db:"want"`
	}
	err = db.Select(&counts, `SELECT COALESCE(c.village_code, r.village_code) AS village_code, COALESCE(c.doctor, r.doctor) AS doctor,
			COALESCE(c.active, 0) AS stored, COALESCE(r.n, 0) AS want
		FROM rate_active_counts c FULL JOIN (
			SELECT village_code, COALESCE(responsible_doctor, '') AS doctor, count(*) AS n FROM records WHERE status_date IS NULL GROUP BY 1, 2
		) r ON r.village_code = c.village_code AND r.doctor = c.doctor
		WHERE COALESCE(c.active, 0) <> COALESCE(r.n, 0) ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		t.Errorf("village %s doctor %q: %d active records counted, %d in the records", c.Village, c.Doctor, c.Stored, c.Want)
	}
}
