package postgres_test

import (
	"context"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

// TestRecordListsPaging checks the totals of a record's exams and
// enrolments, and of a search, on every page, past the end included (where no row carries
// the total along).
func TestRecordListsPaging(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "分页")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"2024-01-10", "2024-06-10", "2025-01-10"} {
		if _, err := db.AddExam(ctx, f.DoctorA, f.InstA, &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse(d)}, postgres.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []entry.Programme{"hypertension", "type2_diabetes", "tuberculosis"} {
		if _, _, err := db.AddEnrolment(ctx, f.DoctorA, r.RecordID, entry.EnrolmentForm{Programme: p, EnrolledOn: civil.MustParse("2024-02-01")},
			postgres.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		page, items int
	}{{1, 2}, {2, 1}, {3, 0}, {9, 0}} {
		pg := postgres.Page{Page: c.page, PerPage: 2}
		exams, total, err := db.Exams(ctx, r.RecordID, pg)
		if err != nil || len(exams) != c.items || total != 3 {
			t.Errorf("exams page %d: %d items, total %d, %v; want %d items, total 3", c.page, len(exams), total, err, c.items)
		}
		enrolments, total, err := db.Enrolments(ctx, r.RecordID, pg)
		if err != nil || len(enrolments) != c.items || total != 3 {
			t.Errorf("enrolments page %d: %d items, total %d, %v; want %d items, total 3", c.page, len(enrolments), total, err, c.items)
		}
	}
	if err := db.FileRecord(ctx, f.DoctorA, newRecord(f.VillageA2, "分页二")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		page, items int
	}{{1, 1}, {2, 1}, {3, 0}} {
		found, total, err := db.SearchRecords(ctx, postgres.RecordFilter{Query: "分页", Institutions: []string{f.InstA}, Page: postgres.Page{Page: c.page, PerPage: 1}})
		if err != nil || len(found) != c.items || total != 2 {
			t.Errorf("search page %d: %d items, total %d, %v; want %d items, total 2", c.page, len(found), total, err, c.items)
		}
	}
	if exams, _, _ := db.Exams(ctx, r.RecordID, postgres.Page{PerPage: 2}); len(exams) == 2 && exams[0].ExamDate.String() != "2025-01-10" {
		t.Errorf("exams not newest first: %v", exams[0].ExamDate)
	}
}
