package postgres_test

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/rates"
	"healthrec/internal/record"
	"healthrec/internal/staff"
)

// TestDrawSplitOverTwoConnections draws a county's sample on two
// connections, its draw groups dealt between them, and on one: the figures
// are the same, today and at a past date, before and after handovers that
// the past date's draw must undo. The second connection reads the report's
// snapshot: records filed and committed by someone else after the report
// began, before the second connection's transaction, are in neither half.
func TestDrawSplitOverTwoConnections(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	villages := []string{f.VillageA1, f.VillageA2, f.VillageB1, f.VillageB2}
	// copyRecords files n records per village from number from on: two in
	// five of the village institution's doctor, the rest without one (a
	// group per village); some filed after the past date, some closed
	// before or after it, and about a third without a phone (Q8).
	copyRecords := func(from, n int, filed string) []string {
		t.Helper()
		tx, err := e.db.Begin()
		e.must(err)
		stmt, err := tx.Prepare(pq.CopyIn("records", "record_id", "village_code", "name", "sex", "birth_date", "id_number",
			"residence_type", "ethnicity", "phone", "responsible_doctor", "filed_on", "status", "status_date", "basic_info"))
		e.must(err)
		basic, err := json.Marshal(record.AnsweredBasicInfo())
		e.must(err)
		var ids []string
		for vi, v := range villages {
			for i := from; i < from+n; i++ {
				doctor := any(nil)
				if i%5 < 2 {
					doctor = map[bool]string{true: f.DoctorA, false: f.DoctorB}[vi < 2]
				}
				phone := "13912345678"
				if i%3 == 0 {
					phone = ""
				}
				on, status, statusDate := filed, "active", any(nil)
				switch i % 13 {
				case 1:
					on = "2026-02-01" // after the past date
				case 4:
					on = "2026-05-01" // in the later half of the time since
				case 2:
					status, statusDate = "moved_out", "2025-06-01"
				case 3:
					status, statusDate = "deceased", "2026-03-01" // after the past date
				}
				id := fmt.Sprintf("%s%04d", v, i)
				birth := fmt.Sprintf("1960-%02d-%02d", 1+vi, 1+i/500)
				_, err := stmt.Exec(id, v, "居民", "F", birth, validID(birth, 2*i%1000), "户籍", "汉族", phone, doctor, on, status,
					statusDate, string(basic))
				e.must(err)
				ids = append(ids, id)
			}
		}
		_, err = stmt.Exec()
		e.must(err)
		e.must(tx.Commit())
		return ids
	}
	ids := copyRecords(1, 150, "2024-01-01")
	for i, id := range ids {
		if n, _ := strconv.Atoi(id[12:]); i%4 == 0 && n%13 != 2 && n%13 != 3 && n%13 != 4 { // not closed, nor filed after the exam
			e.exam(id, "2025-06-01", i%8 == 0)
		}
	}

	figures := func(from int, hook func(), asOf string, seed int64) string {
		t.Helper()
		e.db.SplitDraw(from, hook)
		gs, err := e.db.RateGroups(e.ctx, f.County, rates.Params{AsOf: civil.MustParse(asOf), Sample: 40, Seed: seed})
		e.must(err)
		draws, counts := e.db.DrawsBeside()
		wantDraws, wantCounts := int64(0), int64(0)
		if from == 1 {
			// The active counts are split for a date more than a month back.
			wantDraws, wantCounts = 1, map[bool]int64{true: 1, false: 0}[asOf < "2026-05-31"]
		}
		if draws != wantDraws || counts != wantCounts {
			t.Fatalf("as of %s, split from %d: draw and active counts split %d and %d times, want %d and %d",
				asOf, from, draws, counts, wantDraws, wantCounts)
		}
		var parts []string
		for _, g := range gs {
			parts = append(parts, fmt.Sprintf("%s/%s:%d/%d/%d/%d", g.Village, g.Doctor, g.Active, g.Sampled, g.Qualified, g.Used))
		}
		sort.Strings(parts)
		return strings.Join(parts, " ")
	}
	same := func(label string) {
		t.Helper()
		for _, asOf := range []string{"2026-06-30", "2025-12-31"} {
			for seed := int64(1); seed <= 4; seed++ {
				one, two := figures(math.MaxInt, nil, asOf, seed), figures(1, nil, asOf, seed)
				if one != two {
					t.Errorf("%s, as of %s, seed %d: on two connections\n%s\nnot, as on one,\n%s", label, asOf, seed, two, one)
				}
				if !strings.Contains(one, ":") || strings.Count(one, "/0/0/0") == strings.Count(one, " ")+1 {
					t.Fatalf("%s: nothing drawn: %s", label, one)
				}
			}
		}
	}
	same("no handovers")
	// Today (30 June 2026) docA hands records over to docA2: the draw as of
	// 31 December 2025 counts them under docA (the draw's merge path).
	e.must(e.db.CreateStaff(e.ctx, &staff.Staff{Code: "docA2", Name: "乙医生", InstitutionCode: f.InstA,
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(f.InstA)}}}, ""))
	var handed []string
	e.must(e.db.Select(&handed, `SELECT record_id FROM records WHERE responsible_doctor = $1 AND status = 'active'
		ORDER BY record_id LIMIT 12`, f.DoctorA))
	for _, id := range handed {
		_, err := e.db.UpdateRecord(e.ctx, f.AdminA, id, map[string]json.RawMessage{"responsible_doctor": json.RawMessage(`"docA2"`)})
		e.must(err)
	}
	same("after handovers")

	// Another writer files a hundred records per village while the report
	// runs, after its snapshot and before the second connection's: some of
	// them after the past date, so that they would change its active
	// counts too.
	for k, asOf := range []string{"2026-06-30", "2025-12-31"} {
		before := figures(math.MaxInt, nil, asOf, 5)
		filed := false
		during := figures(1, func() {
			if !filed {
				filed = true
				copyRecords(2000+200*k, 100, "2025-01-01")
			}
		}, asOf, 5)
		if !filed {
			t.Fatalf("as of %s: the hook did not run", asOf)
		}
		if during != before {
			t.Errorf("as of %s: records filed after the report began changed its figures:\n%s\nnot\n%s", asOf, during, before)
		}
		if after := figures(math.MaxInt, nil, asOf, 5); after == before {
			t.Errorf("as of %s: the records filed do not change the figures of a report after them: the test shows nothing", asOf)
		}
	}
}
