package postgres_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"healthrec/internal/access"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
	"healthrec/internal/staff"
)

// TestAddEntryWithin: the create's statement checks the caller's write
// reach itself. Within it the entry is stored as AddEntry stores it after
// the gate — with the record's institution, its audit row committed with
// it; outside it (another institution, a village not the worker's, an
// empty reach) or on a missing record nothing is written, no audit row,
// no key, no fact, and the answer is ErrNotWithin for the gate to decide.
func TestAddEntryWithin(t *testing.T) {
	s := newScheduleEnv(t, "2024-06-30")
	inA1 := s.file("钱一", "M", "1950-01-01")
	r := &record.Record{VillageCode: s.f.VillageA2, Name: "孙二", Sex: "F", BirthDate: civil.MustParse("1952-02-02"),
		ResidenceType: record.ResidenceRegistered, Ethnicity: "汉族", Phone: "13912345678"}
	if err := s.db.FileRecord(s.ctx, s.f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	inA2 := r.RecordID
	for _, rid := range []string{inA1, inA2} {
		s.enrol(rid, entry.EnrolmentForm{Programme: entry.Hypertension, EnrolledOn: civil.MustParse("2024-01-01")})
	}
	gate, err := access.NewGate(s.db, s.db.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	p := access.NewPrincipal(&staff.Staff{Code: s.f.HomeVisitA})
	fu := func(rid, on string) *entry.Followup {
		e := entry.New(entry.KindFollowup).(*entry.Followup)
		e.RecordID, e.Programme, e.ServiceDate, e.Method, e.Classification = rid, entry.Hypertension, civil.MustParse(on),
			entry.MethodPhone, entry.ClassSatisfactory
		return e
	}
	state := func(rid string) [4]int {
		t.Helper()
		var w [4]int
		for i, q := range []string{`SELECT count(*) FROM entries WHERE record_id = $1`,
			`SELECT count(*) FROM access_log WHERE record_id = $1`,
			`SELECT count(*) FROM idempotency_keys WHERE key LIKE $1 || '%'`,
			`SELECT count(*) FROM records WHERE record_id = $1 AND last_service_date IS NOT NULL`} {
			if err := s.db.GetContext(s.ctx, &w[i], q, rid); err != nil {
				t.Fatal(err)
			}
		}
		return w
	}
	add := func(reach access.WriteReach, rid, on string) (entry.Entry, *access.PendingAudit, error) {
		audit := gate.Allowed(p, rid, "entries.followups", "POST", "/x")
		key := postgres.NewIdempotency(s.f.HomeVisitA, rid+"-"+on, "body "+on)
		got, _, err := s.db.AddEntryWithin(s.ctx, s.f.HomeVisitA, reach, fu(rid, on), key, audit)
		return got, audit, err
	}

	for _, tc := range []struct {
		name  string
		reach access.WriteReach
		rid   string
	}{
		{"OtherInstitution", access.WriteReach{Institutions: []string{s.f.InstB}}, inA1},
		{"NotTheirVillage", access.WriteReach{VillageInstitutions: []string{s.f.InstA}, Villages: []string{s.f.VillageA1}}, inA2},
		{"VillageOfAnother", access.WriteReach{VillageInstitutions: []string{s.f.InstB}, Villages: []string{s.f.VillageA1}}, inA1},
		{"Empty", access.WriteReach{}, inA1},
		{"Missing", access.WriteReach{Institutions: []string{s.f.InstA}}, s.f.VillageA1 + "9999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := state(tc.rid)
			_, audit, err := add(tc.reach, tc.rid, "2024-06-01")
			if !errors.Is(err, postgres.ErrNotWithin) || audit.IsWritten() {
				t.Fatalf("err %v, audit written %v; want ErrNotWithin, nothing written", err, audit.IsWritten())
			}
			if got := state(tc.rid); got != before {
				t.Fatalf("entries, audit rows, keys, facts %v → %v", before, got)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		reach access.WriteReach
		rid   string
	}{
		{"Institution", access.WriteReach{Institutions: []string{s.f.InstB, s.f.InstA}}, inA2},
		{"TheirVillage", access.WriteReach{VillageInstitutions: []string{s.f.InstA}, Villages: []string{s.f.VillageA1}}, inA1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := state(tc.rid)
			got, audit, err := add(tc.reach, tc.rid, "2024-06-02")
			if err != nil || !audit.IsWritten() {
				t.Fatalf("err %v, audit written %v", err, audit.IsWritten())
			}
			if got.Head().InstitutionCode != s.f.InstA {
				t.Fatalf("institution %q, want the record's %s", got.Head().InstitutionCode, s.f.InstA)
			}
			after := state(tc.rid)
			if after[0] != before[0]+1 || after[1] != before[1]+1 || after[2] != before[2]+1 || after[3] != 1 {
				t.Fatalf("entries, audit rows, keys, facts %v → %v", before, after)
			}
		})
	}
}
