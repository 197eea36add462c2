package postgres_test

import (
	"context"
	"slices"
	"testing"

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
	owner, err := postgres.Open(ctx, pgtest.OwnerURL(t, db))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
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
	var indexes int
	if err := tx.Get(&indexes, `SELECT count(*) FROM pg_indexes WHERE tablename = 'entries' AND indexname <> 'entries_pkey'`); err != nil {
		t.Fatal(err)
	}
	if indexes != 0 {
		t.Errorf("%d secondary indexes of the empty entries table left during the load", indexes)
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
