package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/importer"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/quality"
	"healthrec/internal/rates"
	"healthrec/internal/record"
	"healthrec/internal/staff"
	sqlfiles "healthrec/sql"
)

// fraction is a report row's numerator and denominator.
type fraction struct{ num, den int }

// figureKey names a report row.
type figureKey struct {
	level     rates.Level
	scope     string
	indicator rates.Indicator
}

func (k figureKey) String() string { return fmt.Sprintf("%s %s %s", k.level, k.scope, k.indicator) }

// recompute computes a county's figures with the whole population as the
// sample, as of a date, straight from the tables and from the definitions
// of docs/rates.md alone: the records active at the date; quality by the
// rules (Q1–Q9 and Q12–Q15 in Go, Q3's date, Q10 and Q11 from the exams themselves);
// usage from every exam and entry in the 365-day window; a doctor's records
// those whose responsible doctor at the date they are, a doctor's villages
// those they are responsible for at the date. Nothing of the write-time
// facts, the counters or the report's code is read.
func recompute(t testing.TB, db *postgres.DB, county string, asOf civil.Date) map[figureKey]fraction {
	t.Helper()
	var villages []struct {
		Code        string  `db:"code"`
		Township    string  `db:"township"`
		Institution string  `db:"institution"`
		Population  *int    `db:"population"`
		Doctor      *string `db:"doctor"`
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Select(&villages, `SELECT v.code, v.parent_code AS township, COALESCE(v.institution_code, '') AS institution,
			(SELECT population FROM village_populations p WHERE p.village_code = v.code AND p.year = $2) AS population,
			(SELECT staff_code FROM responsibilities x WHERE x.village_code = v.code AND x.from_date <= $1
				ORDER BY x.from_date DESC LIMIT 1) AS doctor
		FROM regions v WHERE v.level = 'village' AND v.code LIKE $3 || '%'`, asOf, asOf.Year(), county))
	var recs []struct {
		ID           string                 `db:"record_id"`
		Village      string                 `db:"village_code"`
		Name         string                 `db:"name"`
		Sex          string                 `db:"sex"`
		Birth        civil.Date             `db:"birth_date"`
		IDNumber     string                 `db:"id_number"`
		Residence    string                 `db:"residence_type"`
		Ethnicity    string                 `db:"ethnicity"`
		Phone        string                 `db:"phone"`
		ContactPhone string                 `db:"contact_phone"`
		Doctor       string                 `db:"doctor"`
		Filed        civil.Date             `db:"filed_on"`
		Closed       civil.Date             `db:"status_date"`
		Info         record.StoredBasicInfo `db:"basic_info"`
	}
	must(db.Select(&recs, `SELECT record_id, village_code, name, COALESCE(sex, '') AS sex, birth_date, COALESCE(id_number, '') AS id_number,
			residence_type, ethnicity, phone, contact_phone, COALESCE(responsible_doctor, '') AS doctor, filed_on, status_date, basic_info
		FROM records WHERE village_code LIKE $1 || '%'`, county))
	atDate := doctorsAt(t, db, county, asOf)
	type exam struct {
		ID       int64      `db:"id"`
		Record   string     `db:"record_id"`
		Date     civil.Date `db:"exam_date"`
		Complete bool       `db:"complete"`
	}
	var exams []exam
	must(db.Select(&exams, `SELECT id, record_id, exam_date,
			((systolic IS NOT NULL AND diastolic IS NOT NULL) OR (systolic_right IS NOT NULL AND diastolic_right IS NOT NULL))
				AND height_cm IS NOT NULL AND weight_kg IS NOT NULL AS complete
		FROM exams WHERE record_id LIKE $1 || '%' AND exam_date <= $2`, county, asOf))
	latest := map[string]exam{}
	for _, x := range exams {
		if l, ok := latest[x.Record]; !ok || x.Date.After(l.Date) || x.Date == l.Date && x.ID > l.ID {
			latest[x.Record] = x
		}
	}
	// Usage: a complete exam, or an entry that meets its kind's
	// specification by the Go definition (entry.Conforms), in the window.
	var entryIDs []string
	must(db.Select(&entryIDs, `SELECT id::text FROM entries e WHERE record_id LIKE $1 || '%'
		AND service_date BETWEEN $2::date - 364 AND $2::date AND NOT EXISTS (SELECT 1 FROM entries c WHERE c.corrects = e.id)`, county, asOf))
	isUsed := map[string]bool{}
	for _, id := range entryIDs {
		e, err := db.Entry(context.Background(), id)
		must(err)
		if entry.Conforms(e) {
			isUsed[e.Head().RecordID] = true
		}
	}
	for _, x := range exams {
		if x.Complete && !x.Date.Before(asOf.AddDays(-364)) {
			isUsed[x.Record] = true
		}
	}

	out := map[figureKey]fraction{}
	add := func(l rates.Level, scope string, ind rates.Indicator, num, den int) {
		k := figureKey{l, scope, ind}
		f := out[k]
		f.num, f.den = f.num+num, f.den+den
		out[k] = f
	}
	type place struct{ township, institution string }
	where := map[string]place{}
	for _, v := range villages {
		where[v.Code] = place{v.Township, v.Institution}
	}
	scopesOf := func(village string) [][2]string {
		p := where[village]
		return [][2]string{{string(rates.County), county}, {string(rates.Township), p.township}, {string(rates.Institution), p.institution}}
	}
	filed := map[string]int{}
	for _, r := range recs {
		if r.Filed.After(asOf) || !r.Closed.IsZero() && !r.Closed.After(asOf) {
			continue
		}
		filed[r.Village]++
		b := quality.Basic{Name: r.Name, Sex: r.Sex, BirthDate: r.Birth, IDNumber: r.IDNumber, ResidenceType: r.Residence,
			Ethnicity: r.Ethnicity, Phone: r.Phone, ContactPhone: r.ContactPhone, ResponsibleDoctor: r.Doctor, Info: record.BasicInfo(r.Info)}
		l := latest[r.ID]
		ok := quality.Check(b, quality.LatestExam{Date: l.Date, Complete: l.Complete}, asOf) == 0
		q, u := 0, 0
		if ok {
			q = 1
		}
		if isUsed[r.ID] {
			u = 1
		}
		scopes := scopesOf(r.Village)
		doctor := r.Doctor
		if d, ok := atDate[r.ID]; ok {
			doctor = d
		}
		if doctor != "" {
			scopes = append(scopes, [2]string{string(rates.Doctor), doctor})
		}
		for _, s := range scopes {
			add(rates.Level(s[0]), s[1], rates.Quality, q, 1)
			add(rates.Level(s[0]), s[1], rates.Usage, u, 1)
		}
	}
	for _, v := range villages {
		scopes := scopesOf(v.Code)
		if v.Doctor != nil {
			scopes = append(scopes, [2]string{string(rates.Doctor), *v.Doctor})
		}
		for _, s := range scopes {
			pop := 0
			if v.Population != nil {
				pop = *v.Population
			}
			add(rates.Level(s[0]), s[1], rates.Coverage, filed[v.Code], pop)
		}
	}
	return out
}

// doctorsAt returns the responsible doctor at a date of the county's
// records whose doctor then is not their doctor now ("" for none).
func doctorsAt(t testing.TB, db *postgres.DB, county string, asOf civil.Date) map[string]string {
	t.Helper()
	var rows []struct {
		ID     string `db:"record_id"`
		Doctor string `db:"doctor"`
	}
	if err := db.Select(&rows, `SELECT record_id, COALESCE(doctor, '') AS doctor FROM record_doctors
		WHERE record_id LIKE $1 || '%' AND (from_date IS NULL OR from_date <= $2) AND (to_date IS NULL OR $2 < to_date)`, county, asOf); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Doctor
	}
	return out
}

// compareReport fails the test for every figure of the report that differs
// from the recomputation, and every recomputed scope the report lacks.
func compareReport(t testing.TB, db *postgres.DB, county string, asOf civil.Date) {
	t.Helper()
	r, err := db.Report(context.Background(), county, rates.Params{AsOf: asOf, Sample: rates.All, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := recompute(t, db, county, asOf)
	seen := map[figureKey]bool{}
	var bad []string
	for _, row := range r.Rows {
		k := figureKey{row.Level, row.ScopeCode, row.Indicator}
		seen[k] = true
		w := want[k]
		if row.Numerator != w.num || row.Denominator != w.den {
			bad = append(bad, fmt.Sprintf("%s: report %d/%d, tables %d/%d", k, row.Numerator, row.Denominator, w.num, w.den))
		}
	}
	for k, w := range want {
		if !seen[k] && (w.num != 0 || w.den != 0) {
			bad = append(bad, fmt.Sprintf("%s: not in the report, tables %d/%d", k, w.num, w.den))
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("as of %s: %s", asOf, b)
	}
}

// waitForLockWaits waits until n backends wait for a lock.
func waitForLockWaits(t testing.TB, db *postgres.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends wait for a lock, want %d", waiting, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// importDir writes an import's files.
func importDir(t testing.TB, files map[string]string) importer.Dir {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(text, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return importer.Dir(dir)
}

// TestImportBesideAnExam is issue 23's reproduction: an exam is posted on a
// record and holds its row lock, uncommitted, while an import with an old
// visit for the record settles the record's facts. After both commit, the
// record's facts must be those of its exams and entries — the exam included
// — and the rates those of the raw tables.
func TestImportBesideAnExam(t *testing.T) {
	e := newRateEnv(t)
	id := e.file(e.f.VillageA1, "2025-01-01", nil)
	exam := e.db.MustBegin()
	defer exam.Rollback()
	var examID int64
	e.must(exam.Get(&examID, `INSERT INTO exams (record_id, exam_date, doctor, systolic, diastolic, height_cm, weight_kg, created_by)
		VALUES ($1, '2026-03-01', $2, 130, 80, 160, 60, $2) RETURNING id`, id, e.f.DoctorA))
	e.must(postgres.NoteExam(e.ctx, exam, id, examID, civil.MustParse("2026-03-01"), true))

	importDone := make(chan error, 1)
	go func() {
		src := importDir(t, map[string]string{"entries.csv": "record_id,kind,service_date,staff_code,systolic,diastolic,height_cm,weight_kg\n" +
			id + ",visit,2020-05-01," + e.f.DoctorA + ",,,,\n"})
		rep, err := importer.Run(context.Background(), e.db, src, importer.Options{Actor: "admin", Admin: true, Today: civil.MustParse("2026-06-30")})
		if err == nil && !rep.OK {
			err = fmt.Errorf("import refused: %+v", rep)
		}
		importDone <- err
	}()
	// The import settles the record's facts: it waits for the exam's lock.
	waitForLockWaits(t, e.db, 1)
	e.must(exam.Commit())
	e.must(<-importDone)

	var examFrom civil.Date
	e.must(e.db.Get(&examFrom, `SELECT exam_from FROM records WHERE record_id = $1`, id))
	if examFrom != civil.MustParse("2026-03-01") {
		t.Errorf("exam_from %s, want 2026-03-01", examFrom)
	}
	checkRates(t, e.db)
	for _, d := range []string{"2026-06-30", "2026-03-01", "2025-12-31"} {
		compareReport(t, e.db, e.f.County, civil.MustParse(d))
	}
}

// checkRates fails the test for every record whose stored facts differ from
// their definition and every counter that differs from its count.
func checkRates(t testing.TB, db *postgres.DB) {
	t.Helper()
	pgtest.CheckRateFacts(t, db)
}

// TestHandoverKeepsPastFigures hands records over to another doctor and
// back: the doctor figures of dates before each handover stay what they
// were, in the report from the counters, the sampled report and the
// drill-down; those from the handover on count the records under their new
// doctor; and every figure equals the recomputation from the tables.
func TestHandoverKeepsPastFigures(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	e.must(e.db.CreateStaff(e.ctx, &staff.Staff{Code: "docA2", Name: "乙医生", InstitutionCode: f.InstA,
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(f.InstA)}}}, ""))
	var ids []string
	for i := 0; i < 8; i++ {
		id := e.file(f.VillageA1, "2024-01-01", nil)
		if i%2 == 0 {
			e.exam(id, "2025-06-01", true)
		}
		if i%3 == 0 {
			e.visit(id, civil.MustParse("2025-09-01"))
		}
		ids = append(ids, id)
	}
	at := func(day string) {
		d := civil.MustParse(day)
		e.db.Now = func() time.Time { return d.Time().Add(12 * time.Hour) }
	}
	handOver := func(id, doctor string) {
		t.Helper()
		_, err := e.db.UpdateRecord(e.ctx, f.AdminA, id, map[string]json.RawMessage{"responsible_doctor": json.RawMessage(`"` + doctor + `"`)})
		e.must(err)
	}
	type view struct {
		all, sampled []rates.Row
		drill        []string
	}
	doctorRows := func(r *rates.Report) []rates.Row {
		var out []rates.Row
		for _, x := range r.Rows {
			if x.Level == rates.Doctor && x.Indicator != rates.Coverage {
				out = append(out, rates.Row{ScopeCode: x.ScopeCode, Indicator: x.Indicator, Numerator: x.Numerator, Denominator: x.Denominator})
			}
		}
		return out
	}
	look := func(asOf string) view {
		t.Helper()
		var v view
		v.all = doctorRows(e.report(asOf, rates.All, 1))
		v.sampled = doctorRows(e.report(asOf, 3, 11))
		for _, x := range e.drill(asOf, rates.All, 1, rates.Doctor, f.DoctorA, "") {
			v.drill = append(v.drill, x.RecordID+"/"+x.Doctor)
		}
		for _, x := range e.drill(asOf, 3, 11, rates.Doctor, f.DoctorA, "") {
			v.drill = append(v.drill, "s:"+x.RecordID+"/"+x.Doctor)
		}
		// A sample as large as every group is the whole population.
		if all, big := e.report(asOf, rates.All, 1), e.report(asOf, 100, 3); fmt.Sprint(doctorRows(all)) != fmt.Sprint(doctorRows(big)) {
			t.Errorf("as of %s: a sample of 100 per group %v, all %v", asOf, doctorRows(big), doctorRows(all))
		}
		return v
	}
	dates := []string{"2025-12-31", "2026-02-28", "2026-03-01", "2026-04-30", "2026-05-01", "2026-06-30"}
	before := map[string]view{}
	at("2026-02-28")
	for _, d := range dates[:2] {
		before[d] = look(d)
	}
	// 1 March: three records pass to docA2 (one twice the same day).
	at("2026-03-01")
	for _, id := range ids[:3] {
		handOver(id, "docA2")
	}
	handOver(ids[0], f.DoctorA)
	handOver(ids[0], "docA2")
	for _, d := range dates[:2] {
		if got := look(d); fmt.Sprint(got) != fmt.Sprint(before[d]) {
			t.Errorf("as of %s, after a handover on 2026-03-01:\n got %v\nwant %v", d, got, before[d])
		}
	}
	before["2026-04-30"] = look("2026-04-30")
	// 1 May: one comes back to docA.
	at("2026-05-01")
	handOver(ids[1], f.DoctorA)
	if got := look("2026-04-30"); fmt.Sprint(got) != fmt.Sprint(before["2026-04-30"]) {
		t.Errorf("as of 2026-04-30, after a handover on 2026-05-01:\n got %v\nwant %v", got, before["2026-04-30"])
	}
	at("2026-06-30")
	count := func(asOf, doctor string) int {
		t.Helper()
		for _, x := range e.report(asOf, rates.All, 1).Rows {
			if x.Level == rates.Doctor && x.ScopeCode == doctor && x.Indicator == rates.Quality {
				return x.Denominator
			}
		}
		return 0
	}
	for _, c := range []struct {
		asOf      string
		a, second int
	}{{"2026-02-28", 8, 0}, {"2026-03-01", 5, 3}, {"2026-04-30", 5, 3}, {"2026-05-01", 6, 2}} {
		if a, b := count(c.asOf, f.DoctorA), count(c.asOf, "docA2"); a != c.a || b != c.second {
			t.Errorf("as of %s: docA %d records, docA2 %d; want %d and %d", c.asOf, a, b, c.a, c.second)
		}
	}
	var hist []string
	e.must(e.db.Select(&hist, `SELECT concat_ws(' ', doctor, from_date, to_date) FROM record_doctors WHERE record_id = $1
		ORDER BY from_date NULLS FIRST`, ids[1]))
	if want := "docA 2026-03-01|docA2 2026-03-01 2026-05-01|docA 2026-05-01"; strings.Join(hist, "|") != want {
		t.Errorf("record_doctors of %s: %q, want %q", ids[1], strings.Join(hist, "|"), want)
	}
	checkRates(t, e.db)
	_, err := e.db.FoldRateChanges(e.ctx)
	e.must(err)
	checkRates(t, e.db)
	for _, d := range dates {
		compareReport(t, e.db, f.County, civil.MustParse(d))
	}
}

// TestHandoverBackfill runs the backfill of migration 00015 again over
// records whose doctor changes are only in their history, as before the
// migration: each change ends the previous doctor's time on the day it was
// recorded, and the counters follow.
func TestHandoverBackfill(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	e.must(e.db.CreateStaff(e.ctx, &staff.Staff{Code: "docA2", Name: "乙医生", InstitutionCode: f.InstA,
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(f.InstA)}}}, ""))
	a, b := e.file(f.VillageA1, "2024-01-01", nil), e.file(f.VillageA1, "2024-01-01", nil)
	// The history's dates are set, and the migration's backfill run, as the
	// superuser: the app role may only append to record_history.
	su := pgtest.Superuser(t, e.db)
	for _, c := range []struct{ id, doctor, on string }{{a, "docA2", "2025-03-01"}, {a, f.DoctorA, "2025-09-01"},
		{a, "docA2", "2025-09-01"}, {b, "docA2", "2024-01-01"}} {
		_, err := e.db.UpdateRecord(e.ctx, f.AdminA, c.id, map[string]json.RawMessage{"responsible_doctor": json.RawMessage(`"` + c.doctor + `"`)})
		e.must(err)
		_, err = su.Exec(`UPDATE record_history SET changed_at = $2::date + time '10:00'
			WHERE id = (SELECT max(id) FROM record_history WHERE record_id = $1)`, c.id, c.on)
		e.must(err)
	}
	// As before the migration: no dates kept, the counters of the doctor now.
	_, err := e.db.Exec(`UPDATE records SET doctor_before = NULL, doctor_until = NULL`)
	e.must(err)
	up, err := fs.ReadFile(sqlfiles.Migrations, "migrations/00015_rates_exact.sql")
	e.must(err)
	_, backfill, ok := strings.Cut(string(up), "-- The records filed before this migration.")
	if !ok {
		t.Fatal("migration 00015 has no backfill section")
	}
	_, err = su.Exec(backfill)
	e.must(err)
	var got []string
	e.must(e.db.Select(&got, `SELECT record_id || ':' || COALESCE(array_to_string(doctor_before, ',', '-') || '<' || array_to_string(doctor_until, ','), '')
		FROM records ORDER BY record_id`))
	if want := a + ":docA,docA2<2025-03-01,2025-09-01 " + b + ":"; strings.Join(got, " ") != want {
		t.Errorf("backfilled %q, want %q", strings.Join(got, " "), want)
	}
	checkRates(t, e.db)
	compareReport(t, e.db, f.County, civil.MustParse("2025-06-30"))
}

// TestDeadlockRetried makes two transactions lock two records in opposite
// orders, so that PostgreSQL aborts one of them for a deadlock: inTx runs
// the aborted one again, and both succeed.
func TestDeadlockRetried(t *testing.T) {
	e := newRateEnv(t)
	a, b := e.file(e.f.VillageA1, "2025-01-01", nil), e.file(e.f.VillageA1, "2025-01-01", nil)
	var runs atomic.Int32
	var first sync.WaitGroup
	first.Add(2)
	lock := func(one, two string) error {
		attempt := 0
		return e.db.InTx(e.ctx, func(tx *sqlx.Tx) error {
			runs.Add(1)
			attempt++
			if _, err := tx.Exec(`UPDATE records SET phone = phone WHERE record_id = $1`, one); err != nil {
				return err
			}
			if attempt == 1 {
				first.Done()
				first.Wait() // both hold their first record
			}
			_, err := tx.Exec(`UPDATE records SET phone = phone WHERE record_id = $1`, two)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- lock(a, b) }()
	go func() { errs <- lock(b, a) }()
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("a transaction failed: %v", err)
		}
	}
	if n := runs.Load(); n != 3 {
		t.Errorf("%d runs, want 3: one of the two aborted for the deadlock and run again", n)
	}
}
