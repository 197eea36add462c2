package postgres_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
	"healthrec/internal/record"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

// TestPublishFreezesItsDraw publishes sampled and whole-population
// snapshots, today and before a handover, and checks that each froze the
// figures of the live report with the same parameters and, as its records,
// exactly the records of that report's sample with the rules they broke: a
// sampled snapshot draws once for both (migration 00023).
func TestPublishFreezesItsDraw(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	e.must(e.db.CreateStaff(e.ctx, &staff.Staff{Code: "docA2", Name: "乙医生", InstitutionCode: f.InstA,
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(f.InstA)}}}, ""))
	var mine []string
	for i := 0; i < 30; i++ {
		village := []string{f.VillageA1, f.VillageA1, f.VillageA2, f.VillageB1}[i%4]
		id := e.file(village, []string{"2024-01-01", "2025-03-01", "2026-02-01"}[i%3], func(r *record.Record) {
			if i%5 == 0 {
				r.Ethnicity = ""
			}
		})
		if i%2 == 0 {
			e.exam(id, "2025-06-01", i%4 != 0)
		}
		if i%3 == 0 {
			e.visit(id, civil.MustParse("2025-09-01"))
		}
		if village == f.VillageA1 {
			mine = append(mine, id)
		}
	}
	// Three of docA's records pass to docA2 on 1 March 2026: as of the end
	// of 2025 they are counted under docA, drawn through the handover path.
	e.db.Now = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	for _, id := range mine[:3] {
		_, err := e.db.UpdateRecord(e.ctx, f.AdminA, id, map[string]json.RawMessage{"responsible_doctor": json.RawMessage(`"docA2"`)})
		e.must(err)
	}
	e.db.Now = func() time.Time { return time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC) }

	figures := func(r *rates.Report) string {
		out := ""
		for _, x := range r.Rows {
			out += fmt.Sprintf("%s/%s/%s %d/%d; ", x.Level, x.ScopeCode, x.Indicator, x.Numerator, x.Denominator)
		}
		return out
	}
	for _, c := range []struct {
		asOf   string
		sample rates.Sample
		kind   review.SnapshotKind
	}{
		{"2026-06-30", 3, review.KindPreAssessment},
		{"2026-06-30", rates.All, review.KindAssessment},
		{"2025-12-31", 2, review.KindPreAssessment},
		{"2025-12-31", rates.All, review.KindAssessment},
	} {
		name := c.asOf + "/" + c.sample.String()
		p := rates.Params{AsOf: civil.MustParse(c.asOf), Sample: c.sample, Seed: 7}
		snap, err := e.db.PublishSnapshot(e.ctx, f.AdminA, f.County, postgres.Publication{Kind: c.kind, Title: name}, p)
		e.must(err)
		live := e.report(c.asOf, c.sample, 7)
		if got, want := figures(snap.Report), figures(live); got != want {
			t.Errorf("%s: the snapshot's figures\n%s\nthe live report's\n%s", name, got, want)
		}
		var frozen []string
		e.must(e.db.SelectContext(e.ctx, &frozen, `SELECT record_id || ' ' || failures || ' ' || has_dynamic FROM rate_snapshot_records
			WHERE snapshot_id = $1 AND (failures <> 0 OR NOT has_dynamic) ORDER BY record_id`, snap.ID))
		var drilled []string
		for _, x := range e.drill(c.asOf, c.sample, 7, rates.County, f.County, "") {
			drilled = append(drilled, fmt.Sprintf("%s %d %t", x.RecordID, int(x.Failures), x.HasDynamic))
		}
		sort.Strings(drilled) // the drill-down lists the nearest fix first
		if fmt.Sprint(frozen) != fmt.Sprint(drilled) {
			t.Errorf("%s: frozen records to fix\n%v\nthe drill-down's\n%v", name, frozen, drilled)
		}
		county := findRow(t, live, rates.County, f.County, rates.Quality)
		if snap.Sampled != county.Denominator || snap.Sampled == 0 {
			t.Errorf("%s: %d records frozen, the sample has %d", name, snap.Sampled, county.Denominator)
		}
	}
}

// TestCountsEveryWayOfSumming: a report with the whole population sums its
// counters as the years, months and days before a date, or a year less the
// months after, or a month less the days after — whichever reads fewer
// rows. At dates that take each way, early and late in a month, in the
// first and second half of a year and at their ends, every figure equals
// its recomputation from the tables.
func TestCountsEveryWayOfSumming(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	e.db.Now = func() time.Time { return time.Date(2027, 12, 31, 12, 0, 0, 0, time.UTC) }
	start := civil.MustParse("2024-11-03")
	for i := 0; i < 40; i++ {
		village := []string{f.VillageA1, f.VillageA2, f.VillageB1}[i%3]
		id := e.file(village, start.AddDays(i*19).String(), nil)
		if i%2 == 0 {
			e.exam(id, start.AddDays(i*19+40).String(), i%4 != 0)
		}
		for k := 0; k < 3; k++ {
			if (i+k)%3 != 0 {
				e.visit(id, start.AddDays(i*19+60+k*97))
			}
		}
		if i%7 == 3 {
			e.status(id, record.MovedOut, start.AddDays(i*19+200).String())
		}
	}
	_, err := e.db.FoldRateChanges(e.ctx)
	e.must(err)
	checkRates(t, e.db)
	for _, d := range []string{"2025-01-01", "2025-02-14", "2025-02-15", "2025-02-28", "2025-03-16", "2025-07-16",
		"2025-07-31", "2025-08-01", "2025-08-16", "2025-08-17", "2025-12-31", "2026-01-31", "2026-06-30", "2026-11-20", "2027-06-17"} {
		compareReport(t, e.db, f.County, civil.MustParse(d))
	}
}
