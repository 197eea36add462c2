package postgres_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/quality"
	"healthrec/internal/rates"
	"healthrec/internal/record"
	"healthrec/internal/region"
	sqlfiles "healthrec/sql"
)

// service is one exam or entry as the test filed it, in filing order.
// complete is an exam's Q11; conforming whether it meets its kind's
// specification (for an exam, the same).
type service struct {
	record     string
	exam       bool
	date       civil.Date
	complete   bool
	conforming bool
}

// followup records a hypertension follow-up by phone, which conforms only
// with a blood pressure and a next date (entry.Missing).
func (e *rateEnv) followup(id string, on civil.Date, conforming bool) {
	e.t.Helper()
	f := entry.New(entry.KindFollowup).(*entry.Followup)
	f.RecordID, f.ServiceDate, f.Programme, f.Method, f.Classification = id, on, entry.Hypertension, entry.MethodPhone, entry.ClassSatisfactory
	if conforming {
		s, d := 135, 85
		f.Systolic, f.Diastolic, f.NextDate = &s, &d, on.AddMonths(3)
	}
	got, _, err := e.db.AddEntry(e.ctx, e.f.DoctorA, e.f.InstA, f, postgres.Idempotency{}, nil)
	e.must(err)
	if got.Head().Conforming != conforming || entry.Conforms(got) != conforming {
		e.t.Fatalf("follow-up %v: stored conforming %v, Go definition %v", f.FollowupNote, got.Head().Conforming, entry.Conforms(got))
	}
}

func (e *rateEnv) visit(id string, on civil.Date) {
	e.t.Helper()
	v := entry.New(entry.KindVisit).(*entry.Visit)
	v.RecordID, v.ServiceDate, v.Subjective, v.Assessment = id, on, "头晕", "高血压"
	_, _, err := e.db.AddEntry(e.ctx, e.f.DoctorA, e.f.InstA, v, postgres.Idempotency{}, nil)
	e.must(err)
}

// expectAsOf computes from the services themselves what the report must say
// of each record as of a date: the rules Q10/Q11 it breaks and whether it
// has a dynamic record in the window.
func expectAsOf(services []service, asOf civil.Date) (rules map[string]quality.Set, used map[string]bool) {
	rules, used = map[string]quality.Set{}, map[string]bool{}
	latest := map[string]int{} // index of the latest exam on or before asOf
	for i, s := range services {
		if s.date.After(asOf) {
			continue
		}
		if !s.date.Before(asOf.AddDays(-364)) && s.conforming {
			used[s.record] = true
		}
		if s.exam {
			// Latest by date, then by id: a later filing wins a tie.
			if j, ok := latest[s.record]; !ok || !s.date.Before(services[j].date) {
				latest[s.record] = i
			}
		}
	}
	for id, i := range latest {
		if !services[i].complete {
			rules[id] = quality.Of(quality.Q11)
		}
	}
	for _, s := range services {
		if _, ok := latest[s.record]; !ok {
			rules[s.record] = quality.Of(quality.Q10)
		}
	}
	return rules, used
}

// TestRateFactsOnWrites files exams and visits in random order — older ones
// after newer ones, several exams on one date — and checks that the facts
// the write path keeps equal their definition over the exams and entries,
// through a record patch and a status change, and after RefreshFacts
// rebuilds them; and that reports as of many dates (window edges, exam
// dates, the days around them) say of each record exactly what the exams
// and entries themselves say.
func TestRateFactsOnWrites(t *testing.T) {
	e := newRateEnv(t)
	r := rand.New(rand.NewPCG(10, 11))
	var ids []string
	for i := 0; i < 8; i++ {
		ids = append(ids, e.file(e.f.VillageA1, "2021-01-01", nil))
		_, _, err := e.db.AddEnrolment(e.ctx, e.f.DoctorA, ids[i], entry.EnrolmentForm{Programme: entry.Hypertension,
			EnrolledOn: civil.MustParse("2021-06-01")}, postgres.Idempotency{})
		e.must(err)
	}
	first := civil.MustParse("2022-01-01")
	span := first.DaysUntil(civil.MustParse("2026-06-30"))
	var services []service
	for i := 0; i < 160; i++ {
		id := ids[1+r.IntN(len(ids)-1)] // ids[0] never has a dynamic record
		on := first.AddDays(r.IntN(span + 1))
		if r.IntN(4) == 0 { // a date this record already has
			for _, s := range services {
				if s.record == id {
					on = s.date
					break
				}
			}
		}
		s := service{record: id, exam: r.IntN(3) > 0, date: on, complete: r.IntN(3) > 0}
		switch {
		case s.exam:
			s.conforming = s.complete
			e.exam(id, on.String(), s.complete)
		case r.IntN(2) == 0:
			s.conforming = true
			e.visit(id, on)
		default:
			// Half the follow-ups leave out what their specification needs:
			// they are dynamic records that never make the record used.
			s.conforming = r.IntN(2) == 0
			e.followup(id, on, s.conforming)
		}
		services = append(services, s)
	}
	pgtest.CheckRateFacts(t, e.db)

	// Neither a patch nor a status change touches the facts.
	_, err := e.db.UpdateRecord(e.ctx, e.f.AdminA, ids[1], map[string]json.RawMessage{"phone": json.RawMessage(`"13812345678"`)})
	e.must(err)
	e.status(ids[2], record.MovedOut, "2026-06-01")
	pgtest.CheckRateFacts(t, e.db)

	// Dates where an answer changes, and the days around them.
	dates := map[civil.Date]bool{}
	for _, s := range services {
		for _, d := range []int{-1, 0, 1, 363, 364, 365} {
			dates[s.date.AddDays(d)] = true
		}
	}
	var asOfs []civil.Date
	for d := range dates {
		if !d.After(civil.MustParse("2026-05-31")) { // before the status change
			asOfs = append(asOfs, d)
		}
	}
	sort.Slice(asOfs, func(i, j int) bool { return asOfs[i].Before(asOfs[j]) })
	r.Shuffle(len(asOfs), func(i, j int) { asOfs[i], asOfs[j] = asOfs[j], asOfs[i] })
	for _, asOf := range asOfs[:40] {
		t.Run(asOf.String(), func(t *testing.T) {
			rules, used := expectAsOf(services, asOf)
			for _, id := range ids {
				if _, ok := rules[id]; !ok && id == ids[0] {
					rules[id] = quality.Of(quality.Q10)
				}
			}
			var want, got []string
			qualified, usedN := 0, 0
			for _, id := range ids {
				if rules[id] != 0 || !used[id] {
					want = append(want, fmt.Sprintf("%s %v %v", id, rules[id].IDs(), used[id]))
				}
				if rules[id] == 0 {
					qualified++
				}
				if used[id] {
					usedN++
				}
			}
			for _, x := range e.drill(asOf.String(), rates.All, 1, rates.County, e.f.County, "") {
				got = append(got, fmt.Sprintf("%s %v %v", x.RecordID, x.Failures.IDs(), x.HasDynamic))
			}
			sort.Strings(want)
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("drill-down\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			rep := e.report(asOf.String(), rates.All, 1)
			q := findRow(t, rep, rates.County, e.f.County, rates.Quality)
			u := findRow(t, rep, rates.County, e.f.County, rates.Usage)
			if q.Numerator != qualified || u.Numerator != usedN || q.Denominator != len(ids) {
				t.Errorf("county: quality %d/%d, usage %d; want %d/%d, %d", q.Numerator, q.Denominator, u.Numerator, qualified, len(ids), usedN)
			}
		})
	}

	// RefreshFacts (the bulk loaders' path) rebuilds the same facts.
	_, err = e.db.Exec(`UPDATE records SET last_exam_date = NULL, last_exam_complete = false, last_service_date = NULL,
		used_on = NULL, exam_from = NULL, exam_ok_on = NULL`)
	e.must(err)
	tx, err := e.db.Beginx()
	e.must(err)
	e.must(postgres.RefreshFacts(e.ctx, tx))
	e.must(tx.Commit())
	pgtest.CheckRateFacts(t, e.db)
}

// TestRateFactsConcurrentExams adds exams to the same records from several
// transactions at once, dates out of order and some equal: the facts must
// still be those of all the exams together.
func TestRateFactsConcurrentExams(t *testing.T) {
	e := newRateEnv(t)
	ids := []string{e.file(e.f.VillageA1, "2021-01-01", nil), e.file(e.f.VillageA1, "2021-01-01", nil)}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 3))
			for i := 0; i < 12; i++ {
				x := &record.Exam{RecordID: ids[r.IntN(2)], ExamDate: civil.MustParse("2024-01-01").AddDays(r.IntN(6) * 30), Doctor: e.f.DoctorA}
				if r.IntN(2) == 0 {
					s, d, h, wt := 130, 80, 160.0, 60.0
					x.Systolic, x.Diastolic, x.HeightCM, x.WeightKG = &s, &d, &h, &wt
				}
				if _, err := e.db.AddExam(e.ctx, e.f.DoctorA, "", x, postgres.Idempotency{}); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	pgtest.CheckRateFacts(t, e.db)
}

// TestRateCountsConcurrentWritesAndFolds files exams and visits from four
// writers while two folds run in a loop: whatever interleaving, every change
// is counted once — pending or folded — and the counters equal the records'.
func TestRateCountsConcurrentWritesAndFolds(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	var ids []string
	for i := 0; i < 6; i++ {
		ids = append(ids, e.file([]string{f.VillageA1, f.VillageB1}[i%2], "2022-01-01", nil))
	}
	var writers, folders sync.WaitGroup
	errs := make(chan error, 200)
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		folders.Add(1)
		go func() {
			defer folders.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.db.FoldRateChanges(e.ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for w := 0; w < 4; w++ {
		writers.Add(1)
		go func(w int) {
			defer writers.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := 0; i < 15; i++ {
				id, on := ids[r.IntN(len(ids))], civil.MustParse("2023-01-01").AddDays(r.IntN(900))
				if r.IntN(2) == 0 {
					x := &record.Exam{RecordID: id, ExamDate: on, Doctor: f.DoctorA}
					if r.IntN(3) > 0 {
						s, d, h, wt := 130, 80, 160.0, 60.0
						x.Systolic, x.Diastolic, x.HeightCM, x.WeightKG = &s, &d, &h, &wt
					}
					if _, err := e.db.AddExam(e.ctx, f.DoctorA, "", x, postgres.Idempotency{}); err != nil {
						errs <- err
					}
					continue
				}
				v := entry.New(entry.KindVisit).(*entry.Visit)
				v.RecordID, v.ServiceDate, v.Subjective, v.Assessment = id, on, "头晕", "高血压"
				if _, _, err := e.db.AddEntry(e.ctx, f.DoctorA, f.InstA, v, postgres.Idempotency{}, nil); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	writers.Wait()
	close(stop)
	folders.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	pgtest.CheckRateFacts(t, e.db)
	if _, err := e.db.FoldRateChanges(e.ctx); err != nil {
		t.Fatal(err)
	}
	pgtest.CheckRateFacts(t, e.db)
}

// TestRateCountsMigration runs the counting part of migration 00013 again
// over records written without counters (as before the migration) and checks
// the counters it builds.
func TestRateCountsMigration(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	for i := 0; i < 8; i++ {
		id := e.file([]string{f.VillageA1, f.VillageA2, f.VillageB1}[i%3], civil.MustParse("2021-03-01").AddDays(i*97).String(), nil)
		e.exam(id, civil.MustParse("2023-01-01").AddDays(i*45).String(), i%3 > 0)
		e.visit(id, civil.MustParse("2024-06-01").AddDays(i*30))
		if i%4 == 0 {
			e.status(id, record.MovedOut, "2025-02-01")
		}
	}
	up, err := fs.ReadFile(sqlfiles.Migrations, "migrations/00013_rate_counts.sql")
	e.must(err)
	_, backfill, ok := strings.Cut(string(up), "-- The records already filed.")
	if !ok {
		t.Fatal("migration 00013 has no backfill section")
	}
	owner := pgtest.Superuser(t, e.db) // the app role may not TRUNCATE
	_, err = owner.Exec(`TRUNCATE rate_counts, rate_changes`)
	e.must(err)
	_, err = owner.Exec(backfill)
	e.must(err)
	var pending int
	e.must(e.db.Get(&pending, `SELECT count(*) FROM rate_changes`))
	if pending != 0 {
		t.Errorf("%d changes left pending by the migration", pending)
	}
	pgtest.CheckRateFacts(t, e.db)
}

// TestNoteExamInterleaved runs the two interleavings of exam filings in
// which a transaction's view of the record's other exams is out of date
// unless noteExam reads them after locking the record: an exam of the same
// date with a larger id committed first (the later id is the latest exam of
// that date), and an exam of a later date committed while an earlier one
// waits for the lock.
func TestNoteExamInterleaved(t *testing.T) {
	e := newRateEnv(t)
	insert := func(tx *sqlx.Tx, id, on string, complete bool) int64 {
		t.Helper()
		var n int64
		weight := any(nil)
		if complete {
			weight = 60
		}
		e.must(tx.Get(&n, `INSERT INTO exams (record_id, exam_date, doctor, systolic, diastolic, height_cm, weight_kg, created_by)
			VALUES ($1, $2, $3, 120, 80, 160, $4, $3) RETURNING id`, id, on, e.f.DoctorA, weight))
		return n
	}
	note := func(tx *sqlx.Tx, rec string, id int64, on string, complete bool) error {
		return postgres.NoteExam(e.ctx, tx, rec, id, civil.MustParse(on), complete)
	}
	t.Run("same date, larger id commits first", func(t *testing.T) {
		rec := e.file(e.f.VillageA1, "2021-01-01", nil)
		a, b := e.db.MustBegin(), e.db.MustBegin()
		ida := insert(a, rec, "2024-05-01", false)
		idb := insert(b, rec, "2024-05-01", true)
		e.must(note(b, rec, idb, "2024-05-01", true))
		e.must(b.Commit())
		e.must(note(a, rec, ida, "2024-05-01", false))
		e.must(a.Commit())
		pgtest.CheckRateFacts(t, e.db)
	})
	t.Run("later date commits while an earlier one waits", func(t *testing.T) {
		rec := e.file(e.f.VillageA1, "2021-01-01", nil)
		a, b := e.db.MustBegin(), e.db.MustBegin()
		ida := insert(a, rec, "2024-09-01", true)
		idb := insert(b, rec, "2024-03-01", false)
		e.must(note(a, rec, ida, "2024-09-01", true))
		done := make(chan error)
		go func() { done <- note(b, rec, idb, "2024-03-01", false) }()
		// Commit a only once b waits for the record's lock.
		for waiting := false; !waiting; {
			e.must(e.db.Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
				WHERE c.relname = 'records' AND NOT l.granted)
				OR EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock')`))
		}
		e.must(a.Commit())
		e.must(<-done)
		e.must(b.Commit())
		pgtest.CheckRateFacts(t, e.db)
	})
}

// TestActiveCounts files records on many dates in villages with and without
// a responsible doctor, examines and visits some, closes some, moves one to
// another doctor and loads more by COPY: the counts kept by triggers stay
// those of the records, and as of any date the records active, qualified and
// used per village and per doctor — from the rate counters, before and after
// a fold, and (active only) as a sampled report takes them — are those a full
// pass over the records counts.
func TestActiveCounts(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	r := rand.New(rand.NewPCG(3, 4))
	villages := []string{f.VillageA1, f.VillageA2, f.VillageB1, f.VillageB2}
	var ids []string
	for i := 0; i < 60; i++ {
		ids = append(ids, e.file(villages[r.IntN(len(villages))], civil.MustParse("2023-01-01").AddDays(r.IntN(1200)).String(), nil))
	}
	for i, id := range ids {
		rec, err := e.db.Record(e.ctx, id)
		e.must(err)
		for k := 0; k < i%4; k++ {
			on := rec.FiledOn.AddDays(r.IntN(500) - 100)
			if today := civil.Of(e.db.Today()); on.After(today) {
				on = today
			}
			if k%2 == 0 {
				e.exam(id, on.String(), r.IntN(3) > 0)
			} else {
				e.visit(id, on)
			}
		}
	}
	for _, id := range ids[:12] {
		rec, err := e.db.Record(e.ctx, id)
		e.must(err)
		on := rec.FiledOn.AddDays(r.IntN(rec.FiledOn.DaysUntil(civil.MustParse("2026-06-30")) + 1))
		e.status(id, []record.Status{record.MovedOut, record.Deceased}[r.IntN(2)], on.String())
	}
	moved := e.file(f.VillageA2, "2023-05-01", nil) // no responsible doctor, until now
	rec, err := e.db.UpdateRecord(e.ctx, f.AdminA, moved, map[string]json.RawMessage{"responsible_doctor": json.RawMessage(`"` + f.DoctorA + `"`)})
	e.must(err)
	if rec.ResponsibleDoctor != f.DoctorA {
		t.Fatalf("patched record's doctor %q", rec.ResponsibleDoctor)
	}
	tx := e.db.MustBegin()
	stmt, err := tx.Prepare(pq.CopyIn("records", "record_id", "village_code", "name", "filed_on", "status", "status_date"))
	e.must(err)
	for i := 1; i <= 30; i++ {
		status, on := "active", any(nil)
		if i%5 == 0 {
			status, on = "moved_out", "2025-09-01"
		}
		_, err := stmt.Exec(fmt.Sprintf("%s%04d", f.VillageA2, 5000+i), f.VillageA2, "居民", "2024-0"+fmt.Sprint(1+i%9)+"-01", status, on)
		e.must(err)
	}
	_, err = stmt.Exec()
	e.must(err)
	e.must(tx.Commit())
	pgtest.CheckRateFacts(t, e.db)

	compare := func(t *testing.T, asOf string) {
		t.Helper()
		d := civil.MustParse(asOf)
		want, err := e.db.RateCountsByScan(e.ctx, f.County, d)
		e.must(err)
		all, err := e.db.RateGroups(e.ctx, f.County, rates.Params{AsOf: d, Sample: rates.All})
		e.must(err)
		if got, want := showCounts(all, true), showCounts(want, true); got != want {
			t.Errorf("as of %s, (active, qualified, used) from the counters\n%s\nfrom the records\n%s", asOf, got, want)
		}
		sampled, err := e.db.RateGroups(e.ctx, f.County, rates.Params{AsOf: d, Sample: 5, Seed: 1})
		e.must(err)
		if got, want := showCounts(sampled, false), showCounts(want, false); got != want {
			t.Errorf("as of %s, active for the draw\n%s\nfrom the records\n%s", asOf, got, want)
		}
	}
	dates := []string{"2022-12-31", "2023-01-01", "2023-06-30", "2024-01-01", "2024-05-01", "2024-12-31", "2025-01-01",
		"2025-08-31", "2025-09-01", "2026-06-30", "2027-06-30"}
	for _, asOf := range dates {
		t.Run("pending "+asOf, func(t *testing.T) { compare(t, asOf) })
	}
	n, err := e.db.FoldRateChanges(e.ctx)
	e.must(err)
	if n == 0 {
		t.Fatal("nothing to fold after the writes")
	}
	pgtest.CheckRateFacts(t, e.db)
	for _, asOf := range dates {
		t.Run("folded "+asOf, func(t *testing.T) { compare(t, asOf) })
	}
	// Records are never deleted; should one be, its changes are taken back.
	_, err = e.db.Exec(`DELETE FROM records WHERE record_id = $1`, fmt.Sprintf("%s%04d", f.VillageA2, 5001))
	e.must(err)
	pgtest.CheckRateFacts(t, e.db)
}

// showCounts lists groups' figures per village and per doctor, summing
// groups of a village and doctor into both: active, and with all, the
// qualified and used too.
func showCounts(gs []rates.Group, all bool) string {
	sums := map[string][3]int{}
	add := func(k string, g rates.Group) {
		s := sums[k]
		sums[k] = [3]int{s[0] + g.Active, s[1] + g.Qualified, s[2] + g.Used}
	}
	for _, g := range gs {
		if g.Village != "" {
			add("village "+g.Village, g)
		}
		if g.Doctor != "" {
			add("doctor "+g.Doctor, g)
		}
	}
	var out []string
	for k, s := range sums {
		if s[0] == 0 {
			continue
		}
		if all {
			out = append(out, fmt.Sprintf("%s:%v", k, s))
		} else {
			out = append(out, fmt.Sprintf("%s:%d", k, s[0]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestTwoCounties: a county's report counts its own records only, also once
// the database holds another county's — even for a doctor with records in
// both (the rate counters are kept per county).
func TestTwoCounties(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	for i := 0; i < 6; i++ {
		e.exam(e.file(f.VillageA1, "2024-01-01", nil), "2025-06-01", i%2 == 0)
	}
	rows := func(sample rates.Sample) string {
		var out []string
		for _, x := range e.report("2025-12-31", sample, 9).Rows {
			out = append(out, fmt.Sprintf("%s %s %s %d/%d", x.Level, x.ScopeCode, x.Indicator, x.Numerator, x.Denominator))
		}
		return strings.Join(out, "\n")
	}
	all, sampled := rows(rates.All), rows(3)
	for _, r := range []*region.Region{{Code: "330128", Name: "邻县"}, {Code: "330128100", Name: "邻镇"}, {Code: "330128100101", Name: "邻村", InstitutionCode: f.InstA}} {
		e.must(e.db.CreateRegion(e.ctx, r))
	}
	tx := e.db.MustBegin()
	stmt, err := tx.Prepare(pq.CopyIn("records", "record_id", "village_code", "name", "filed_on", "responsible_doctor"))
	e.must(err)
	for i := 1; i <= 4; i++ {
		_, err := stmt.Exec(fmt.Sprintf("330128100101%04d", i), "330128100101", "邻居", "2024-01-01", f.DoctorA)
		e.must(err)
	}
	_, err = stmt.Exec()
	e.must(err)
	e.must(tx.Commit())
	if got := rows(rates.All); got != all {
		t.Errorf("sample=all with a neighbour county\n%s\nwant\n%s", got, all)
	}
	if got := rows(3); got != sampled {
		t.Errorf("sample=3 with a neighbour county\n%s\nwant\n%s", got, sampled)
	}
}

// TestFactsLeaveCorrectedVersionsOut: the facts' view (record_rate_facts)
// counts the current version of a corrected entry, never the version it
// corrects — here a conforming follow-up corrected into one that does not
// conform, so that the record is no longer used — as the write path does.
func TestFactsLeaveCorrectedVersionsOut(t *testing.T) {
	e := newRateEnv(t)
	id := e.file(e.f.VillageA1, "2026-01-10", nil)
	_, _, err := e.db.AddEnrolment(e.ctx, e.f.DoctorA, id, entry.EnrolmentForm{Programme: entry.Hypertension, EnrolledOn: civil.MustParse("2026-01-10")}, postgres.Idempotency{})
	e.must(err)
	e.followup(id, civil.MustParse("2026-03-01"), true)
	var old string
	e.must(e.db.Get(&old, `SELECT id::text FROM entries WHERE record_id = $1`, id))

	f := entry.New(entry.KindFollowup).(*entry.Followup)
	f.RecordID, f.ServiceDate, f.Programme, f.Method, f.Classification = id, civil.MustParse("2026-03-02"), entry.Hypertension, entry.MethodPhone, entry.ClassSatisfactory
	_, _, err = e.db.CorrectEntry(e.ctx, e.f.DoctorA, e.f.InstA, old, f, "日期记错，血压未测", postgres.Idempotency{})
	e.must(err)

	type facts struct {
		Last   string `db:"last_service_date"`
		UsedOn string `db:"used_on"`
	}
	var stored, view facts
	e.must(e.db.Get(&stored, `SELECT last_service_date::text, COALESCE(used_on::text, 'never') AS used_on FROM records WHERE record_id = $1`, id))
	e.must(e.db.Get(&view, `SELECT last_service_date::text, COALESCE(used_on::text, 'never') AS used_on FROM record_rate_facts WHERE record_id = $1`, id))
	want := facts{Last: "2026-03-02", UsedOn: "never"}
	if view != want {
		t.Errorf("record_rate_facts: %+v, want %+v", view, want)
	}
	if stored != want {
		t.Errorf("the record's stored facts: %+v, want %+v", stored, want)
	}
}
