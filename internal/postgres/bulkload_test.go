package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// TestDeferChecks checks that a bulk load's deferred checks put back every
// index and foreign key of the empty tables as they were, check every row
// at once (a bad reference fails the load), and leave a table with rows
// alone.
func TestDeferChecks(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	pgtest.NewFixture(t, db)
	owner := pgtest.Owner(t, db)
	schema := func() []string {
		var out []string
		if err := owner.Select(&out, `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid IN ('exams'::regclass, 'entries'::regclass, 'regions'::regclass)
			UNION ALL SELECT indexdef FROM pg_indexes WHERE tablename IN ('exams', 'entries', 'regions') ORDER BY 1`); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := schema()

	// A bad reference, unchecked while the COPY runs, fails the restore.
	tx, err := owner.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	restore, err := postgres.DeferChecks(ctx, tx, "exams", "entries", "regions")
	if err != nil {
		t.Fatal(err)
	}
	// Only the partial index of the corrections, which no loaded row enters.
	var indexes []string
	if err := tx.Select(&indexes, `SELECT indexname FROM pg_indexes WHERE tablename = 'entries' AND indexname <> 'entries_pkey' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(indexes, []string{"entries_corrects"}) {
		t.Errorf("secondary indexes of the empty entries table left during the load: %q", indexes)
	}
	if _, err := tx.Exec(`INSERT INTO exams (record_id, exam_date, doctor, created_by) VALUES ('no-such-record', '2024-01-01', 'nobody', 'nobody')`); err != nil {
		t.Fatal(err)
	}
	if err := restore(); err == nil {
		t.Fatalf("restore after a bad reference: %v, want an error", err)
	}
	tx.Rollback()
	if got := schema(); !slices.Equal(got, before) {
		t.Fatalf("after a failed load\n got %q\nwant %q", got, before)
	}

	// A good load puts every index and key back as it was.
	tx, err = owner.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if restore, err = postgres.DeferChecks(ctx, tx, "exams", "entries", "regions"); err != nil {
		t.Fatal(err)
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := schema(); !slices.Equal(got, before) {
		t.Fatalf("after a load\n got %q\nwant %q", got, before)
	}
}

// TestInsertStagedRecords checks that records filed from a staging table
// after their exams and entries get the write-time facts and rate counters
// their definition gives (check-rates finds nothing), as the row-by-row
// writes do, and that a service of a record never filed fails the load.
func TestInsertStagedRecords(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	owner := pgtest.Owner(t, db)
	columns := []string{"record_id", "village_code", "name", "sex", "birth_date", "id_number", "residence_type", "ethnicity",
		"phone", "responsible_doctor", "filed_on", "filed_by", "filing_institution", "status", "status_date"}
	load := func(orphan bool) error {
		tx, err := owner.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		restore, err := postgres.DeferChecks(ctx, tx, "records", "exams", "entries")
		if err != nil {
			t.Fatal(err)
		}
		must := func(q string, args ...any) {
			t.Helper()
			if _, err := tx.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
		must(`CREATE TEMPORARY TABLE staged ON COMMIT DROP AS SELECT ` + strings.Join(columns, ", ") + ` FROM records WITH NO DATA`)
		// complete exam and a visit; an incomplete exam; nothing; closed
		for i, status := range []string{"active", "active", "active", "moved_out"} {
			id, err := ident.NewRecordID(f.VillageA1, i+1)
			if err != nil {
				t.Fatal(err)
			}
			var closed any
			if status != "active" {
				closed = "2024-03-01"
			}
			must(`INSERT INTO staged VALUES ($1, $2, '张三', 'M', '1950-01-01', NULL, '户籍', '汉族', '13912345678', $3,
				'2020-01-01', $3, $4, $5, $6)`, id.String(), f.VillageA1, f.DoctorA, f.InstA, status, closed)
			switch i {
			case 0, 3:
				must(`INSERT INTO exams (record_id, exam_date, doctor, systolic, diastolic, height_cm, weight_kg, created_by)
					VALUES ($1, '2024-01-10', $2, 120, 80, 170, 60, $2)`, id.String(), f.DoctorA)
				must(`INSERT INTO entries (record_id, kind, service_date, doctor, created_by) VALUES ($1, 'visit', '2024-02-01', $2, $2)`,
					id.String(), f.DoctorA)
			case 1:
				must(`INSERT INTO exams (record_id, exam_date, doctor, systolic, diastolic, created_by)
					VALUES ($1, '2024-01-10', $2, 120, 80, $2)`, id.String(), f.DoctorA)
			}
		}
		if orphan {
			must(`INSERT INTO entries (record_id, kind, service_date, doctor, created_by) VALUES ('no-such-record', 'visit', '2024-02-01', $1, $1)`,
				f.DoctorA)
		}
		settings := func() (s string) {
			t.Helper()
			if err := tx.Get(&s, `SELECT current_setting('work_mem') || ' ' || current_setting('hash_mem_multiplier') || ' ' || current_setting('jit')`); err != nil {
				t.Fatal(err)
			}
			return s
		}
		before := settings()
		n, err := postgres.InsertStagedRecords(ctx, tx, "staged", columns)
		if err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Fatalf("%d records filed, want 4", n)
		}
		// Its statement's settings end with it.
		if after := settings(); after != before {
			t.Errorf("work_mem, hash_mem_multiplier and jit %q after filing the records, %q before", after, before)
		}
		if err := restore(); err != nil {
			return err
		}
		return tx.Commit()
	}
	if err := load(true); err == nil {
		t.Fatal("a load with an entry of no record: no error")
	}
	counterKey := func() string {
		var def string
		if err := owner.Get(&def, `SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = 'rate_counts'::regclass AND contype = 'p'`); err != nil {
			t.Fatal(err)
		}
		return def
	}
	key := counterKey()
	var counters int
	if err := db.Get(&counters, `SELECT count(*) FROM rate_counts`); err != nil || counters != 0 {
		t.Fatalf("%d counters before the load (%v), want none: the load counts into an empty rate_counts", counters, err)
	}
	if err := load(false); err != nil {
		t.Fatal(err)
	}
	// The owner's load counted its records itself: nothing is left to
	// fold, and the counters' key, dropped for the insert, is back.
	pending := func() int {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM rate_changes`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := pending(); n != 0 {
		t.Errorf("%d rate changes pending after the load, want 0", n)
	}
	if got := counterKey(); got != key {
		t.Errorf("rate_counts' key after the load: %q, want %q", got, key)
	}
	var served int
	if err := db.Get(&served, `SELECT count(*) FROM records WHERE last_service_date IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if served != 3 {
		t.Errorf("%d records with services, want 3", served)
	}
	pgtest.CheckRateFacts(t, db)

	// Records filed from a staging table into counters that exist (same
	// village, doctor and dates: the sums are added to theirs), by the
	// owner; then by a role that owns nothing, whose insert trigger notes
	// the changes for the fold.
	stage := func(from, to int) {
		t.Helper()
		if _, err := owner.Exec(`CREATE TABLE IF NOT EXISTS staged_more AS SELECT ` + strings.Join(columns, ", ") + ` FROM records WITH NO DATA`); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Exec(`GRANT SELECT ON staged_more TO PUBLIC`); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Exec(`TRUNCATE staged_more`); err != nil {
			t.Fatal(err)
		}
		for i := from; i <= to; i++ {
			id, err := ident.NewRecordID(f.VillageA1, i)
			if err != nil {
				t.Fatal(err)
			}
			var closed any
			if i%2 == 0 {
				closed = "2024-03-01"
			}
			if _, err := owner.Exec(`INSERT INTO staged_more VALUES ($1, $2, '李四', 'F', '1960-05-01', NULL, '户籍', '汉族', '13912345678', $3,
				'2020-01-01', $3, $4, CASE WHEN $5::date IS NULL THEN 'active' ELSE 'moved_out' END, $5)`,
				id.String(), f.VillageA1, f.DoctorA, f.InstA, closed); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, by := range []*postgres.DB{owner, db} {
		from := 5
		if by == db {
			from = 7
		}
		stage(from, from+1)
		tx, err := by.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := postgres.InsertStagedRecords(ctx, tx, "staged_more", columns); err != nil || n != 2 {
			t.Fatalf("%d records filed (%v), want 2", n, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := pending(); (n == 0) != (by == owner) {
			t.Errorf("%d rate changes pending after a load by the owner %v", n, by == owner)
		}
		if got := counterKey(); got != key {
			t.Errorf("rate_counts' key after the load: %q, want %q", got, key)
		}
		pgtest.CheckRateFacts(t, db)
	}
	if _, err := db.FoldRateChanges(ctx); err != nil {
		t.Fatal(err)
	}
	pgtest.CheckRateFacts(t, db)
}
