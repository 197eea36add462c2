package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

// TestFollowupDueRule checks the one SQL rule for the next due date against
// month ends and leap years.
func TestFollowupDueRule(t *testing.T) {
	db := pgtest.NewDB(t)
	cases := []struct{ last, next, want string }{
		{"2024-01-31", "", "2024-04-30"},
		{"2023-11-29", "", "2024-02-29"},
		{"2023-11-30", "", "2024-02-29"},
		{"2022-11-29", "", "2023-02-28"},
		{"2023-11-28", "", "2024-02-28"},
		{"2024-05-31", "", "2024-08-31"},
		{"2024-12-31", "", "2025-03-31"},
		{"2024-02-29", "", "2024-05-29"},
		{"2024-01-31", "2024-02-15", "2024-02-15"},
	}
	for _, tc := range cases {
		t.Run(tc.last+"+"+tc.next, func(t *testing.T) {
			var next civil.Date
			if tc.next != "" {
				next = civil.MustParse(tc.next)
			}
			var got civil.Date
			if err := db.Get(&got, `SELECT followup_due($1, $2)`, civil.MustParse(tc.last), next); err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want {
				t.Fatalf("followup_due = %s, want %s", got, tc.want)
			}
			// The domain's calendar agrees where no next date is set.
			if tc.next == "" && civil.MustParse(tc.last).AddMonths(3).String() != tc.want {
				t.Fatalf("civil AddMonths disagrees: %s", civil.MustParse(tc.last).AddMonths(3))
			}
		})
	}
}

// TestRefreshFacts checks that the set-based rebuild after a bulk load gives
// the same facts and schedules as the write-time updates.
func TestRefreshFacts(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	db.Now = func() time.Time { return time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC) }
	rec := func(name string) string {
		r := &record.Record{VillageCode: f.VillageA1, Name: name, Sex: "M", BirthDate: civil.MustParse("1950-01-01"),
			ResidenceType: record.ResidenceRegistered, Ethnicity: "汉族", Phone: "13912345678"}
		if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
			t.Fatal(err)
		}
		return r.RecordID
	}
	enrol := func(rid string, p entry.Programme, on string) {
		if _, _, err := db.AddEnrolment(ctx, f.DoctorA, rid, entry.EnrolmentForm{Programme: p, EnrolledOn: civil.MustParse(on)},
			postgres.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(e entry.Entry) {
		if _, _, err := db.AddEntry(ctx, f.DoctorA, f.InstA, e, postgres.Idempotency{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	fu := func(rid string, p entry.Programme, on, next string) *entry.Followup {
		e := entry.New(entry.KindFollowup).(*entry.Followup)
		e.RecordID, e.Programme, e.ServiceDate, e.Method, e.Classification = rid, p, civil.MustParse(on), entry.MethodPhone, entry.ClassSatisfactory
		if next != "" {
			e.NextDate = civil.MustParse(next)
		}
		return e
	}
	a, b, c := rec("甲"), rec("乙"), rec("丙")
	enrol(a, entry.Hypertension, "2024-01-31")
	enrol(b, entry.Hypertension, "2023-06-01")
	enrol(b, entry.Type2Diabetes, "2023-06-01")
	enrol(c, entry.Elderly, "2024-01-01")
	add(fu(b, entry.Hypertension, "2023-11-29", ""))
	add(fu(b, entry.Hypertension, "2024-03-01", "2024-04-01"))
	add(fu(b, entry.Hypertension, "2024-02-01", "")) // late entry of an older follow-up
	add(fu(b, entry.Type2Diabetes, "2024-05-31", ""))
	v := entry.New(entry.KindVisit).(*entry.Visit)
	v.RecordID, v.ServiceDate, v.Subjective, v.Assessment = c, civil.MustParse("2024-06-01"), "咳嗽", "上呼吸道感染"
	add(v)

	type facts struct {
		Enrolments string `db:"enrolments"`
		Records    string `db:"records"`
	}
	read := func() facts {
		var out facts
		err := db.Get(&out, `SELECT
			(SELECT string_agg(record_id || programme || ':' || coalesce(last_followup_date::text, '-') || '>' || coalesce(next_due_date::text, '-'), ' ' ORDER BY id) FROM enrolments) AS enrolments,
			(SELECT string_agg(record_id || ':' || coalesce(last_service_date::text, '-'), ' ' ORDER BY record_id) FROM records) AS records`)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	written := read()
	want := fmt.Sprintf("%shypertension:->2024-04-30 %shypertension:2024-03-01>2024-04-01 %stype2_diabetes:2024-05-31>2024-08-31 %selderly:->-",
		a, b, b, c)
	if written.Enrolments != want {
		t.Fatalf("write-time schedules\n got %s\nwant %s", written.Enrolments, want)
	}
	if _, err := db.Exec(`UPDATE enrolments SET last_followup_date = NULL, next_due_date = NULL;
		UPDATE records SET last_service_date = NULL`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.RefreshFacts(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != written {
		t.Fatalf("after RefreshFacts\n got %+v\nwant %+v", got, written)
	}
	// The same when the transaction wrote every record itself, as a fresh
	// load does (it then locks nothing).
	tx, err = db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`UPDATE enrolments SET last_followup_date = NULL, next_due_date = NULL;
		UPDATE records SET last_service_date = NULL`); err != nil {
		t.Fatal(err)
	}
	if err := postgres.RefreshFacts(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != written {
		t.Fatalf("after RefreshFacts of its own records\n got %+v\nwant %+v", got, written)
	}
	pgtest.CheckRateFacts(t, db)
}

// BenchmarkDueList measures the follow-up due list of one village with 3,000
// enrolled residents (1,000 of them in both programmes, most with follow-ups),
// among 40 more villages of the same size (123,000 records, 164,000
// enrolments, 443,000 follow-ups), loaded in bulk and rebuilt with
// RefreshFacts. As of a date when nearly every enrolment is due, it reads the
// first page (50, the default, and 500, the maximum) and the total.
func BenchmarkDueList(b *testing.B) {
	ctx := context.Background()
	db := pgtest.NewDB(b)
	f := pgtest.NewFixture(b, db)
	const n = 3000
	villages := []string{f.VillageA1}
	for i := 0; i < 40; i++ {
		code := fmt.Sprintf("330127100%03d", 110+i)
		if _, err := db.Exec(`INSERT INTO regions (code, level, parent_code, name, institution_code) VALUES ($1, 'village', '330127100', $2, $3)`,
			code, "村"+code[9:], f.InstA); err != nil {
			b.Fatal(err)
		}
		villages = append(villages, code)
	}
	for _, v := range villages {
		load(b, db.DB, v, n, f.DoctorA)
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := postgres.RefreshFacts(ctx, tx); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// Autovacuum would have set the visibility map and statistics of a
	// settled database; the count then reads the index alone.
	if _, err := pgtest.Superuser(b, db).Exec(`VACUUM ANALYZE`); err != nil { // the app role may not
		b.Fatal(err)
	}
	asOf := civil.MustParse("2024-12-31")
	for _, per := range []int{50, 500} {
		b.Run(fmt.Sprintf("per_page=%d", per), func(b *testing.B) {
			filter := postgres.DueFilter{Villages: []string{f.VillageA1}, AsOf: asOf, Page: postgres.Page{PerPage: per}}
			items, total, err := db.DueFollowups(ctx, filter)
			if err != nil {
				b.Fatal(err)
			}
			if total < n || len(items) != per {
				b.Fatalf("total %d, page %d: the load did not make the village due", total, len(items))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := db.DueFollowups(ctx, filter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// load files n residents in a village in bulk: all enrolled in hypertension in
// 2023, every third also in diabetes, with a follow-up a quarter for most.
func load(b *testing.B, db *sqlx.DB, village string, n int, doctor string) {
	b.Helper()
	for _, q := range []string{
		`INSERT INTO records (record_id, village_code, name, sex, birth_date, filed_on, filed_by, responsible_doctor, phone)
		SELECT $1 || lpad(i::text, 4, '0'), $1, '居民' || i, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END,
			DATE '1940-01-01' + (i % 9000), DATE '2023-01-01', $3, $3, '13912345678'
		FROM generate_series(1, $2::int) i`,
		`INSERT INTO village_serials (village_code, last_serial) SELECT $1, $2::int WHERE $3 <> ''
		ON CONFLICT (village_code) DO UPDATE SET last_serial = EXCLUDED.last_serial`,
		`INSERT INTO enrolments (record_id, programme, enrolled_on, created_by)
		SELECT $1 || lpad(i::text, 4, '0'), 'hypertension', DATE '2023-01-01' + (i % 365), $3 FROM generate_series(1, $2::int) i`,
		`INSERT INTO enrolments (record_id, programme, enrolled_on, created_by)
		SELECT $1 || lpad(i::text, 4, '0'), 'type2_diabetes', DATE '2023-02-01' + (i % 300), $3 FROM generate_series(3, $2::int, 3) i`,
		`INSERT INTO entries (record_id, kind, service_date, doctor, programme, next_date, data, created_by)
		SELECT e.record_id, 'followup', e.enrolled_on + 90 * q, $3, e.programme,
			CASE WHEN q % 2 = 0 THEN e.enrolled_on + 90 * q + 60 END, '{"method":"home","classification":"satisfactory"}', $3
		FROM enrolments e, generate_series(1, 3) q
		WHERE e.village_code = $1 AND e.id % 10 <> 0 AND $2::int > 0`,
	} {
		if _, err := db.Exec(q, village, n, doctor); err != nil {
			b.Fatal(err)
		}
	}
}
