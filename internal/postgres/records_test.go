package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
	sqlfiles "healthrec/sql"
)

// validID makes a valid identity number for a birth date and order code.
func validID(birth string, order int) string {
	first17 := "330127" + birth[0:4] + birth[5:7] + birth[8:10] + fmt.Sprintf("%03d", order)
	return first17 + string(ident.CheckChar(first17))
}

func newRecord(village, name string) *record.Record {
	return &record.Record{VillageCode: village, Name: name, Sex: "M", BirthDate: civil.MustParse("1960-05-01"),
		ResidenceType: "户籍", Ethnicity: "汉族", Phone: "13812345678"}
}

func TestFileRecord(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)

	t.Run("OK", func(t *testing.T) {
		r := newRecord(f.VillageA1, "张三")
		r.IDNumber = validID("1960-05-01", 11)
		if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
			t.Fatal(err)
		}
		if got, want := r.RecordID, f.VillageA1+"0001"; got != want {
			t.Fatalf("record_id = %s, want %s", got, want)
		}
		if got, want := r.ResponsibleDoctor, f.DoctorA; got != want {
			t.Fatalf("responsible doctor defaulted to %q, want the village's %q", got, want)
		}
		if r.FilingInstitution != f.InstA || r.Status != record.Active {
			t.Fatalf("filing institution %q status %q", r.FilingInstitution, r.Status)
		}
	})

	t.Run("ErrDuplicateIDNumber", func(t *testing.T) {
		r := newRecord(f.VillageA2, "张三")
		r.IDNumber = validID("1960-05-01", 11)
		err := db.FileRecord(ctx, f.DoctorA, r)
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.Conflict {
			t.Fatalf("err = %v, want conflict", err)
		}
		if got, want := e.Extra["existing_record_id"], f.VillageA1+"0001"; got != want {
			t.Fatalf("existing_record_id = %v, want %s", got, want)
		}
		// The failed filing consumed no serial in its village.
		ok2 := newRecord(f.VillageA2, "李四")
		if err := db.FileRecord(ctx, f.DoctorA, ok2); err != nil {
			t.Fatal(err)
		}
		if got, want := ok2.RecordID, f.VillageA2+"0001"; got != want {
			t.Fatalf("after a rolled-back filing, record_id = %s, want %s", got, want)
		}
	})

	t.Run("ErrIDNumberFields", func(t *testing.T) {
		cases := []struct {
			name, id, birth, sex, field string
		}{
			{"CheckChar", validID("1960-05-01", 13)[:17] + "0", "1960-05-01", "M", "id_number"},
			{"ImpossibleDate", "33012719990230001X", "1999-02-28", "M", "id_number"},
			{"BirthMismatch", validID("1960-05-02", 13), "1960-05-01", "M", "birth_date"},
			{"SexMismatch", validID("1960-05-01", 12), "1960-05-01", "M", "sex"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := newRecord(f.VillageA1, "王五")
				r.IDNumber, r.BirthDate, r.Sex = tc.id, civil.MustParse(tc.birth), tc.sex
				if tc.name == "CheckChar" && ident.CheckChar(tc.id[:17]) == '0' {
					r.IDNumber = tc.id[:17] + "1"
				}
				err := db.FileRecord(ctx, f.DoctorA, r)
				e, ok := apperr.As(err)
				if !ok || e.Code != apperr.Invalid {
					t.Fatalf("err = %v, want invalid", err)
				}
				if len(e.Fields) == 0 || e.Fields[0].Field != tc.field {
					t.Fatalf("fields = %v, want %s", e.Fields, tc.field)
				}
			})
		}
	})

	t.Run("ErrVillageNotRegistered", func(t *testing.T) {
		err := db.FileRecord(ctx, f.DoctorA, newRecord("330127100199", "赵六"))
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Fields[0].Field != "village_code" {
			t.Fatalf("err = %v, want invalid village_code", err)
		}
	})

	t.Run("ErrSerialsExhausted", func(t *testing.T) {
		if _, err := db.Exec(`UPDATE village_serials SET last_serial = 9999 WHERE village_code = $1`, f.VillageB2); err != nil {
			t.Fatal(err)
		}
		err := db.FileRecord(ctx, f.DoctorB, newRecord(f.VillageB2, "钱七"))
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.Conflict || e.Extra["village_code"] != f.VillageB2 {
			t.Fatalf("err = %v, want conflict naming %s", err, f.VillageB2)
		}
		// Other villages are unaffected.
		if err := db.FileRecord(ctx, f.DoctorB, newRecord(f.VillageB1, "钱七")); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFileRecordConcurrent files 50 records in one village at once: the
// serials are exactly 0001…0050, without gaps or duplicates.
func TestFileRecordConcurrent(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	const n = 50
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := newRecord(f.VillageA1, fmt.Sprintf("居民%02d", i))
			// Every fifth filing fails after taking the lock (a duplicate
			// identity number), so rollbacks race with commits.
			if i%5 == 0 && i > 0 {
				r.IDNumber = validID("1960-05-01", 1)
			}
			errs[i] = db.FileRecord(ctx, f.DoctorA, r)
			ids[i] = r.RecordID
		}(i)
	}
	wg.Wait()
	var got []string
	for i, err := range errs {
		if err == nil {
			got = append(got, ids[i])
		}
	}
	sort.Strings(got)
	for i, id := range got {
		if want := fmt.Sprintf("%s%04d", f.VillageA1, i+1); id != want {
			t.Fatalf("serial %d = %s, want %s (all: %v)", i+1, id, want, got)
		}
	}
	// One filing with the shared identity number succeeds; the others are 409.
	if want := n - 9 + 1; len(got) != want {
		t.Fatalf("%d filings succeeded, want %d", len(got), want)
	}
}

func TestUpdateRecordHistory(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "张三")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	patch := map[string]json.RawMessage{"phone": json.RawMessage(`"0571-88881234"`), "name": json.RawMessage(`"张叁"`)}
	got, err := db.UpdateRecord(ctx, f.AdminA, r.RecordID, patch)
	if err != nil {
		t.Fatal(err)
	}
	if got.Phone != "0571-88881234" || got.Name != "张叁" || got.Version != 2 {
		t.Fatalf("updated = %+v", got)
	}
	hist, total, err := db.History(ctx, r.RecordID, postgres.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || hist[0].Action != "update" || hist[0].ChangedBy != f.AdminA {
		t.Fatalf("history = %+v", hist)
	}
	if c := hist[0].Changes["name"]; c.Before != "张三" || c.After != "张叁" {
		t.Fatalf("name change = %+v", c)
	}
	if _, ok := hist[0].Changes["sex"]; ok {
		t.Fatal("unchanged field in history")
	}

	t.Run("ErrBadPhone", func(t *testing.T) {
		_, err := db.UpdateRecord(ctx, f.AdminA, r.RecordID, map[string]json.RawMessage{"phone": json.RawMessage(`"12345"`)})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Fields[0].Field != "phone" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrReadOnlyField", func(t *testing.T) {
		_, err := db.UpdateRecord(ctx, f.AdminA, r.RecordID, map[string]json.RawMessage{"record_id": json.RawMessage(`"1"`)})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Fields[0].Field != "record_id" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.UpdateRecord(ctx, f.AdminA, f.VillageA1+"0999", patch)
		if apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestChangeStatus(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "张三")
	r.IDNumber = validID("1960-05-01", 11)
	r.FiledOn = civil.MustParse("2020-01-01")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChangeStatus(ctx, f.DoctorA, r.RecordID, postgres.StatusChange{Status: record.MovedOut, StatusDate: civil.MustParse("2019-12-31"), Destination: "杭州"}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("status date before filing: err = %v", err)
	}
	out, err := db.ChangeStatus(ctx, f.DoctorA, r.RecordID, postgres.StatusChange{Status: record.MovedOut, StatusDate: civil.MustParse("2024-03-01"), Destination: "杭州"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != record.MovedOut || out.StatusDate.String() != "2024-03-01" {
		t.Fatalf("record = %+v", out)
	}
	_, err = db.ChangeStatus(ctx, f.DoctorA, r.RecordID, postgres.StatusChange{Status: record.Deceased, StatusDate: civil.MustParse("2024-04-01")})
	if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Extra["state"] != "moved_out" {
		t.Fatalf("err = %v, want conflict with state", err)
	}
	// The identity number is free again once the record is no longer active.
	again := newRecord(f.VillageA2, "张三")
	again.IDNumber = r.IDNumber
	if err := db.FileRecord(ctx, f.DoctorA, again); err != nil {
		t.Fatalf("refile after move-out: %v", err)
	}
}

func TestAddExam(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "张三")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	sys, dia, h, w := 130, 85, 170.0, 72.25
	e := &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse("2024-05-01"), Systolic: &sys, Diastolic: &dia, HeightCM: &h, WeightKG: &w}
	key := postgres.NewIdempotency(f.DoctorA, "k1", "body")
	created, err := db.AddExam(ctx, f.DoctorA, f.InstA, e, key)
	if err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if e.BMI == nil || *e.BMI != 25.0 {
		t.Fatalf("BMI = %v, want 25.0", e.BMI)
	}
	if !e.Complete() {
		t.Fatal("exam with BP, height and weight is not complete")
	}
	t.Run("Replay", func(t *testing.T) {
		again := &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse("2024-05-01"), Systolic: &sys, Diastolic: &dia, HeightCM: &h, WeightKG: &w}
		created, err := db.AddExam(ctx, f.DoctorA, f.InstA, again, key)
		if err != nil || created || again.ID != e.ID {
			t.Fatalf("replay: created=%v id=%d want %d err=%v", created, again.ID, e.ID, err)
		}
		_, total, _ := db.Exams(ctx, r.RecordID, postgres.Page{})
		if total != 1 {
			t.Fatalf("%d exams after replay, want 1", total)
		}
	})
	t.Run("ErrKeyReusedWithOtherBody", func(t *testing.T) {
		other := &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse("2024-05-02")}
		_, err := db.AddExam(ctx, f.DoctorA, f.InstA, other, postgres.NewIdempotency(f.DoctorA, "k1", "other body"))
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("err = %v, want conflict", err)
		}
	})
	t.Run("ErrVitals", func(t *testing.T) {
		bad := 20
		_, err := db.AddExam(ctx, f.DoctorA, f.InstA, &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse("2024-05-01"), Systolic: &bad, Diastolic: &dia}, postgres.Idempotency{})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Fields[0].Field != "systolic" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestAccessLogAppendOnly(t *testing.T) {
	db := pgtest.NewDB(t)
	if _, err := db.Exec(`INSERT INTO access_log (staff_code, roles, record_id, section, action, outcome) VALUES ('a', '', '1', 'basic', 'read', 'allowed')`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE access_log SET outcome = 'denied'`, `DELETE FROM access_log`, `TRUNCATE access_log`} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s succeeded on the append-only log", q)
		}
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM access_log WHERE outcome = 'allowed'`); err != nil || n != 1 {
		t.Fatalf("log rows = %d, %v", n, err)
	}
}

func TestRecordFacts(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "张三")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	sys, dia, h, w := 120, 80, 170.0, 70.0
	add := func(date string, complete bool) {
		e := &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse(date), Systolic: &sys, Diastolic: &dia, HeightCM: &h}
		if complete {
			e.WeightKG = &w
		}
		if _, err := db.AddExam(ctx, f.DoctorA, f.InstA, e, postgres.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	add("2024-05-01", true)
	add("2023-01-01", false) // an older exam entered later does not replace the latest
	var got struct {
		Exam     civil.Date `db:"last_exam_date"`
		Complete bool       `db:"last_exam_complete"`
		Service  civil.Date `db:"last_service_date"`
	}
	if err := db.Get(&got, `SELECT last_exam_date, last_exam_complete, last_service_date FROM records WHERE record_id = $1`, r.RecordID); err != nil {
		t.Fatal(err)
	}
	if got.Exam.String() != "2024-05-01" || !got.Complete || got.Service.String() != "2024-05-01" {
		t.Fatalf("facts = %+v", got)
	}
	add("2024-06-01", false)
	_ = db.Get(&got, `SELECT last_exam_date, last_exam_complete, last_service_date FROM records WHERE record_id = $1`, r.RecordID)
	if got.Exam.String() != "2024-06-01" || got.Complete {
		t.Fatalf("after incomplete newer exam: %+v", got)
	}
}

// TestMigrationEndsProgrammesOfClosedRecords runs migration 00012 again over
// a record closed the way earlier versions left it (programmes still active)
// and checks it ends them as a status change now does.
func TestMigrationEndsProgrammesOfClosedRecords(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "周九")
	r.FiledOn = civil.MustParse("2020-01-01")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO enrolments (record_id, programme, enrolled_on, created_by) VALUES
		($1, 'hypertension', '2021-01-01', $2), ($1, 'elderly', '2024-05-01', $2)`, r.RecordID, f.DoctorA); err != nil {
		t.Fatal(err)
	}
	// As an earlier version closed a record: the record only.
	if _, err := db.ExecContext(ctx, `UPDATE records SET status = 'deceased', status_date = '2024-03-01' WHERE record_id = $1`, r.RecordID); err != nil {
		t.Fatal(err)
	}
	up, err := fs.ReadFile(sqlfiles.Migrations, "migrations/00012_end_programmes_of_closed_records.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, string(up)); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := db.SelectContext(ctx, &got, `SELECT programme || ' ' || status || ' ' || ended_on || ' ' || end_reason FROM enrolments
		WHERE record_id = $1 ORDER BY programme`, r.RecordID); err != nil {
		t.Fatal(err)
	}
	if want := []string{"elderly ended 2024-05-01 死亡", "hypertension ended 2024-03-01 死亡"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("enrolments %q, want %q", got, want)
	}
}
