package postgres_test

import (
	"encoding/json"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
)

// TestRecordChangeStamp: the delta sync's stamp of a record (changed_xid)
// moves with its version and only then, now that the writes set it
// themselves (migration 00034): an edit and a status change stamp it, an
// entry's note of the record's facts does not, and an update that moves
// the version without stamping (a script) is stamped by the safety net.
// records keeps no BEFORE ROW UPDATE trigger, whose mere presence makes
// PostgreSQL recompute quality_failures on every update.
func TestRecordChangeStamp(t *testing.T) {
	s := newScheduleEnv(t, "2024-06-30")
	rid := s.file("钱七", "M", "1950-03-03")
	changed := func(cursor string) bool {
		t.Helper()
		got, err := s.db.ChangedSince(s.ctx, []string{rid}, cursor)
		if err != nil {
			t.Fatal(err)
		}
		return got[rid]
	}
	cursor := func() string {
		t.Helper()
		c, err := s.db.SyncCursor(s.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	var before int
	if err := s.db.GetContext(s.ctx, &before, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'records'::regclass
		AND NOT tgisinternal AND tgtype & (1 | 2 | 16) = (1 | 2 | 16)`); err != nil { // ROW | BEFORE | UPDATE
		t.Fatal(err)
	}
	if before != 0 {
		t.Fatalf("records has %d BEFORE ROW UPDATE triggers", before)
	}

	c := cursor()
	v := entry.New(entry.KindVisit).(*entry.Visit)
	v.RecordID, v.ServiceDate, v.Subjective, v.Assessment = rid, civil.MustParse("2024-06-01"), "头晕", "高血压"
	if _, err := s.add(v); err != nil {
		t.Fatal(err)
	}
	if changed(c) {
		t.Fatal("an entry's note of the record's facts marked the record page changed")
	}

	phone, _ := json.Marshal("13900001111")
	if _, err := s.db.UpdateRecord(s.ctx, s.f.DoctorA, rid, map[string]json.RawMessage{"phone": phone}); err != nil {
		t.Fatal(err)
	}
	if !changed(c) {
		t.Fatal("an edit of the record did not mark it changed")
	}

	c = cursor()
	tx, err := s.db.BeginTxx(s.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var stamped bool
	if err := tx.GetContext(s.ctx, &stamped, `WITH u AS (UPDATE records SET contact_name = '钱八', version = version + 1
		WHERE record_id = $1 RETURNING 1) SELECT count(*) = 1 FROM u`, rid); err != nil || !stamped {
		t.Fatalf("update: %v", err)
	}
	if err := tx.GetContext(s.ctx, &stamped, `SELECT changed_xid = pg_current_xact_id() FROM records WHERE record_id = $1`, rid); err != nil {
		t.Fatal(err)
	}
	if !stamped {
		t.Fatal("an update that moved the version without its stamp was not stamped")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !changed(c) {
		t.Fatal("the script's update is not in the next sync")
	}

	c = cursor()
	if _, err := s.db.ChangeStatus(s.ctx, s.f.DoctorA, rid, postgres.StatusChange{Status: record.Deceased,
		StatusDate: civil.MustParse("2024-06-30")}); err != nil {
		t.Fatal(err)
	}
	if !changed(c) {
		t.Fatal("a status change did not mark the record changed")
	}
}
