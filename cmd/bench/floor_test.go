package main

import (
	"context"
	"fmt"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestFloor: the floor copies every line of the county's residents.csv and
// entries.csv, builds the entries' index, and leaves nothing behind.
func TestFloor(t *testing.T) {
	ctx := context.Background()
	o := options{residents: 300, villages: 3, doctors: 6, entries: 3000, seed: 1, today: "2026-06-30"}
	g := newGenerator(o, civil.MustParse(o.today))
	dir := t.TempDir()
	res := &loadResult{}
	if err := g.writeFiles(dir, res); err != nil {
		t.Fatal(err)
	}
	owner := pgtest.Owner(t, pgtest.NewDB(t))
	floor, err := measureFloor(ctx, owner, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("COPY of residents.csv into a table of text columns (%d rows)", o.residents),
		fmt.Sprintf("COPY of entries.csv into a table of text columns (%d rows)", res.exams+res.entries),
		"the entries' index on (record_id, service_date)",
	}
	if len(floor.steps) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(floor.steps), len(want), floor.steps)
	}
	var sum int64
	for i, s := range floor.steps {
		if s.name != want[i] {
			t.Errorf("step %d: %q, want %q", i, s.name, want[i])
		}
		sum += int64(s.d)
	}
	if int64(floor.total) != sum || sum <= 0 {
		t.Errorf("the floor's total %s, its steps' sum %d ns", floor.total, sum)
	}
	var left int
	if err := owner.GetContext(ctx, &left, `SELECT count(*) FROM pg_class WHERE relname LIKE 'floor\_%'`); err != nil || left != 0 {
		t.Errorf("%d of the floor's relations left in the database (%v)", left, err)
	}
}
