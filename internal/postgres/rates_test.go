package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/quality"
	"healthrec/internal/rates"
	"healthrec/internal/record"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// rateEnv is the fixture county with a fixed clock and helpers to file
// records and exams on chosen dates.
type rateEnv struct {
	t     *testing.T
	db    *postgres.DB
	f     *pgtest.Fixture
	ctx   context.Context
	order int
}

func newRateEnv(t *testing.T) *rateEnv {
	db := pgtest.NewDB(t)
	db.Now = func() time.Time { return time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC) }
	return &rateEnv{t: t, db: db, f: pgtest.NewFixture(t, db), ctx: context.Background()}
}

func (e *rateEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// file files a qualified-looking record (every static rule holds when the
// village has a responsible doctor) on a date; edit may spoil it.
func (e *rateEnv) file(village, filedOn string, edit func(r *record.Record)) string {
	e.t.Helper()
	e.order += 2
	r := &record.Record{VillageCode: village, Name: "居民", Sex: "F", BirthDate: civil.MustParse("1955-03-08"),
		IDNumber: validID("1955-03-08", e.order), ResidenceType: "户籍", Ethnicity: "汉族", Phone: "13912345678",
		FiledOn: civil.MustParse(filedOn), BasicInfo: record.AnsweredBasicInfo()}
	if edit != nil {
		edit(r)
	}
	e.must(e.db.FileRecord(e.ctx, e.f.AdminA, r))
	return r.RecordID
}

func (e *rateEnv) exam(id, date string, complete bool) {
	e.t.Helper()
	x := &record.Exam{RecordID: id, ExamDate: civil.MustParse(date), Doctor: e.f.DoctorA}
	if complete {
		s, d, h, w := 130, 80, 160.0, 60.0
		x.Systolic, x.Diastolic, x.HeightCM, x.WeightKG = &s, &d, &h, &w
	}
	_, err := e.db.AddExam(e.ctx, e.f.DoctorA, "", x, postgres.Idempotency{})
	e.must(err)
}

func (e *rateEnv) status(id string, s record.Status, date string) {
	e.t.Helper()
	_, err := e.db.ChangeStatus(e.ctx, e.f.AdminA, id, postgres.StatusChange{Status: s, StatusDate: civil.MustParse(date), Destination: "杭州"})
	e.must(err)
}

func (e *rateEnv) report(asOf string, sample rates.Sample, seed int64) *rates.Report {
	e.t.Helper()
	r, err := e.db.Report(e.ctx, e.f.County, rates.Params{AsOf: civil.MustParse(asOf), Sample: sample, Seed: seed})
	e.must(err)
	return r
}

// drill lists every record of a scope's sample that fails something.
func (e *rateEnv) drill(asOf string, sample rates.Sample, seed int64, l rates.Level, code string, ind rates.Indicator) []postgres.RecordResult {
	e.t.Helper()
	out, total, err := e.db.RateRecords(e.ctx, e.f.County, rates.Params{AsOf: civil.MustParse(asOf), Sample: sample, Seed: seed},
		postgres.DrillFilter{Level: l, ScopeCode: code, Indicator: ind, Page: postgres.Page{PerPage: 500}})
	e.must(err)
	if total != len(out) {
		e.t.Fatalf("total %d, listed %d", total, len(out))
	}
	return out
}

func findRow(t *testing.T, r *rates.Report, l rates.Level, code string, ind rates.Indicator) rates.Row {
	t.Helper()
	for _, x := range r.Rows {
		if x.Level == l && x.ScopeCode == code && x.Indicator == ind {
			return x
		}
	}
	t.Fatalf("no row %s %s %s", l, code, ind)
	return rates.Row{}
}

func rateString(x rates.Row) string {
	if x.Rate == nil {
		return "—"
	}
	return x.Rate.String()
}

// TestRatesPerRecord files one record per edge case and checks what the
// report counts and what the drill-down says about each, as of 2025-12-31.
func TestRatesPerRecord(t *testing.T) {
	e := newRateEnv(t)
	const asOf = "2025-12-31"
	type want struct {
		active bool
		rules  quality.Set
		used   bool
	}
	cases := map[string]want{}
	add := func(name string, id string, w want) { cases[id+" "+name] = w }
	complete := func(id string) { e.exam(id, "2025-06-01", true) }

	id := e.file(e.f.VillageA1, "2025-01-01", nil)
	complete(id)
	add("qualified and used", id, want{true, 0, true})

	id = e.file(e.f.VillageA1, asOf, nil)
	complete(id)
	add("filed on the as-of date counts", id, want{true, 0, true})

	id = e.file(e.f.VillageA1, "2026-01-01", nil)
	add("filed the day after does not", id, want{active: false})

	for _, s := range []record.Status{record.MovedOut, record.Deceased} {
		id = e.file(e.f.VillageA1, "2024-01-01", nil)
		e.status(id, s, "2025-12-30")
		add(string(s)+" before the as-of date", id, want{active: false})
		id = e.file(e.f.VillageA1, "2024-01-01", nil)
		e.status(id, s, asOf)
		add(string(s)+" on the as-of date", id, want{active: false})
		id = e.file(e.f.VillageA1, "2024-01-01", nil)
		complete(id)
		e.status(id, s, "2026-01-01")
		add(string(s)+" after the as-of date still counts", id, want{true, 0, true})
	}

	id = e.file(e.f.VillageA1, "2024-01-01", nil)
	e.exam(id, "2025-01-01", true) // as-of − 364
	add("exam on the window's first day", id, want{true, 0, true})

	id = e.file(e.f.VillageA1, "2024-01-01", nil)
	e.exam(id, "2024-12-31", true) // as-of − 365
	add("exam the day before the window: qualified, not used", id, want{true, 0, false})

	id = e.file(e.f.VillageA1, "2024-01-01", nil)
	e.exam(id, "2025-01-01", true)
	e.exam(id, "2026-03-01", false)
	add("later incomplete exam: the stored dates are after as-of, the fallback finds the earlier one", id, want{true, 0, true})

	id = e.file(e.f.VillageA1, "2024-01-01", nil)
	e.exam(id, "2024-12-31", true)
	e.exam(id, "2026-03-01", true)
	add("fallback: window edge outside", id, want{true, 0, false})

	id = e.file(e.f.VillageA1, "2024-01-01", nil)
	e.exam(id, "2026-02-01", true)
	add("only exam after as-of: Q10", id, want{true, quality.Of(quality.Q10), false})

	noExam := e.file(e.f.VillageA1, "2024-01-01", nil)
	add("no exam at all: Q10", noExam, want{true, quality.Of(quality.Q10), false})

	id = e.file(e.f.VillageA1, "2024-01-01", nil)
	e.exam(id, "2025-03-01", true)
	e.exam(id, "2025-09-01", false)
	add("latest exam incomplete: Q11", id, want{true, quality.Of(quality.Q11), true})

	id = e.file(e.f.VillageA1, "2024-01-01", func(r *record.Record) { r.IDNumber = ""; r.Phone = "" })
	complete(id)
	add("static rules Q4 and Q8", id, want{true, quality.Of(quality.Q4, quality.Q8), true})

	id = e.file(e.f.VillageA2, "2024-01-01", nil) // A2 has no responsible doctor
	complete(id)
	add("no responsible doctor: Q9", id, want{true, quality.Of(quality.Q9), true})

	// Born after the as-of date: possible only in a report for a past date.
	id = e.file(e.f.VillageA1, "2024-01-01", func(r *record.Record) {
		r.BirthDate = civil.MustParse("2026-01-15")
		r.IDNumber = validID("2026-01-15", 998)
	})
	e.exam(id, "2026-02-01", true)
	add("born after the as-of date: Q3 and Q10", id, want{true, quality.Of(quality.Q3, quality.Q10), false})

	r := e.report(asOf, rates.All, 1)
	failing := map[string]postgres.RecordResult{}
	for _, x := range e.drill(asOf, rates.All, 1, rates.County, e.f.County, "") {
		failing[x.RecordID] = x
	}
	active, qualified, used := 0, 0, 0
	for key, w := range cases {
		id := strings.Fields(key)[0]
		t.Run(key, func(t *testing.T) {
			x, listed := failing[id]
			switch {
			case !w.active && listed:
				t.Errorf("inactive record listed: %+v", x)
			case w.active && (w.rules != 0 || !w.used) != listed:
				t.Errorf("listed %v, want rules %v used %v", listed, w.rules.IDs(), w.used)
			case listed && (x.Failures != w.rules || x.HasDynamic != w.used):
				t.Errorf("rules %v used %v, want %v %v", x.Failures.IDs(), x.HasDynamic, w.rules.IDs(), w.used)
			}
		})
		if w.active {
			active++
			if w.rules == 0 {
				qualified++
			}
			if w.used {
				used++
			}
		}
	}
	q := findRow(t, r, rates.County, e.f.County, rates.Quality)
	u := findRow(t, r, rates.County, e.f.County, rates.Usage)
	c := findRow(t, r, rates.County, e.f.County, rates.Coverage)
	if q.Denominator != active || q.Numerator != qualified || u.Denominator != active || u.Numerator != used || c.Numerator != active {
		t.Errorf("county: coverage %d, quality %d/%d, usage %d/%d; want active %d, qualified %d, used %d",
			c.Numerator, q.Numerator, q.Denominator, u.Numerator, u.Denominator, active, qualified, used)
	}
	// Filing a later exam or fixing a record moves the live figure at once.
	e.exam(noExam, "2025-12-31", true)
	if q2 := findRow(t, e.report(asOf, rates.All, 1), rates.County, e.f.County, rates.Quality); q2.Numerator != qualified+1 {
		t.Errorf("after the exam: %d qualified, want %d", q2.Numerator, qualified+1)
	}
}

// TestCoveragePopulationsAndResponsibilities checks coverage per level:
// villages without population, and a doctor's villages following the
// responsibility in force at the as-of date.
func TestCoveragePopulationsAndResponsibilities(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	e.must(e.db.CreateStaff(e.ctx, &staff.Staff{Code: "docC", Name: "丙医生", InstitutionCode: f.InstB,
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(f.InstB)}}}, ""))
	// B1 passes from docB to docC in mid-2025.
	e.must(e.db.AddResponsibility(e.ctx, f.AdminB, region.Responsibility{VillageCode: f.VillageB1, StaffCode: "docC", FromDate: civil.MustParse("2025-07-01")}))
	for v, n := range map[string]int{f.VillageA1: 4, f.VillageB1: 10, f.VillageB2: 0} {
		e.must(e.db.SetPopulation(e.ctx, f.AdminA, region.Population{VillageCode: v, Year: 2025, Population: n}))
	}
	e.must(e.db.SetPopulation(e.ctx, f.AdminA, region.Population{VillageCode: f.VillageA2, Year: 2024, Population: 50})) // another year
	for i := 0; i < 3; i++ {
		e.file(f.VillageA1, "2024-01-01", nil)
	}
	e.file(f.VillageA2, "2024-01-01", nil)
	for i := 0; i < 5; i++ {
		e.file(f.VillageB1, "2024-01-01", nil)
	}
	e.file(f.VillageB2, "2024-01-01", nil)

	cases := []struct {
		asOf    string
		level   rates.Level
		code    string
		num     int
		den     int
		rate    string
		missing string
	}{
		{"2025-12-31", rates.County, f.County, 10, 14, "71.4", f.VillageA2},
		{"2025-12-31", rates.Institution, f.InstA, 4, 4, "100.0", f.VillageA2},
		{"2025-12-31", rates.Institution, f.InstB, 6, 10, "60.0", ""},
		{"2025-12-31", rates.Township, "330127100", 4, 4, "100.0", f.VillageA2},
		{"2025-12-31", rates.Doctor, f.DoctorA, 3, 4, "75.0", ""},
		{"2025-12-31", rates.Doctor, "docC", 5, 10, "50.0", ""},
		{"2025-12-31", rates.Doctor, f.DoctorB, 0, 0, "—", ""},
		{"2025-06-30", rates.Doctor, f.DoctorB, 5, 10, "50.0", ""},
		// 2024: only A2's population is registered.
		{"2024-12-31", rates.Institution, f.InstB, 6, 0, "—", f.VillageB1 + "," + f.VillageB2},
		{"2024-12-31", rates.Institution, f.InstA, 4, 50, "8.0", f.VillageA1},
	}
	// Before the change docC is responsible for nothing and has no records:
	// not a scope of the report.
	for _, x := range e.report("2025-06-30", rates.All, 1).Rows {
		if x.ScopeCode == "docC" {
			t.Errorf("docC is in the report of 2025-06-30: %+v", x)
		}
	}
	for _, tc := range cases {
		t.Run(tc.asOf+" "+string(tc.level)+" "+tc.code, func(t *testing.T) {
			x := findRow(t, e.report(tc.asOf, rates.All, 1), tc.level, tc.code, rates.Coverage)
			if x.Numerator != tc.num || x.Denominator != tc.den || rateString(x) != tc.rate || strings.Join(x.MissingPopulation, ",") != tc.missing {
				t.Errorf("got %d/%d %s missing %v", x.Numerator, x.Denominator, rateString(x), x.MissingPopulation)
			}
		})
	}
}

// drawn returns the IDs of a doctor's sample: with no exams every record
// fails Q10, so the drill-down lists the whole sample.
func (e *rateEnv) drawn(sample rates.Sample, seed int64, code string) []string {
	var ids []string
	for _, x := range e.drill("2025-12-31", sample, seed, rates.Doctor, code, rates.Quality) {
		ids = append(ids, x.RecordID)
	}
	sort.Strings(ids)
	return ids
}

func TestSampling(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	var all []string
	for i := 0; i < 40; i++ {
		all = append(all, e.file(f.VillageA1, "2024-01-01", nil))
	}
	for i := 0; i < 3; i++ {
		e.file(f.VillageA2, "2024-01-01", nil) // no responsible doctor: their own draw group
	}
	for i := 0; i < 6; i++ {
		e.file(f.VillageB1, "2024-01-01", nil)
	}

	a1 := e.drawn(10, 42, f.DoctorA)
	a2 := e.drawn(10, 42, f.DoctorA)
	b := e.drawn(10, 43, f.DoctorA)
	if len(a1) != 10 || strings.Join(a1, ",") != strings.Join(a2, ",") {
		t.Errorf("same seed, different samples:\n%v\n%v", a1, a2)
	}
	if strings.Join(a1, ",") == strings.Join(b, ",") {
		t.Errorf("seeds 42 and 43 drew the same sample %v", a1)
	}
	// The draw is the documented one, recomputed in Go.
	want := rates.Draw(42, f.DoctorA, all, 10)
	sort.Strings(want)
	if strings.Join(a1, ",") != strings.Join(want, ",") {
		t.Errorf("draw %v, want %v", a1, want)
	}
	// A group smaller than the sample is taken whole.
	if got := e.drawn(10, 42, f.DoctorB); len(got) != 6 {
		t.Errorf("docB's sample has %d records, want all 6", len(got))
	}

	// Higher levels are the union of their groups' draws.
	r := e.report("2025-12-31", 10, 42)
	for _, tc := range []struct {
		level rates.Level
		code  string
		den   int
	}{
		{rates.Doctor, f.DoctorA, 10}, {rates.Doctor, f.DoctorB, 6}, {rates.Institution, f.InstA, 13},
		{rates.Institution, f.InstB, 6}, {rates.County, f.County, 19},
	} {
		if x := findRow(t, r, tc.level, tc.code, rates.Quality); x.Denominator != tc.den {
			t.Errorf("%s %s: sample of %d, want %d", tc.level, tc.code, x.Denominator, tc.den)
		}
	}
	if x := findRow(t, r, rates.County, f.County, rates.Coverage); x.Numerator != 49 {
		t.Errorf("coverage counts every active record, not the sample: %d", x.Numerator)
	}
	// The institution's drill-down is its groups' draws, cut to it.
	if got := len(e.drill("2025-12-31", 10, 42, rates.Institution, f.InstA, rates.Quality)); got != 13 {
		t.Errorf("institution drill-down lists %d records, want 13", got)
	}
}

func TestDrillDownOrder(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	three := e.file(f.VillageA1, "2024-01-01", func(r *record.Record) { r.IDNumber = ""; r.Phone = "" }) // Q4 Q8 Q10, no dynamic
	one := e.file(f.VillageA1, "2024-01-01", func(r *record.Record) { r.Ethnicity = "" })                // Q7
	e.exam(one, "2025-06-01", true)
	usage := e.file(f.VillageA1, "2024-01-01", nil) // only: no dynamic record in the window
	e.exam(usage, "2024-06-01", true)
	ok := e.file(f.VillageA1, "2024-01-01", nil)
	e.exam(ok, "2025-06-01", true)

	var got []string
	for _, x := range e.drill("2025-12-31", rates.All, 1, rates.Doctor, f.DoctorA, "") {
		got = append(got, x.RecordID)
	}
	// one and usage both have one thing to fix: record ID decides.
	first := []string{one, usage}
	sort.Strings(first)
	if want := append(first, three); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("order %v, want %v", got, want)
	}
	if got := e.drill("2025-12-31", rates.All, 1, rates.Doctor, f.DoctorA, rates.Usage); len(got) != 2 {
		t.Errorf("usage drill-down: %d records, want 2", len(got))
	}
	if got := e.drill("2025-12-31", rates.All, 1, rates.Doctor, f.DoctorA, rates.Quality); len(got) != 2 {
		t.Errorf("quality drill-down: %d records, want 2", len(got))
	}
	// Paging past the end still tells the total.
	_, total, err := e.db.RateRecords(e.ctx, f.County, rates.Params{AsOf: civil.MustParse("2025-12-31")},
		postgres.DrillFilter{Level: rates.Doctor, ScopeCode: f.DoctorA, Page: postgres.Page{Page: 5, PerPage: 2}})
	if err != nil || total != 3 {
		t.Errorf("past the end: total %d, %v", total, err)
	}
}

func TestTargetsStored(t *testing.T) {
	e := newRateEnv(t)
	got, err := e.db.Targets(e.ctx, e.f.County)
	if err != nil || got != rates.DefaultTargets {
		t.Fatalf("defaults: %+v %v", got, err)
	}
	want := rates.Targets{Coverage: 925, Quality: 800, Usage: 0}
	e.must(e.db.SetTargets(e.ctx, e.f.Bureau, e.f.County, want))
	if got, _ := e.db.Targets(e.ctx, e.f.County); got != want {
		t.Errorf("stored %+v, want %+v", got, want)
	}
	if err := e.db.SetTargets(e.ctx, e.f.Bureau, e.f.County, rates.Targets{Coverage: 1001}); err == nil {
		t.Error("accepted a target above 100")
	}
	if x := findRow(t, e.report("2025-12-31", rates.All, 1), rates.County, e.f.County, rates.Coverage); x.Target != 925 {
		t.Errorf("report target %s", x.Target)
	}
}

func key(id string) int64 {
	k, _ := rates.RecordKey(id)
	return k
}

// TestDrawMatchesGo draws from groups large enough for the draw to wrap
// around the end of the draw order for some seeds and not for others, with
// records that are not active at the as-of date among them, and after a
// record patch (a new responsible doctor moves a record to another draw
// group) and a status change: the figures and the drawn records are those of
// the draw recomputed in Go with rates.Draw.
func TestDrawMatchesGo(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	tx, err := e.db.Begin()
	e.must(err)
	stmt, err := tx.Prepare(pq.CopyIn("records", "record_id", "village_code", "name", "sex", "birth_date", "residence_type",
		"ethnicity", "phone", "responsible_doctor", "filed_on", "status", "status_date"))
	e.must(err)
	type rec struct {
		id, doctor string
		ok, active bool
	}
	recs := map[string]*rec{}
	for i := 1; i <= 900; i++ {
		village, doctor := f.VillageA1, any(f.DoctorA)
		if i%3 == 0 {
			village, doctor = f.VillageA2, nil // no responsible doctor: one group per village
		}
		phone := "13912345678"
		if i%7 < 3 {
			phone = "" // Q8: about four in ten fail, so a wrong draw shows
		}
		filed, status, statusDate := "2024-01-01", "active", any(nil)
		switch i % 11 {
		case 1:
			filed = "2026-01-01" // filed after the as-of date
		case 2:
			status, statusDate = "moved_out", "2025-06-01"
		case 3:
			status, statusDate = "deceased", "2026-02-01" // after the as-of date: still active then
		}
		id := fmt.Sprintf("%s%04d", village, i)
		_, err := stmt.Exec(id, village, "居民", "F", "1960-01-01", "户籍", "汉族", phone, doctor, filed, status, statusDate)
		e.must(err)
		d, _ := doctor.(string)
		recs[id] = &rec{id, d, phone != "", filed == "2024-01-01" && status != "moved_out"}
	}
	_, err = stmt.Exec()
	e.must(err)
	e.must(tx.Commit())

	const asOf = "2025-12-31"
	// In Go: per group, rates.Draw over its active records; per village and
	// doctor, how many were drawn and how many of them have a phone. (No
	// record has an exam, so quality is 0; Q8 shows in the drill-down.)
	goDraw := func(seed int64) (drawn map[string]bool, figures string, wrapped bool) {
		groups := map[string][]string{}
		for _, r := range recs {
			if !r.active {
				continue
			}
			g := r.doctor
			if g == "" {
				g = "#" + r.id[:12]
			}
			groups[g] = append(groups[g], r.id)
		}
		drawn = map[string]bool{}
		type vd struct{ village, doctor string }
		n := map[vd]int{}
		for g, ids := range groups {
			sample := rates.Draw(seed, g, ids, 50)
			for _, id := range sample {
				drawn[id] = true
				n[vd{id[:12], recs[id].doctor}]++
			}
			// Wrapped: the sample runs past the group's last key.
			last := true
			for _, id := range ids {
				if k, _ := rates.RecordKey(id); k > key(sample[len(sample)-1]) {
					last = false
				}
			}
			wrapped = wrapped || len(ids) > 50 && !last && key(sample[0]) > key(sample[len(sample)-1])
		}
		var parts []string
		for k, c := range n {
			parts = append(parts, fmt.Sprintf("%s/%s:%d", k.village, k.doctor, c))
		}
		sort.Strings(parts)
		return drawn, strings.Join(parts, " "), wrapped
	}
	check := func(t *testing.T, seed int64) bool {
		wantDrawn, wantFigures, wrapped := goDraw(seed)
		p := rates.Params{AsOf: civil.MustParse(asOf), Sample: 50, Seed: seed}
		gs, err := e.db.RateGroups(e.ctx, f.County, p)
		e.must(err)
		var parts []string
		for _, g := range gs {
			if g.Sampled > 0 {
				parts = append(parts, fmt.Sprintf("%s/%s:%d", g.Village, g.Doctor, g.Sampled))
			}
		}
		sort.Strings(parts)
		if got := strings.Join(parts, " "); got != wantFigures {
			t.Errorf("seed %d: sampled per village and doctor %s, want %s", seed, got, wantFigures)
		}
		gotDrawn := map[string]bool{}
		for _, x := range e.drill(asOf, 50, seed, rates.County, f.County, rates.Quality) {
			gotDrawn[x.RecordID] = true
			if x.Failures.Has(quality.Q8) == recs[x.RecordID].ok {
				t.Errorf("seed %d: %s rules %v", seed, x.RecordID, x.Failures.IDs())
			}
		}
		if fmt.Sprint(gotDrawn) != fmt.Sprint(wantDrawn) {
			t.Errorf("seed %d: drill-down drew %d records, not the %d Go draws", seed, len(gotDrawn), len(wantDrawn))
		}
		return wrapped
	}
	wraps, straight := 0, 0
	for seed := int64(-3); seed < 40 && (wraps < 3 || straight < 3); seed++ {
		if _, _, w := goDraw(seed); w && wraps < 3 || !w && straight < 3 {
			t.Run(fmt.Sprintf("seed %d wrapped %v", seed, w), func(t *testing.T) { check(t, seed) })
			if w {
				wraps++
			} else {
				straight++
			}
		}
	}
	if wraps < 3 || straight < 3 {
		t.Fatalf("seeds tried: %d wrapped, %d not; want 3 of each", wraps, straight)
	}

	// A status change moves a record out of its draw group; the draw
	// follows. A handover today (a new responsible doctor) leaves the draw as
	// of the past date as it was: the group is the doctor at the date.
	var moved, closed string
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := recs[id]
		switch {
		case moved == "" && r.active && r.doctor == "" && r.id[:12] == f.VillageA2:
			moved = r.id
		case closed == "" && r.active && r.doctor == f.DoctorA && r.id > ids[len(ids)/2]:
			closed = r.id
		}
	}
	_, err = e.db.UpdateRecord(e.ctx, f.AdminA, moved, map[string]json.RawMessage{"responsible_doctor": json.RawMessage(`"` + f.DoctorA + `"`)})
	e.must(err)
	e.status(closed, record.MovedOut, "2025-03-01")
	recs[closed].active = false
	t.Run("after a patch and a status change", func(t *testing.T) { check(t, 7) })
}

// TestUsagePastAsOfCountsEntries asks for a past as-of date while a later
// exam exists, so the stored latest service date is after as-of: the usage
// of that date must come from the service entries in its window.
func TestUsagePastAsOfCountsEntries(t *testing.T) {
	e := newRateEnv(t)
	withVisit := e.file(e.f.VillageA1, "2020-01-01", nil)
	without := e.file(e.f.VillageA1, "2020-01-01", nil)
	for _, id := range []string{withVisit, without} {
		e.exam(id, "2025-06-01", true)
	}
	v := entry.New(entry.KindVisit)
	v.Basics().ServiceDate = civil.MustParse("2024-03-01")
	v.Head().RecordID = withVisit
	v.(*entry.Visit).Subjective, v.(*entry.Visit).Assessment = "头晕", "高血压"
	if _, _, err := e.db.AddEntry(e.ctx, e.f.DoctorA, e.f.InstA, v, postgres.Idempotency{}, nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range e.drill("2024-12-31", rates.All, 1, rates.County, e.f.County, rates.Usage) {
		got[r.RecordID] = true
	}
	if got[withVisit] || !got[without] {
		t.Fatalf("records without a dynamic record in the window: %v; want only %s", got, without)
	}
}
