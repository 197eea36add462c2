package postgres_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
	"healthrec/internal/record"
)

// TestConcurrentFilingEntriesAndReport files records, adds visits and
// computes reports in one village at the same time, then checks the
// invariants: serials 0001…N without duplicate or gap, and a report computed
// afterwards whose numerators match counts taken straight from the tables.
func TestConcurrentFilingEntriesAndReport(t *testing.T) {
	e := newRateEnv(t)
	village := e.f.VillageA1
	seed := make([]string, 10)
	for i := range seed {
		seed[i] = e.file(village, "2025-01-01", nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 4; w++ {
		wg.Add(3)
		go func(w int) { // filings
			defer wg.Done()
			for i := 0; i < 10; i++ {
				r := &record.Record{VillageCode: village, Name: fmt.Sprintf("并发%d-%d", w, i), Sex: "M", BirthDate: civil.MustParse("1970-01-01"),
					FiledOn: civil.MustParse("2025-02-01")}
				if err := e.db.FileRecord(e.ctx, e.f.DoctorA, r); err != nil {
					errs <- err
				}
			}
		}(w)
		go func(w int) { // visits on the seeded records
			defer wg.Done()
			for i := 0; i < 10; i++ {
				v := entry.New(entry.KindVisit)
				v.Head().RecordID = seed[(w*10+i)%len(seed)]
				v.Basics().ServiceDate = civil.MustParse("2026-03-01")
				v.(*entry.Visit).Subjective, v.(*entry.Visit).Assessment = "复诊", "稳定"
				if _, _, err := e.db.AddEntry(e.ctx, e.f.DoctorA, e.f.InstA, v, postgres.Idempotency{}, nil); err != nil {
					errs <- err
				}
			}
		}(w)
		go func() { // reports while all this happens
			defer wg.Done()
			for i := 0; i < 3; i++ {
				if _, err := e.db.Report(e.ctx, e.f.County, rates.Params{AsOf: civil.MustParse("2026-06-30"), Sample: rates.All, Seed: 1}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var ids []string
	e.must(e.db.Select(&ids, `SELECT record_id FROM records WHERE village_code = $1`, village))
	sort.Strings(ids)
	for i, id := range ids {
		if want := fmt.Sprintf("%s%04d", village, i+1); id != want {
			t.Fatalf("serial %d is %s, want %s", i+1, id, want)
		}
	}
	if len(ids) != 50 {
		t.Fatalf("%d records, want 50", len(ids))
	}
	r := e.report("2026-06-30", rates.All, 1)
	var active, used int
	e.must(e.db.Get(&active, `SELECT count(*) FROM records WHERE village_code LIKE $1 || '%' AND status = 'active' AND filed_on <= '2026-06-30'`, e.f.County))
	e.must(e.db.Get(&used, `SELECT count(DISTINCT record_id) FROM (SELECT record_id, service_date FROM entries UNION ALL SELECT record_id, exam_date FROM exams) s
		WHERE service_date BETWEEN DATE '2026-06-30' - 364 AND '2026-06-30'`))
	cov := findRow(t, r, rates.County, e.f.County, rates.Coverage)
	use := findRow(t, r, rates.County, e.f.County, rates.Usage)
	if cov.Numerator != active || use.Denominator != active || use.Numerator != used {
		t.Fatalf("report coverage %d/%d usage %d/%d; tables: %d active, %d used", cov.Numerator, cov.Denominator, use.Numerator, use.Denominator, active, used)
	}
}
