package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	gojson "github.com/goccy/go-json"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

// TestRecordPageReadsWhatTheListsRead: the record page's one statement
// gives, as the API shows it (JSON), what the record's own reads give — the
// record, the names of its codes, the latest 20 of 23 exams (details,
// missing vital signs and all), the enrolments with a maternal schedule, an
// ended one and one without a schedule, and the names of the exams' staff;
// and the record's scope, which the gate decides on.
func TestRecordPageReadsWhatTheListsRead(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := &record.Record{VillageCode: f.VillageA1, Name: "页面", Sex: "F", BirthDate: civil.MustParse("1995-03-01"),
		ResidenceType: record.ResidenceRegistered, Ethnicity: "汉族", Phone: "13912345678", ResponsibleDoctor: f.DoctorA}
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 23; i++ {
		e := &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse("2023-01-01").AddDays(i * 20)}
		if i%2 == 0 {
			sys, dia, h, w := 120+i, 80, 165.5, 60.25
			e.Systolic, e.Diastolic, e.HeightCM, e.WeightKG = &sys, &dia, &h, &w
			e.Details = record.Details{"note": fmt.Sprintf("第 %d 次", i)}
		}
		doctor := f.DoctorA
		if i == 22 {
			doctor = f.HomeVisitA
		}
		if _, err := db.AddExam(ctx, doctor, f.InstA, e, postgres.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, form := range []entry.EnrolmentForm{
		{Programme: entry.Maternal, EnrolledOn: civil.MustParse("2024-02-10"), LMPDate: civil.MustParse("2024-01-05")},
		{Programme: entry.Hypertension, EnrolledOn: civil.MustParse("2024-03-01")},
		{Programme: entry.Tuberculosis, EnrolledOn: civil.MustParse("2023-03-01"), Status: entry.EnrolmentEnded,
			EndedOn: civil.MustParse("2023-09-01"), EndReason: "治愈"},
	} {
		if _, _, err := db.AddEnrolment(ctx, f.DoctorA, r.RecordID, form, postgres.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}

	page, err := db.RecordPage(ctx, r.RecordID)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := db.Record(ctx, r.RecordID)
	if err != nil {
		t.Fatal(err)
	}
	exams, _, err := db.Exams(ctx, r.RecordID, postgres.Page{PerPage: postgres.RecordPageExams})
	if err != nil {
		t.Fatal(err)
	}
	enrolments, _, err := db.Enrolments(ctx, r.RecordID, postgres.Page{PerPage: postgres.MaxPerPage})
	if err != nil {
		t.Fatal(err)
	}
	staffNames, err := db.RecordStaffNames(ctx, r.RecordID)
	if err != nil {
		t.Fatal(err)
	}
	scope, err := db.RecordScope(ctx, r.RecordID)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := db.Village(ctx, f.VillageA1)
	in, _ := db.Institution(ctx, rec.FilingInstitution)
	doc, _ := db.Staff(ctx, f.DoctorA)
	names := map[string]string{"village_code": v.Name, "filing_institution": in.Name, "responsible_doctor": doc.Name, "filed_by": doc.Name}
	if len(exams) != 20 || len(enrolments) != 3 || len(enrolments[1].Schedule) == 0 || len(staffNames) != 2 {
		t.Fatalf("the lists are not what the test means: %d exams, %d enrolments, %d staff names", len(exams), len(enrolments), len(staffNames))
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"scope", page.Scope, scope}, {"record", page.Record, rec}, {"names", page.Names, names}, {"exams", page.Exams, exams},
		{"enrolments", page.Enrolments, enrolments}, {"staff names", page.StaffNames, staffNames},
	} {
		got, _ := json.Marshal(c.got)
		want, _ := json.Marshal(c.want)
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", c.what, got, want)
		}
	}

	// The record page is written by goccy/go-json: byte for byte what
	// encoding/json writes.
	std, _ := json.Marshal(page)
	fast, err := gojson.Marshal(page)
	if err != nil || string(fast) != string(std) {
		t.Errorf("goccy/go-json writes\n%s (%v)\nencoding/json\n%s", fast, err, std)
	}

	// A missing record's page is its scope, for the gate to decide who
	// learns it is missing; an ID of no village is not found.
	missing := f.VillageA1 + "0999"
	page, err = db.RecordPage(ctx, missing)
	want, _ := db.RecordScope(ctx, missing)
	if err != nil || page.Record != nil || !page.Scope.Missing || *page.Scope != *want {
		t.Errorf("missing record: %+v, %v; want scope %+v", page, err, want)
	}
	if _, err := db.RecordPage(ctx, "9999999999990001"); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("record of no village: %v, want NotFound", err)
	}
}
