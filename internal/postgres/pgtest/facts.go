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
		FROM (SELECT village_code, doctor, sum(active) AS active FROM rate_active_counts GROUP BY 1, 2) c FULL JOIN (
			SELECT village_code, COALESCE(responsible_doctor, '') AS doctor, count(*) AS n FROM records WHERE status_date IS NULL GROUP BY 1, 2
		) r ON r.village_code = c.village_code AND r.doctor = c.doctor
		WHERE COALESCE(c.active, 0) <> COALESCE(r.n, 0) ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		t.Errorf("village %s doctor %q: %d active records counted, %d in the records", c.Village, c.Doctor, c.Stored, c.Want)
	}
	var changes []struct {
		Scope  string `db:"scope"`
		Stored string `db:"stored"`
		Want   string `db:"want"`
	}
	err = db.Select(&changes, `WITH stored AS (
			SELECT county, kind, code, on_date, sum(active) AS a, sum(qualified) AS q, sum(used) AS u FROM (
				SELECT county, kind, code, starts AS on_date, active, qualified, used FROM rate_counts WHERE grain = 'd'
				UNION ALL SELECT county, kind, code, on_date, active, qualified, used FROM rate_changes) x
			GROUP BY 1, 2, 3, 4 HAVING (sum(active), sum(qualified), sum(used)) <> (0, 0, 0)),
		want AS (
			SELECT c.county, c.kind, c.code, c.on_date, sum(c.active) AS a, sum(c.qualified) AS q, sum(c.used) AS u
			FROM records r CROSS JOIN LATERAL record_rate_changes(r.village_code, r.responsible_doctor, r.filed_on, r.status_date,
				r.birth_date, r.quality_failures, r.exam_ok_on, r.used_on, 1) c
			GROUP BY 1, 2, 3, 4 HAVING (sum(c.active), sum(c.qualified), sum(c.used)) <> (0, 0, 0))
		SELECT concat_ws(' ', county, kind, code, on_date) AS scope, ROW(s.a, s.q, s.u)::text AS stored, ROW(w.a, w.q, w.u)::text AS want
		FROM stored s FULL JOIN want w USING (county, kind, code, on_date)
		WHERE (s.a, s.q, s.u) IS DISTINCT FROM (w.a, w.q, w.u)
		UNION ALL
		SELECT concat_ws(' ', county, grain, starts, kind, code), ROW(c.active, c.qualified, c.used)::text, ROW(d.a, d.q, d.u)::text
		FROM rate_counts c LEFT JOIN LATERAL (
			SELECT COALESCE(sum(active), 0) AS a, COALESCE(sum(qualified), 0) AS q, COALESCE(sum(used), 0) AS u FROM rate_counts x
			WHERE x.county = c.county AND x.kind = c.kind AND x.code = c.code AND x.grain = 'd'
				AND x.starts >= c.starts AND x.starts < c.starts + CASE c.grain WHEN 'm' THEN interval '1 month' ELSE interval '1 year' END) d ON true
		WHERE c.grain <> 'd' AND (c.active, c.qualified, c.used) IS DISTINCT FROM (d.a, d.q, d.u)
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		t.Errorf("rate changes of %s: counted (active, qualified, used) %s, from the records %s", c.Scope, c.Stored, c.Want)
	}
}
