package postgres_test

import (
	"encoding/json"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
	"healthrec/internal/staff"
)

// TestFilingQueueFollowsTheRecord: an entry waits for the record's
// responsible doctor now, so a handover moves the pending entries to the
// new doctor, whom the old one can no longer file for; an entry written
// by whoever is the responsible doctor when it is written never queues.
func TestFilingQueueFollowsTheRecord(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	e.must(e.db.CreateStaff(e.ctx, &staff.Staff{Code: "docA2", Name: "医生二", InstitutionCode: f.InstA,
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(f.InstA)}}}, ""))
	id := e.file(f.VillageA1, "2024-01-01", func(r *record.Record) { r.ResponsibleDoctor = f.DoctorA })
	visit := func(by string) int64 {
		t.Helper()
		v := entry.New(entry.KindVisit).(*entry.Visit)
		v.RecordID, v.ServiceDate, v.Subjective, v.Assessment = id, civil.MustParse("2024-06-01"), "咳嗽", "上呼吸道感染"
		got, _, err := e.db.AddEntry(e.ctx, by, f.InstA, v, postgres.Idempotency{}, nil)
		e.must(err)
		return got.Head().ID
	}
	queue := func(doctor string) int {
		t.Helper()
		_, n, err := e.db.FilingQueue(e.ctx, doctor, postgres.Page{})
		e.must(err)
		return n
	}
	first := visit(f.HomeVisitA)
	visit(f.DoctorA)
	if queue(f.DoctorA) != 1 || queue("docA2") != 0 {
		t.Fatalf("queues before the handover: docA %d, docA2 %d", queue(f.DoctorA), queue("docA2"))
	}
	_, err := e.db.UpdateRecord(e.ctx, f.AdminA, id, map[string]json.RawMessage{"responsible_doctor": json.RawMessage(`"docA2"`)})
	e.must(err)
	visit("docA2")
	if queue(f.DoctorA) != 0 || queue("docA2") != 1 {
		t.Fatalf("queues after the handover: docA %d, docA2 %d", queue(f.DoctorA), queue("docA2"))
	}
	_, err = e.db.FileEntries(e.ctx, f.DoctorA, []int64{first}, nil)
	if apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("the former doctor filed: %v", err)
	}
	out, err := e.db.FileEntries(e.ctx, "docA2", []int64{first}, nil)
	e.must(err)
	if len(out.Filed) != 1 || out.Queue != 0 {
		t.Fatalf("filed %+v", out)
	}
}
