package postgres_test

import (
	"context"
	"testing"

	"healthrec/internal/postgres"
)

// TestMigrateConformingEntries runs migration 00027 over a database as the
// service left it before: a record used through a legacy visit with only the
// common fields and an exam without height, another through a visit with
// its complaint and assessment. The entries are marked, the first record is
// no longer used, the second still is, and the facts and counters agree with
// their definitions (check-rates finds nothing); entries written before the
// filing queue wait in no one's queue.
func TestMigrateConformingEntries(t *testing.T) {
	old := migratedTo(t, "mig27", 21)
	db, must := old.DB, old.must
	must(`INSERT INTO regions (code, name, level, parent_code) VALUES ('330127', '淳安县', 'county', NULL),
		('330127100', '千岛湖镇', 'township', '330127'), ('330127100101', '一村', 'village', '330127100')`)
	must(`INSERT INTO institutions (code, name, county_code) VALUES ('INSTA', '千岛湖', '330127')`)
	must(`UPDATE regions SET institution_code = 'INSTA' WHERE level = 'village'`)
	must(`INSERT INTO staff (code, name, institution_code) VALUES ('docA', '张', 'INSTA'), ('hv1', '李', 'INSTA')`)
	for _, id := range []string{"3301271001010001", "3301271001010002"} {
		must(`INSERT INTO records (record_id, village_code, name, sex, birth_date, filed_on, filed_by, responsible_doctor, phone)
			VALUES ($1, '330127100101', '居民', 'F', '1950-01-01', '2020-01-01', 'docA', 'docA', '13912345678')`, id)
	}
	must(`INSERT INTO entries (record_id, kind, service_date, doctor, data, created_by) VALUES
		('3301271001010001', 'visit', '2026-03-01', 'docA', '{"subjective": "", "assessment": "", "objective": "", "plan": ""}', 'hv1'),
		('3301271001010002', 'visit', '2026-03-01', 'docA', '{"subjective": "头晕", "assessment": "高血压", "objective": "", "plan": ""}', 'hv1')`)
	must(`INSERT INTO exams (record_id, exam_date, doctor, systolic, diastolic, weight_kg, created_by)
		VALUES ('3301271001010001', '2025-09-01', 'docA', 130, 80, 60, 'docA')`)
	// The facts as the service before kept them: every dynamic record counted.
	must(`UPDATE records r SET last_exam_date = f.last_exam_date, last_exam_complete = f.last_exam_complete,
		last_service_date = f.last_service_date, used_on = f.used_on, exam_from = f.exam_from, exam_ok_on = f.exam_ok_on
		FROM record_rate_facts f WHERE f.record_id = r.record_id`)
	must(`SELECT rate_fold()`)
	old.up()

	var marks []bool
	if err := db.Select(&marks, `SELECT conforming FROM entries ORDER BY record_id`); err != nil {
		t.Fatal(err)
	}
	if len(marks) != 2 || marks[0] || !marks[1] {
		t.Fatalf("conforming after the migration: %v, want [false true]", marks)
	}
	var used []string
	if err := db.Select(&used, `SELECT COALESCE(used_on::text, 'never') FROM records ORDER BY record_id`); err != nil {
		t.Fatal(err)
	}
	if len(used) != 2 || used[0] != "never" || used[1] != "{[2026-03-01,2027-03-01)}" {
		t.Fatalf("used_on after the migration: %v, want [never {[2026-03-01,2027-03-01)}]", used)
	}
	var queued int
	if err := db.Get(&queued, `SELECT count(*) FROM entry_filings`); err != nil || queued != 0 {
		t.Fatalf("%d entries queued for filing (%v): the migration queues none", queued, err)
	}
	pdb, err := postgres.Open(context.Background(), old.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	drift, err := pdb.CheckRates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		t.Error(d)
	}
	var counted int
	if err := db.Get(&counted, `SELECT COALESCE(sum(used), 0) FROM rate_counts WHERE grain = 'd' AND kind = 'v' AND starts <= '2026-06-30'`); err != nil {
		t.Fatal(err)
	}
	if counted != 1 {
		t.Errorf("village counters: %d used on 2026-06-30, want 1", counted)
	}
}
