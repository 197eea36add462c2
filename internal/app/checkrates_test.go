package app_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"healthrec/internal/app"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

// TestRunCheckRates spoils a record's facts, an active count and a counter:
// check-rates lists each and fails; --repair fixes them and succeeds; a
// second check finds nothing.
func TestRunCheckRates(t *testing.T) {
	db := pgtest.NewDB(t)
	db.Now = func() time.Time { return time.Date(2026, 6, 30, 9, 0, 0, 0, time.UTC) }
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()
	r := &record.Record{VillageCode: f.VillageA1, Name: "居民", Sex: "F", BirthDate: civil.MustParse("1960-01-01"),
		ResidenceType: "户籍", Ethnicity: "汉族", Phone: "13912345678", FiledOn: civil.MustParse("2025-01-01")}
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	s, d, h, w := 130, 80, 160.0, 60.0
	if _, err := db.AddExam(ctx, f.DoctorA, f.InstA, &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse("2026-01-05"),
		Doctor: f.DoctorA, Systolic: &s, Diastolic: &d, HeightCM: &h, WeightKG: &w}, postgres.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	// A follow-up by phone that measured nothing: a dynamic record that
	// does not conform, so it never makes the record used.
	if _, _, err := db.AddEnrolment(ctx, f.DoctorA, r.RecordID, entry.EnrolmentForm{Programme: entry.Hypertension,
		EnrolledOn: civil.MustParse("2025-01-01")}, postgres.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	fu := entry.New(entry.KindFollowup).(*entry.Followup)
	fu.RecordID, fu.ServiceDate, fu.Programme, fu.Method, fu.Classification = r.RecordID, civil.MustParse("2025-03-01"),
		entry.Hypertension, entry.MethodPhone, entry.ClassSatisfactory
	stored, _, err := db.AddEntry(ctx, f.DoctorA, f.InstA, fu, postgres.Idempotency{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var usedOn string
	if err := db.Get(&usedOn, `SELECT used_on::text FROM records WHERE record_id = $1`, r.RecordID); err != nil || usedOn != "{[2026-01-05,2027-01-05)}" {
		t.Fatalf("used_on %s (%v): only the exam conforms", usedOn, err)
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := app.RunCheckRates(ctx, db, args, &out)
		return out.String(), err
	}
	if out, err := run(); err != nil {
		t.Fatalf("clean database: %v\n%s", err, out)
	}
	if _, err := db.Exec(`SELECT rate_fold()`); err != nil {
		t.Fatal(err)
	}
	// The record's exam lost from its facts, as an import used to lose it
	// (the counters stay those of the true facts); one active record too
	// many for the village; a month's counter off by one. Spoilt as the
	// superuser: the app role may not switch the triggers off.
	su := pgtest.Superuser(t, db)
	for _, q := range []string{
		`ALTER TABLE records DISABLE TRIGGER USER`,
		`UPDATE records SET exam_from = NULL, exam_ok_on = NULL`,
		`ALTER TABLE records ENABLE TRIGGER USER`,
		`INSERT INTO rate_active_counts (village_code, doctor, active) VALUES ('` + f.VillageA1 + `', 'nobody', 1)`,
		`UPDATE rate_counts SET used = used + 1 WHERE grain = 'm' AND kind = 'v' AND starts = '2026-01-01'`,
	} {
		if _, err := su.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	out, err := run()
	if err == nil {
		t.Fatalf("check-rates passed a spoilt database:\n%s", out)
	}
	for _, want := range []string{"facts " + r.RecordID + ":", "active " + f.VillageA1 + " nobody: stored 1, by definition 0",
		"counter 330127 v " + f.VillageA1 + " 2026-01-01 m:"} {
		if !strings.Contains(out, want) {
			t.Errorf("check-rates output lacks %q:\n%s", want, out)
		}
	}
	if out, err := run("--repair"); err != nil || !strings.Contains(out, "differences repaired") {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	if out, err := run(); err != nil {
		t.Fatalf("after the repair: %v\n%s", err, out)
	}

	// A rule changed without marking the entries again (here: a follow-up
	// needs no measurement): check-rates names the entry, the repair marks
	// it and moves the record's facts and counters; and back.
	var rule string
	if err := su.Get(&rule, `SELECT pg_get_functiondef('entry_conforms'::regproc)`); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(strings.Replace(rule, "IF kind = 'followup' THEN", "IF kind = 'followup' THEN RETURN true;", 1)); err != nil {
		t.Fatal(err)
	}
	out, err = run()
	if want := fmt.Sprintf("conformance %d: stored false, by definition true", stored.Head().ID); err == nil || !strings.Contains(out, want) {
		t.Fatalf("check-rates after a rule change: %v, want %q in\n%s", err, want, out)
	}
	if out, err := run("--repair"); err != nil {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	if err := db.Get(&usedOn, `SELECT used_on::text FROM records WHERE record_id = $1`, r.RecordID); err != nil || usedOn != "{[2025-03-01,2027-01-05)}" {
		t.Fatalf("used_on %s (%v) after the rule change: the follow-up counts", usedOn, err)
	}
	if _, err := su.Exec(rule); err != nil {
		t.Fatal(err)
	}
	if out, err := run("--repair"); err != nil {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	if out, err := run(); err != nil {
		t.Fatalf("after the rule's return: %v\n%s", err, out)
	}
	if _, err := run("--fix"); err == nil {
		t.Error("an unknown flag was accepted")
	}
}
