package postgres_test

import (
	"strings"
	"testing"

	"healthrec/internal/entry"
	"healthrec/internal/entry/entrytest"
	"healthrec/internal/postgres/pgtest"
)

// TestEntryConformsMatchesGo holds the SQL definition of conformance (the
// generated column entries.conforming, entry_conforms) to the Go one
// (entry.Missing) on every kind, filled and with each required item left
// out — written unchecked, as a legacy import writes them.
func TestEntryConformsMatchesGo(t *testing.T) {
	e := newRateEnv(t)
	id := e.file(e.f.VillageA1, "2021-01-01", nil)
	for _, c := range entrytest.ConformanceCases() {
		t.Run(c.Name, func(t *testing.T) {
			c.Entry.Head().RecordID, c.Entry.Basics().StaffCode = id, e.f.DoctorA
			got, err := e.db.InsertEntryRaw(e.ctx, c.Entry)
			if err != nil {
				t.Fatal(err)
			}
			if want := entry.Conforms(c.Entry); got != want || want != (c.Missing == "") {
				t.Errorf("SQL conforming %v, Go %v (missing %q)", got, want, strings.TrimSpace(c.Missing))
			}
		})
	}
	// The facts of the record, written past the write path, are settled as
	// check-rates repairs them; then they agree with their definition.
	if _, err := e.db.RepairRates(e.ctx); err != nil {
		t.Fatal(err)
	}
	pgtest.CheckRateFacts(t, e.db)
}
