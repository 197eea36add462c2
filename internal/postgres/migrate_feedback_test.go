package postgres_test

import (
	"fmt"
	"testing"
)

// TestMigrateFeedback runs migration 00016 over a database as the service
// left it before: snapshots without kinds (two of one date), cases accepted
// by the old proposer (two open ones for one doctor) and a review snapshot
// registry keyed by county lists. Every case keeps its state and dates;
// snapshots get a kind by date, duplicates a supersession chain.
func TestMigrateFeedback(t *testing.T) {
	old := migratedTo(t, "mig16", 13)
	db, must := old.DB, old.must
	must(`INSERT INTO regions (code, name, level) VALUES ('330127', '淳安县', 'county')`)
	must(`INSERT INTO institutions (code, name, county_code) VALUES ('INSTA', '千岛湖', '330127')`)
	must(`INSERT INTO staff (code, name, institution_code) VALUES ('docA', '张', 'INSTA'), ('bur', '局', NULL)`)
	snap := func(asOf, at string) int64 {
		var id int64
		if err := db.Get(&id, `INSERT INTO rate_snapshots (county_code, as_of, seed, report, published_at, published_by)
			VALUES ('330127', $1, 1, '{"warnings":[]}', $2, 'bur') RETURNING id`, asOf, at); err != nil {
			t.Fatal(err)
		}
		return id
	}
	s1 := snap("2026-04-30", "2026-05-01T08:00:00Z")
	s2 := snap("2026-06-30", "2026-07-01T08:00:00Z")
	s3 := snap("2026-06-30", "2026-07-02T08:00:00Z") // published twice
	must(`INSERT INTO rate_snapshot_rows (snapshot_id, level, scope_code, scope_name, indicator, numerator, denominator, rate, target, gap, rank, bottom_three, warning)
		VALUES ($1, 'doctor', 'docA', '张', 'coverage', 5, 10, 50, 90, -40, 2, false, true),
		       ($1, 'doctor', 'docB', '李', 'coverage', 9, 10, 90, 90, 0, 1, false, false)`, s3)
	for _, s := range []int64{s1, s2, s3} {
		must(`INSERT INTO review_snapshots (snapshot_id, published_at, county_codes, proposed_at) VALUES ($1, now(), '{330127}', now())`, fmt.Sprint(s))
	}
	for i, st := range []string{"accepted", "investigating", "decided", "archived"} {
		s := []int64{s1, s2, s3, s3}[i]
		subject := []string{"docA", "docA", "INSTA", "docA"}[i]
		typ := map[string]string{"docA": "staff", "INSTA": "institution"}[subject]
		must(`INSERT INTO cases (county_code, source, subject_type, subject_code, facts, snapshot_id, state, accepted_on, investigation_due,
				decided_on, created_at, created_by, updated_at)
			VALUES ('330127', 'snapshot', $1, $2, '预警', $3, $4, '2026-07-01', '2026-07-29', CASE WHEN $4 = 'decided' THEN '2026-07-20'::date END,
				now(), 'system', now())`, typ, subject, fmt.Sprint(s), st)
	}
	old.up()

	var kinds []struct {
		ID         int64  `db:"id"`
		Kind       string `db:"kind"`
		Supersedes *int64 `db:"supersedes"`
	}
	if err := db.Select(&kinds, `SELECT id, kind, supersedes FROM rate_snapshots ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if kinds[0].Kind != "pre_assessment" || kinds[1].Kind != "assessment" || kinds[2].Kind != "assessment" ||
		kinds[0].Supersedes != nil || kinds[1].Supersedes != nil || kinds[2].Supersedes == nil || *kinds[2].Supersedes != s2 {
		t.Fatalf("snapshots after the migration: %+v", kinds)
	}
	var states []string
	if err := db.Select(&states, `SELECT state || ' ' || accepted_on::text || ' ' || talk_by FROM cases ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(states) != "[accepted 2026-07-01 deputy investigating 2026-07-01 deputy decided 2026-07-01 deputy archived 2026-07-01 deputy]" {
		t.Fatalf("cases after the migration: %v", states)
	}
	var reg []struct {
		ID         string `db:"snapshot_id"`
		County     string `db:"county_code"`
		Kind       string `db:"kind"`
		Superseded bool   `db:"superseded"`
		Places     string `db:"last_places"`
	}
	if err := db.Select(&reg, `SELECT snapshot_id, county_code, kind, superseded, last_places::text FROM review_snapshots ORDER BY published_at, snapshot_id::int`); err != nil {
		t.Fatal(err)
	}
	if len(reg) != 3 || reg[0].County != "330127" || reg[0].Kind != "pre_assessment" || !reg[1].Superseded || reg[2].Superseded ||
		reg[2].Places != `[{"level": "doctor", "indicator": "coverage", "scope_code": "docA"}]` {
		t.Fatalf("review registry after the migration: %+v", reg)
	}
}
