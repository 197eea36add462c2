package postgres_test

import (
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

// TestNoteServiceOnlyWhenFactsMove: an entry notes its service on the
// record only when a fact moves (migration 00034 and noteServiceSQL): a
// second entry of the same day, or one that does not conform within a year
// already used, leaves the record's row as it was — the same row version —
// while a later date or a conforming entry outside the used year rewrites
// it. The facts and the counters stay those of their definition.
func TestNoteServiceOnlyWhenFactsMove(t *testing.T) {
	s := newScheduleEnv(t, "2024-06-30")
	rid := s.file("钱九", "M", "1950-01-01")
	version := func() (xmin, last, used string) {
		t.Helper()
		var row struct {
			Xmin string `db:"xmin"`
			Last string `db:"last"`
			Used string `db:"used"`
		}
		if err := s.db.GetContext(s.ctx, &row, `SELECT xmin::text AS xmin, COALESCE(last_service_date::text, '') AS last,
			COALESCE(used_on::text, '') AS used FROM records WHERE record_id = $1`, rid); err != nil {
			t.Fatal(err)
		}
		return row.Xmin, row.Last, row.Used
	}
	s.enrol(rid, entry.EnrolmentForm{Programme: entry.Hypertension, EnrolledOn: civil.MustParse("2024-01-01")})
	// A visit with its complaint and assessment conforms; a follow-up by
	// phone without a blood pressure does not.
	visit := func(on string, conforming bool) {
		t.Helper()
		var e entry.Entry
		if conforming {
			v := entry.New(entry.KindVisit).(*entry.Visit)
			v.Subjective, v.Assessment = "头晕", "高血压"
			e = v
		} else {
			f := entry.New(entry.KindFollowup).(*entry.Followup)
			f.Programme, f.Method, f.Classification = entry.Hypertension, entry.MethodPhone, entry.ClassSatisfactory
			e = f
		}
		e.Head().RecordID, e.Basics().ServiceDate = rid, civil.MustParse(on)
		if _, err := s.add(e); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name       string
		on         string
		conforming bool
		moves      bool
		last, used string
	}{
		{"First", "2024-06-10", true, true, "2024-06-10", "{[2024-06-10,2025-06-10)}"},
		{"SameDay", "2024-06-10", true, false, "2024-06-10", "{[2024-06-10,2025-06-10)}"},
		{"EarlierNotConforming", "2024-06-01", false, false, "2024-06-10", "{[2024-06-10,2025-06-10)}"},
		{"EarlierConforming", "2024-06-01", true, true, "2024-06-10", "{[2024-06-01,2025-06-10)}"},
		{"LaterNotConforming", "2024-06-20", false, true, "2024-06-20", "{[2024-06-01,2025-06-10)}"},
		{"LaterConforming", "2024-06-25", true, true, "2024-06-25", "{[2024-06-01,2025-06-25)}"},
	}
	for _, st := range steps {
		before, _, _ := version()
		visit(st.on, st.conforming)
		after, last, used := version()
		if (after != before) != st.moves || last != st.last || used != st.used {
			t.Fatalf("%s: row rewritten %v (want %v), last_service_date %s used_on %s, want %s %s",
				st.name, after != before, st.moves, last, used, st.last, st.used)
		}
	}
	drift, err := s.db.CheckRates(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) > 0 {
		t.Fatalf("facts or counters differ from their definition: %v", drift)
	}
}
