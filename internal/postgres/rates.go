package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/quality"
	"healthrec/internal/rates"
)

// The rates read each record's write-time facts (quality_failures, and the
// date sets used_on, exam_from and exam_ok_on of migration 00010, see
// facts.go), whatever the number of exams and entries and whatever the as-of
// date: the date sets answer a past date as exactly as today. A sampled
// report evaluates the conditions below on its drawn records; with the whole
// population as the sample, the counters of migration 00013 (kept from the
// same conditions, as sets of dates) answer without reading the records.
const (
	// activeAt: filed on or before $1 and not moved out or deceased on or
	// before it. (status_date is set exactly when status is not active.)
	activeAt = `r.filed_on <= $1 AND (r.status_date IS NULL OR r.status_date > $1)`

	// examAsOf is whether the latest exam on or before $1 is complete; NULL
	// when there is none (Q10).
	examAsOf = `CASE WHEN r.exam_from <= $1 THEN COALESCE(r.exam_ok_on @> $1, false) END`

	// usedAsOf is whether the record has a dynamic record dated in the 365
	// days ending on $1.
	usedAsOf = `COALESCE(r.used_on @> $1, false)`

	// qualifiedAsOf is every rule holding as of $1. (A date in exam_ok_on is
	// on or after the first exam, so Q10 holds there.)
	qualifiedAsOf = `r.quality_failures = 0 AND r.birth_date <= $1 AND COALESCE(r.exam_ok_on @> $1, false)`

	// stratum is the draw group: the responsible doctor, or for records
	// without one, their village. It is the first column of the index
	// records_draw, written the same way.
	stratum = `COALESCE(r.responsible_doctor, '#' || r.village_code)`

	// drawKey is each record's fixed place in the draw order (rates.RecordKey
	// is its Go copy); the second column of records_draw.
	drawKey = `hashint8extended(r.record_id::bigint, 0)`

	// drawnColumns are what the expressions above read of a drawn record.
	drawnColumns = `r.record_id, r.village_code, r.responsible_doctor, r.birth_date, r.quality_failures, r.exam_from, r.exam_ok_on, r.used_on`

	// handedAfter is the IDs of the records handed over to another
	// responsible doctor after the as-of date $1 (migration 00015; the
	// index records_handed_over, few rows for a recent date). Every other
	// record's responsible doctor at the date is its doctor now, which the
	// draw's indexes are ordered by; these are counted under doctorAt.
	handedAfter = `(SELECT COALESCE(array_agg(h.record_id), '{}') FROM records h
		WHERE h.doctor_until IS NOT NULL AND record_doctor_since(h.doctor_until) > $1::date)::text[]`

	// doctorAt is the record's responsible doctor at the as-of date $1
	// (DESIGN §5.2): a doctor's quality and usage are over the records they
	// were responsible for then.
	doctorAt = `record_doctor_at(r.responsible_doctor, r.doctor_before, r.doctor_until, $1::date)`

	// drawnColumnsAt are drawnColumns with the responsible doctor at the
	// as-of date.
	drawnColumnsAt = `r.record_id, r.village_code, ` + doctorAt + ` AS responsible_doctor, r.birth_date, r.quality_failures,
		r.exam_from, r.exam_ok_on, r.used_on`

	// stratumAt is stratum with the responsible doctor at the as-of date.
	stratumAt = `COALESCE(` + doctorAt + `, '#' || r.village_code)`
)

// countsAsOf are a county ($1) as of a date ($2; $3 and $4 the first days of
// its year and month, $5 and $6 those of the next month and year) per
// village and per responsible doctor apart, as Groups of one or the other:
// each scope's changes of records active, qualified and used (migration
// 00013) summed over the years before the date's year, the months of that
// year before its month and the days of that month up to the date — a few
// dozen counters per scope, whatever the number of records and entries —
// plus the changes not folded yet.
//
// A period's counter is the sum of its parts' (rate_fold writes each change
// to its day, month and year), so the months before the date's month are
// also the year less the months from that month on, and the days up to the
// date the month less the days after it: whichever reads fewer rows. On the
// last day of a month that is one month row per scope instead of thirty
// day rows (the day rows of the current month were two thirds of the rows a
// report summed, and My assessment sums them on every request).
func countsAsOf(asOf civil.Date) string {
	part := func(sign, cond string) string {
		return `SELECT kind, code, ` + sign + `active, ` + sign + `qualified, ` + sign + `used FROM rate_counts WHERE county = $1 AND ` + cond
	}
	parts := []string{part("", `grain = 'y' AND starts < $3`)}
	if month := int(asOf.Time().Month()); month-1 <= 13-month+1 {
		parts = append(parts, part("", `grain = 'm' AND starts >= $3 AND starts < $4`))
	} else {
		parts = append(parts, part("", `grain = 'y' AND starts = $3`), part("-", `grain = 'm' AND starts >= $4 AND starts < $6`))
	}
	day, days := asOf.Time().Day(), asOf.MonthStart().DaysUntil(asOf.MonthStart().AddMonths(1))
	if day <= days-day+1 {
		parts = append(parts, part("", `grain = 'd' AND starts >= $4 AND starts <= $2`))
	} else {
		parts = append(parts, part("", `grain = 'm' AND starts = $4`), part("-", `grain = 'd' AND starts > $2 AND starts < $5`))
	}
	parts = append(parts, `SELECT kind, code, active, qualified, used FROM rate_changes WHERE county = $1 AND on_date <= $2`)
	// args types the arguments, which not every way of summing uses.
	return `WITH args AS (SELECT $1::text, $2::date, $3::date, $4::date, $5::date, $6::date)
	SELECT CASE x.kind WHEN 'v' THEN x.code ELSE '' END AS village,
		CASE x.kind WHEN 'd' THEN x.code ELSE '' END AS doctor,
		sum(x.active) AS active, sum(x.active) AS sampled, sum(x.qualified) AS qualified, sum(x.used) AS used
	FROM (` + strings.Join(parts, "\n\t\tUNION ALL\n\t\t") + `) x (kind, code, active, qualified, used)
	GROUP BY x.kind, x.code HAVING sum(x.active) > 0`
}

// countsArgs are countsAsOf's arguments.
func countsArgs(county string, asOf civil.Date) []any {
	month, year := asOf.MonthStart(), asOf.YearStart()
	return []any{county, asOf, year, month, month.AddMonths(1), year.AddMonths(12)}
}

// FoldRateChanges moves the rate changes noted since the last fold into the
// counters (rate_fold, migration 00013) and returns how many it moved. A
// report is exact without it; it keeps the pending changes a report adds up
// few. The server folds every few seconds, bulk loads after loading.
func (db *DB) FoldRateChanges(ctx context.Context) (int64, error) {
	var n int64
	err := db.GetContext(ctx, &n, `SELECT rate_fold()`)
	return n, translate(err)
}

// activeCounts returns a county's records active at a date per village and
// responsible doctor (villages and doctors with none left out), in no
// particular order: the counts of records active now (rate_active_counts,
// kept by triggers), less those filed after the date, plus those closed
// after it that were filed by then — the two corrections read through
// partial indexes, so a recent date reads almost nothing and a date a year
// back reads that year's filings. Their village codes are compared
// byte by byte (COLLATE "C": digits, the same order), not through the
// database's collation: a year back that is 84,000 records' two
// comparisons, and sorting the 7,800 counts was a third of the query.
func activeCounts(ctx context.Context, tx *Tx, county string, asOf civil.Date) ([]rates.Group, error) {
	return activeCountsBeside(ctx, tx, nil, county, asOf)
}

// activeCountsBeside is activeCounts with, for a date more than a month
// before the latest filing, the later part of the filings after it counted
// on the report's second transaction at the same time: a year back,
// grouping the year's 84,000 filings by village and doctor is most of the
// query.
func activeCountsBeside(ctx context.Context, tx *Tx, pair *besides, county string, asOf civil.Date) ([]rates.Group, error) {
	lo, hi := countyRange(county)
	filedAfter := func(cond string) string {
		return `SELECT r.village_code, COALESCE(r.responsible_doctor, ''), -count(*) FROM records r
			WHERE r.status_date IS NULL AND ` + cond + ` AND r.village_code COLLATE "C" BETWEEN $2 AND $3
			GROUP BY r.village_code, r.responsible_doctor`
	}
	query := func(filings string) string {
		return `SELECT village_code AS village, doctor, sum(n)::bigint AS active FROM (
			SELECT village_code, doctor, active AS n FROM rate_active_counts WHERE village_code BETWEEN $2 AND $3
			UNION ALL
			` + filings + `
			UNION ALL
			SELECT r.village_code, COALESCE(r.responsible_doctor, ''), count(*) FROM records r
			WHERE r.status_date IS NOT NULL AND r.status_date > $1 AND r.filed_on <= $1 AND r.village_code COLLATE "C" BETWEEN $2 AND $3
			GROUP BY r.village_code, r.responsible_doctor
			UNION ALL
			-- those handed over after the date, from their doctor now to their doctor then
			SELECT r.village_code, d.doctor, sum(d.n) FROM records r
			CROSS JOIN LATERAL (VALUES (COALESCE(r.responsible_doctor, ''), -1), (COALESCE(` + doctorAt + `, ''), 1)) d (doctor, n)
			WHERE r.doctor_until IS NOT NULL AND record_doctor_since(r.doctor_until) > $1 AND ` + activeAt + `
				AND r.village_code BETWEEN $2 AND $3
			GROUP BY r.village_code, d.doctor
		) x GROUP BY village_code, doctor`
	}
	out := []rates.Group{}
	whole := func() ([]rates.Group, error) {
		return selectGroups(ctx, tx, activeOf, query(filedAfter(`r.filed_on > $1`))+` HAVING sum(n) > 0`, asOf, lo, hi)
	}
	today := civil.Of(tx.now())
	if pair == nil || !asOf.Before(today.AddDays(-30)) {
		return whole()
	}
	// The side counts the filings of the later two thirds of the days
	// between the date and the latest filing (the top of
	// records_filed_active): this transaction also reads the counts now,
	// the closures after the date and the handovers and merges them all,
	// about as much work a year back as the side's. (Split halfway to
	// today, a county whose filings stop before today, a load of past
	// data, left the side a third of this transaction's work.)
	var last sql.NullTime
	if err := tx.GetContext(ctx, &last, `SELECT max(filed_on) FROM records WHERE status_date IS NULL`); err != nil {
		return nil, err
	}
	end := today
	if last.Valid && civil.Of(last.Time).Before(today) {
		end = civil.Of(last.Time)
	}
	if !asOf.Before(end.AddDays(-30)) {
		return whole()
	}
	side, err := pair.open(ctx)
	if err != nil {
		return nil, err
	}
	if side == nil {
		return whole()
	}
	pair.counted++
	mid := asOf.AddDays(asOf.DaysUntil(end) / 3)
	var later []rates.Group
	sideCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		var err error
		later, err = selectGroups(sideCtx, side, activeOf, `SELECT r.village_code AS village, COALESCE(r.responsible_doctor, '') AS doctor,
				-count(*) AS active FROM records r
			WHERE r.status_date IS NULL AND r.filed_on > $1 AND r.village_code COLLATE "C" BETWEEN $2 AND $3
			GROUP BY r.village_code, r.responsible_doctor`, mid, lo, hi)
		errc <- err
	}()
	sums, err := selectGroups(ctx, tx, activeOf, query(filedAfter(`r.filed_on > $1 AND r.filed_on <= $4`)), asOf, lo, hi, mid)
	if err != nil {
		cancel()
	}
	if e := <-errc; err == nil {
		err = e
	}
	if err != nil {
		return nil, err
	}
	type key struct{ village, doctor string }
	at := make(map[key]int, len(sums))
	for i, g := range sums {
		at[key{g.Village, g.Doctor}] = i
	}
	for _, g := range later {
		if i, ok := at[key{g.Village, g.Doctor}]; ok {
			sums[i].Active += g.Active
		} // (each is active now, so its pair has a count now)
	}
	for _, g := range sums {
		if g.Active > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}

// drawArgs types the arguments of a draw ($1 as-of, $2 seed, $3 sample
// size, $4–$7 the drawPlan), which not every query uses.
const drawArgs = `args AS (SELECT $1::date, $2::bigint, $3::int, $4::text[], $5::text[], $6::text[], $7::int[])`

// drawPlan is where the draw of each draw group starts: its anchor
// (rates.DrawAnchor), found in records_active as the skip-th active record,
// in record ID order, of one village and doctor of the group (doctor NULL for the groups of
// records without one).
type drawPlan struct {
	strata, villages []string
	doctors          []sql.NullString
	skips            []int64
	// sizes are the groups' active records, for splitting the plan.
	sizes []int
}

// args are the plan as arguments $4–$7.
func (d drawPlan) args() []any {
	return []any{pq.Array(d.strata), pq.Array(d.villages), pq.Array(d.doctors), pq.Array(d.skips)}
}

// drawing is how many records the plan draws, n per group at most.
func (d drawPlan) drawing(n int) int {
	total := 0
	for _, s := range d.sizes {
		total += min(s, n)
	}
	return total
}

// split deals the plan's groups into two plans that draw about as many
// records each (a group draws min(size, n) and has its anchor to find),
// for drawing them side by side. Largest first, each to the lighter plan.
func (d drawPlan) split(n int) [2]drawPlan {
	order := make([]int, len(d.strata))
	for i := range order {
		order[i] = i
	}
	cost := func(i int) int { return min(d.sizes[i], n) + 50 }
	sort.SliceStable(order, func(a, b int) bool { return cost(order[a]) > cost(order[b]) })
	var out [2]drawPlan
	var load [2]int
	for _, i := range order {
		k := 0
		if load[1] < load[0] {
			k = 1
		}
		load[k] += cost(i)
		o := &out[k]
		o.strata, o.villages = append(o.strata, d.strata[i]), append(o.villages, d.villages[i])
		o.doctors, o.skips, o.sizes = append(o.doctors, d.doctors[i]), append(o.skips, d.skips[i]), append(o.sizes, d.sizes[i])
	}
	return out
}

// planDraw finds each draw group's anchor from its active records per
// village and doctor: the group's records in record ID order are its
// villages' in village code order (a record ID begins with its village's
// code).
func planDraw(groups []rates.Group, seed int64) drawPlan {
	parts := map[string][]rates.Group{}
	for _, g := range groups {
		if g.Active > 0 {
			s := stratumOf(g.Village, g.Doctor)
			parts[s] = append(parts[s], g)
		}
	}
	var d drawPlan
	for s, ps := range parts {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Village < ps[j].Village })
		size := 0
		for _, g := range ps {
			size += g.Active
		}
		at := rates.DrawAnchor(seed, s, size)
		for _, g := range ps {
			if at < g.Active {
				d.strata, d.villages = append(d.strata, s), append(d.villages, g.Village)
				d.doctors = append(d.doctors, sql.NullString{String: g.Doctor, Valid: g.Doctor != ""})
				d.skips, d.sizes = append(d.skips, int64(at)), append(d.sizes, size)
				break
			}
			at -= g.Active
		}
	}
	return d
}

// stratumOf is the draw group of a village and doctor ("" for none).
func stratumOf(village, doctor string) string {
	if doctor == "" {
		return "#" + village
	}
	return doctor
}

// drawn is a FROM item (named r, with drawnColumns and stratum) of the
// records drawn as of $1, $3 per draw group, from the groups of the plan
// $4–$7. A group's sample is its first $3 active records in the draw order
// from its anchor on, wrapping around (rates.Draw): per group, the anchor's
// place in records_active, one index-only range scan of records_draw from
// the anchor and, when the group's end comes first, one from its beginning
// for the rest.
func drawn(handed bool) string {
	return `(SELECT b.stratum, d.* FROM ` + drawAnchors(handed, 4) + ` CROSS JOIN LATERAL (` + drawWindow(handed, "") + `) d) r`
}

// drawnCounts is a FROM item (named r) of the drawn records of the plan
// $plan–$plan+3 counted per village and responsible doctor: sampled,
// qualified and used. Each group is counted inside its own draw, where its
// rows already are: grouping the 160,000 drawn records of a county
// afterwards cost a tenth of the report. Without handovers after the date,
// each drawn record is read as just what is counted — its village and the
// two conditions — rather than as drawn's columns; its doctor is the
// group's.
func drawnCounts(handed bool, plan int) string {
	flags := `r.village_code, ` + qualifiedAsOf + ` AS qualified, ` + usedAsOf + ` AS used`
	window := drawWindow(false, flags)
	if handed {
		window = `SELECT ` + flags + ` FROM (` + drawWindow(true, "") + `) r`
	}
	// A group's drawn records are all of its doctor at the date (none for
	// a village's group): they are counted per village.
	return `(SELECT d.village_code, b.doctor AS responsible_doctor, d.sampled, d.qualified, d.used FROM ` + drawAnchors(handed, plan) + `
		CROSS JOIN LATERAL (SELECT r.village_code,
			count(*) AS sampled, count(*) FILTER (WHERE r.qualified) AS qualified, count(*) FILTER (WHERE r.used) AS used
		FROM (` + window + `) r GROUP BY r.village_code) d) r`
}

// handedOver is whether any record was handed over to another responsible
// doctor after the as-of date. Mostly none are (a handover is dated the
// day it is made): the draw then reads each group's records as they are,
// without the merges that put the others under their doctor then — about a
// third of a sampled report's time on the 1M county.
func handedOver(ctx context.Context, tx *Tx, asOf civil.Date) (bool, error) {
	var yes bool
	err := tx.GetContext(ctx, &yes, `SELECT EXISTS (SELECT 1 FROM records h
		WHERE h.doctor_until IS NOT NULL AND record_doctor_since(h.doctor_until) > $1::date)`, asOf)
	return yes, err
}

// drawAnchors are the draw groups of the plan $4–$7 (b) with their anchors
// (a): the records of the village and doctor at the date in record ID order
// are those with that doctor now, less those handed over after the date,
// merged with those of the latter whose doctor then it was.
func drawAnchors(handed bool, plan int) string {
	groups := fmt.Sprintf(`unnest($%d::text[], $%d::text[], $%d::text[], $%d::int[]) b (stratum, village, doctor, skip)`, plan, plan+1, plan+2, plan+3)
	if !handed {
		// Every group's records at the date are its records now.
		anchor := `SELECT r.record_id AS id, ` + drawKey + ` AS key FROM records r
			WHERE r.village_code = b.village AND %s AND ` + activeAt + `
			ORDER BY r.record_id OFFSET b.skip LIMIT 1`
		return groups + `
			CROSS JOIN LATERAL (SELECT u.id, u.key FROM ((` + fmt.Sprintf(anchor, `r.responsible_doctor = b.doctor`) + `)
				UNION ALL (` + fmt.Sprintf(anchor, `b.doctor IS NULL AND r.responsible_doctor IS NULL`) + `)) u LIMIT 1) a`
	}
	anchor := `SELECT r.record_id AS id, ` + drawKey + ` AS key FROM records r
		WHERE r.village_code = b.village AND %s AND ` + activeAt + ` AND NOT (r.record_id = ANY(` + handedAfter + `))
		ORDER BY r.record_id LIMIT b.skip + 1`
	return groups + `
		CROSS JOIN LATERAL (SELECT u.id, u.key FROM ((` + fmt.Sprintf(anchor, `r.responsible_doctor = b.doctor`) + `)
			UNION ALL (` + fmt.Sprintf(anchor, `b.doctor IS NULL AND r.responsible_doctor IS NULL`) + `)
			UNION ALL (SELECT r.record_id, ` + drawKey + ` FROM records r WHERE r.record_id = ANY(` + handedAfter + `)
				AND r.village_code = b.village AND ` + doctorAt + ` IS NOT DISTINCT FROM b.doctor AND ` + activeAt + `)
		) u ORDER BY u.id OFFSET b.skip LIMIT 1) a`
}

// drawWindow is a group's sample (drawnColumns, the doctor at the date, and
// draw_key; or, without handovers after the date, the columns cols when
// given), from its anchor a on. The group's records at the date are
// those of its stratum now (records_draw, in draw order) less those handed
// over after the date, merged with those of the latter whose stratum then
// it was.
func drawWindow(handed bool, cols string) string {
	if !handed {
		if cols == "" {
			cols = drawnColumns + `, ` + drawKey + ` AS draw_key`
		}
		// From the anchor to the group's end, then from its beginning: the
		// Append runs its parts in order (no parallel plans, tuneReport),
		// so the first $3 rows are the window.
		part := func(cond string) string {
			return `(SELECT ` + cols + ` FROM records r
				WHERE ` + stratum + ` = b.stratum AND ` + activeAt + ` AND (` + drawKey + `, r.record_id) ` + cond + ` (a.key, a.id)
				ORDER BY ` + drawKey + `, r.record_id LIMIT $3)`
		}
		return `SELECT * FROM (` + part(">=") + ` UNION ALL ` + part("<") + `) w LIMIT $3`
	}
	part := func(cond string) string {
		return `SELECT u.* FROM ((SELECT ` + drawnColumns + `, ` + drawKey + ` AS draw_key FROM records r
				WHERE ` + stratum + ` = b.stratum AND ` + activeAt + ` AND NOT (r.record_id = ANY(` + handedAfter + `))
					AND (` + drawKey + `, r.record_id) ` + cond + ` (a.key, a.id)
				ORDER BY ` + drawKey + `, r.record_id LIMIT $3)
			UNION ALL
			(SELECT ` + drawnColumnsAt + `, ` + drawKey + ` FROM records r WHERE r.record_id = ANY(` + handedAfter + `)
				AND ` + stratumAt + ` = b.stratum AND ` + activeAt + ` AND (` + drawKey + `, r.record_id) ` + cond + ` (a.key, a.id))
			) u ORDER BY u.draw_key, u.record_id`
	}
	return `WITH up AS MATERIALIZED (` + part(">=") + ` LIMIT $3)
			SELECT * FROM up
			UNION ALL
			(` + part("<") + ` LIMIT $3 - (SELECT count(*) FROM up))`
}

// countyRange bounds the village codes of a county, for the village-led
// index whatever the database's collation.
func countyRange(county string) (string, string) { return county + "000000", county + "999999" }

// inSnapshot runs fn in a read-only REPEATABLE READ transaction, so that the
// several queries of a report see one state of the data.
func (db *DB) inSnapshot(ctx context.Context, fn func(tx *Tx) error) error {
	t, err := db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return translate(err)
	}
	defer t.Rollback()
	tx := &Tx{Tx: t, db: db} // unprepared: a report's plans follow its parameters
	if err := tuneReport(ctx, tx); err != nil {
		return translate(err)
	}
	if err := fn(tx); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// tuneReport sets a report transaction's planner settings. JIT compilation
// is off: compiling cost more than executing a report. work_mem is raised so
// that the grouping of a county (about one row per village and doctor) stays
// in memory. The draw joins a few hundred draw groups to their records on an
// expression the planner cannot estimate; a merge join (sorting the county)
// is never right there, and the index-only scans are priced as if their
// pages came from disk. Parallel workers are off: on the two cores of DESIGN
// §9, shared with the requests of everybody else, they measured slower.
func tuneReport(ctx context.Context, tx *Tx) error {
	_, err := tx.ExecContext(ctx, `SET LOCAL jit = off; SET LOCAL work_mem = '64MB';
		SET LOCAL enable_mergejoin = off; SET LOCAL random_page_cost = 1.1; SET LOCAL max_parallel_workers_per_gather = 0`)
	return err
}

// Counties lists the registered counties.
func (db *DB) Counties(ctx context.Context) ([]rates.Unit, error) {
	out := []rates.Unit{}
	err := db.SelectContext(ctx, &out, `SELECT code, name FROM regions WHERE level = 'county' ORDER BY code`)
	return out, translate(err)
}

// RateData loads what a county's report needs as of p.AsOf: its units and
// villages, and per village and responsible doctor the active records and
// the sample's counts. Returns NotFound for an unknown county.
func (db *DB) RateData(ctx context.Context, county string, p rates.Params) (*rates.Data, error) {
	var d *rates.Data
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		var err error
		d, err = rateData(ctx, tx, county, p)
		return err
	})
	return d, err
}

func rateData(ctx context.Context, tx *Tx, county string, p rates.Params) (*rates.Data, error) {
	return rateDataWith(ctx, tx, county, p, rateGroups)
}

// rateDataWith is rateData with the counts per village and doctor from
// groupsOf.
func rateDataWith(ctx context.Context, tx *Tx, county string, p rates.Params,
	groupsOf func(context.Context, *Tx, string, rates.Params) ([]rates.Group, error)) (*rates.Data, error) {
	d := &rates.Data{}
	if err := tx.GetContext(ctx, &d.County, `SELECT code, name FROM regions WHERE code = $1 AND level = 'county'`, county); err != nil {
		return nil, notFound(err, "县 %s 未登记", county)
	}
	lo, hi := countyRange(county)
	if err := tx.SelectContext(ctx, &d.Townships, `SELECT code, name FROM regions
		WHERE level = 'township' AND parent_code = $1 ORDER BY code`, county); err != nil {
		return nil, err
	}
	if err := tx.SelectContext(ctx, &d.Institutions, `SELECT code, name FROM institutions
		WHERE county_code = $1 OR code IN (SELECT institution_code FROM regions WHERE level = 'village' AND code BETWEEN $2 AND $3)
		ORDER BY code`, county, lo, hi); err != nil {
		return nil, err
	}
	if err := tx.SelectContext(ctx, &d.Villages, `SELECT v.code, v.name, v.parent_code AS township,
		COALESCE(v.institution_code, '') AS institution, p.population,
		COALESCE((SELECT x.staff_code FROM responsibilities x WHERE x.village_code = v.code AND x.from_date <= $1
			ORDER BY x.from_date DESC LIMIT 1), '') AS doctor
		FROM regions v LEFT JOIN village_populations p ON p.village_code = v.code AND p.year = $2
		WHERE v.level = 'village' AND v.code BETWEEN $3 AND $4 ORDER BY v.code`, p.AsOf, p.AsOf.Year(), lo, hi); err != nil {
		return nil, err
	}
	groups, err := groupsOf(ctx, tx, county, p)
	if err != nil {
		return nil, err
	}
	d.Groups = groups
	codes := map[string]bool{}
	for _, v := range d.Villages {
		if v.Doctor != "" {
			codes[v.Doctor] = true
		}
	}
	for _, g := range d.Groups {
		if g.Doctor != "" {
			codes[g.Doctor] = true
		}
	}
	list := make([]string, 0, len(codes))
	for c := range codes {
		list = append(list, c)
	}
	sort.Strings(list)
	if err := tx.SelectContext(ctx, &d.Doctors, `SELECT code, name, COALESCE(institution_code, '') AS parent
		FROM staff WHERE code = ANY($1) ORDER BY code`, pq.Array(list)); err != nil {
		return nil, err
	}
	return d, nil
}

// rateGroups counts the county's records per village and responsible doctor.
//
// With the whole population as the sample it sums the county's counters
// (countsAsOf), per village and per doctor apart. With a sample of N per draw
// group it takes the active records per village and doctor from
// activeCounts (coverage, and each draw group's size), then draws the groups
// that have any, evaluating the rules on the drawn records only.
func rateGroups(ctx context.Context, tx *Tx, county string, p rates.Params) ([]rates.Group, error) {
	out := []rates.Group{}
	if p.Sample == rates.All {
		err := tx.SelectContext(ctx, &out, countsAsOf(p.AsOf), countsArgs(county, p.AsOf)...)
		return out, err
	}
	pair := &besides{tx: tx}
	defer pair.close()
	if !tx.splitting() {
		pair = nil
	}
	out, err := activeCountsBeside(ctx, tx, pair, county, p.AsOf)
	if err != nil {
		return nil, err
	}
	handed, err := handedOver(ctx, tx, p.AsOf)
	if err != nil {
		return nil, err
	}
	drawnGroups, err := drawCounts(ctx, tx, pair, handed, p, planDraw(out, p.Seed))
	if err != nil {
		return nil, err
	}
	return out, withDrawn(out, drawnGroups)
}

// drawCounts draws the groups of plan and counts their drawn records, and
// those qualified and used, per village and responsible doctor.
//
// A large draw is dealt into two halves that draw about as many records
// each, one drawn on a second connection in the same snapshot (beside)
// while the report's own draws the other: a sampled report is held to one
// core's count of the records, and the draw of a county (160,000 records
// in 800 groups) is most of it. Each group is drawn whole by one of them,
// so the figures are those of one draw; without a second connection to be
// had at once, the report's draws both.
func drawCounts(ctx context.Context, tx *Tx, pair *besides, handed bool, p rates.Params, plan drawPlan) ([]rates.Group, error) {
	q := `WITH ` + drawArgs + `
		SELECT r.village_code AS village, COALESCE(r.responsible_doctor, '') AS doctor, r.sampled, r.qualified, r.used
		FROM ` + drawnCounts(handed, 4)
	args := []any{p.AsOf, p.Seed, int(p.Sample)}
	if pair != nil && plan.drawing(int(p.Sample)) >= tx.db.splitDrawFrom() && len(plan.strata) > 1 {
		side, err := pair.open(ctx)
		if err != nil {
			return nil, err
		}
		if side != nil {
			pair.drawn++
			half := plan.split(int(p.Sample))
			var other []rates.Group
			sideCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				var err error
				other, err = selectGroups(sideCtx, side, drawnOf, q, slices.Concat(args, half[1].args())...)
				errc <- err
			}()
			out, err := selectGroups(ctx, tx, drawnOf, q, slices.Concat(args, half[0].args())...)
			if err != nil {
				cancel() // no use drawing the rest
			}
			if e := <-errc; err == nil {
				err = e
			}
			return append(out, other...), err
		}
	}
	return selectGroups(ctx, tx, drawnOf, q, slices.Concat(args, plan.args())...)
}

// activeOf and drawnOf are the counts, after the village and the doctor,
// of activeCounts' rows and of drawCounts'.
func activeOf(g *rates.Group) []*int { return []*int{&g.Active} }
func drawnOf(g *rates.Group) []*int  { return []*int{&g.Sampled, &g.Qualified, &g.Used} }

// selectGroups reads the rows of query — a village, a doctor and bigint
// counts — as groups, the counts into the fields counts names. It scans by
// hand: through sqlx's reflection and database/sql's conversion of each
// integer to a string and back, reading a county's 7,800 groups cost
// about twice the client CPU of the rows themselves.
func selectGroups(ctx context.Context, tx *Tx, counts func(*rates.Group) []*int, query string, args ...any) ([]rates.Group, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rates.Group{}
	var g rates.Group
	n := make([]any, len(counts(&g)))
	dest := []any{&g.Village, &g.Doctor}
	for i := range n {
		dest = append(dest, &n[i])
	}
	for rows.Next() {
		g = rates.Group{}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		for i, f := range counts(&g) {
			v, ok := n[i].(int64)
			if !ok {
				return nil, fmt.Errorf("rates: count %d of a group is %T, not a bigint", i, n[i])
			}
			*f = int(v)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// splitDrawFrom is the records from which drawCounts draws on two
// connections: below a few thousand, the second transaction's round trips
// cost about what it saves.
const splitDrawFrom = 4000

// drawSplit is, for the tests, from how many drawn records a draw is split
// (math.MaxInt: a report never opens a second transaction), with counts of
// the draws and of the active counts split, and a function run between a
// report's export of its snapshot and its import.
type drawSplit struct {
	from           int
	drawn, counted atomic.Int64
	hook           func()
}

func (db *DB) splitDrawFrom() int {
	if db.split != nil {
		return db.split.from
	}
	return splitDrawFrom
}

// splitting is whether tx is a report's that may open a second transaction
// in its snapshot.
func (tx *Tx) splitting() bool { return tx.db != nil && tx.db.splitDrawFrom() != math.MaxInt }

// now is the store's clock.
func (tx *Tx) now() time.Time {
	if tx.db != nil {
		return tx.db.Now()
	}
	return time.Now()
}

// besides is a report's second transaction in its snapshot (beside),
// opened when first needed — by the active counts of a past date, or by a
// large draw — and ended with the report.
type besides struct {
	tx             *Tx
	side           *Tx
	done           func()
	tried          bool
	drawn, counted int
}

// open returns the second transaction, nil when none is to be had.
func (b *besides) open(ctx context.Context) (*Tx, error) {
	if !b.tried {
		b.tried = true
		var err error
		if b.side, b.done, err = b.tx.beside(ctx); err != nil {
			return nil, err
		}
	}
	return b.side, nil
}

// close ends the second transaction, if any, and notes for the tests what
// was split.
func (b *besides) close() {
	if b == nil {
		return
	}
	if b.done != nil {
		b.done()
	}
	if s := b.tx.db; s != nil && s.split != nil {
		s.split.drawn.Add(int64(b.drawn))
		s.split.counted.Add(int64(b.counted))
	}
}

// beside opens a read-only transaction on another connection of the pool
// that sees exactly what tx sees (pg_export_snapshot, SET TRANSACTION
// SNAPSHOT), with the report's settings, and a function that ends it and
// gives the connection back. Nil, without an error, when tx is not a
// report's or no connection is to be had at once: then tx does the work
// alone. The pool is not waited on for long, so that reports holding one
// connection each never wait on one another for a second.
func (tx *Tx) beside(ctx context.Context) (*Tx, func(), error) {
	if tx.db == nil {
		return nil, nil, nil
	}
	if st := tx.db.Stats(); st.MaxOpenConnections > 0 && st.InUse >= st.MaxOpenConnections {
		return nil, nil, nil
	}
	var snapshot string
	if err := tx.GetContext(ctx, &snapshot, `SELECT pg_export_snapshot()`); err != nil {
		return nil, nil, err
	}
	if tx.db.split != nil && tx.db.split.hook != nil {
		tx.db.split.hook()
	}
	wait, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
	conn, err := tx.db.Connx(wait)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, nil
	}
	t, err := conn.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	done := func() {
		_ = t.Rollback()
		_ = conn.Close()
	}
	side := &Tx{Tx: t}
	if _, err := side.ExecContext(ctx, `SET TRANSACTION SNAPSHOT `+pq.QuoteLiteral(snapshot)); err != nil {
		done()
		return nil, nil, err
	}
	if err := tuneReport(ctx, side); err != nil {
		done()
		return nil, nil, err
	}
	return side, done, nil
}

// withDrawn sets the sample's counts of drawn on the active counts of
// groups, village and doctor by village and doctor.
func withDrawn(groups, drawn []rates.Group) error {
	type key struct{ village, doctor string }
	idx := make(map[key]int, len(groups))
	for i, g := range groups {
		idx[key{g.Village, g.Doctor}] = i
	}
	for _, d := range drawn {
		i, ok := idx[key{d.Village, d.Doctor}]
		if !ok {
			return fmt.Errorf("rates: drawn group %s/%s has no count", d.Village, d.Doctor)
		}
		groups[i].Sampled, groups[i].Qualified, groups[i].Used = d.Sampled, d.Qualified, d.Used
	}
	return nil
}

// RecordResult is one sampled record in a drill-down: the rules it breaks and
// whether it has a dynamic record in the usage window, and — for callers who
// may read the record — who it is.
type RecordResult struct {
	RecordID    string      `json:"record_id" db:"record_id"`
	Stratum     string      `json:"-" db:"stratum"`
	VillageCode string      `json:"village_code" db:"village_code"`
	Doctor      string      `json:"responsible_doctor" db:"doctor"`
	Failures    quality.Set `json:"rules" db:"failures"`
	HasDynamic  bool        `json:"has_dynamic_record" db:"has_dynamic"`
	// UsageReason says why a record with dynamic records in the window is
	// not used: none conforms (UsageReasons); for callers who may read it.
	UsageReason string         `json:"usage_reason,omitempty" db:"-"`
	Details     *RecordDetails `json:"details,omitempty" db:"-"`
}

// RecordDetails are the personal details a drill-down shows to callers who
// may read the record.
type RecordDetails struct {
	Name      string     `json:"name" db:"name"`
	Sex       string     `json:"sex" db:"sex"`
	BirthDate civil.Date `json:"birth_date" db:"birth_date"`
	IDNumber  string     `json:"id_number" db:"id_number"`
	Phone     string     `json:"phone" db:"phone"`
	// Institution is the record's institution, for deciding who may see it.
	Institution string `json:"-" db:"institution"`
}

// DrillFilter selects a drill-down: the records of one scope's sample that
// fail a rule (Quality), have no dynamic record in the window (Usage), or
// either (empty Indicator).
type DrillFilter struct {
	Level     rates.Level
	ScopeCode string
	Indicator rates.Indicator
	Page      Page
}

// scopeCondition is the SQL condition (on records r) for a scope, using
// argument $n for its code.
func scopeCondition(l rates.Level, n int) string {
	switch l {
	case rates.Doctor:
		return fmt.Sprintf("r.responsible_doctor = $%d", n)
	case rates.Institution:
		return fmt.Sprintf("r.village_code IN (SELECT code FROM regions WHERE level = 'village' AND institution_code = $%d)", n)
	case rates.Township:
		return fmt.Sprintf("r.village_code BETWEEN $%d || '000' AND $%d || '999'", n, n)
	}
	return fmt.Sprintf("r.village_code BETWEEN $%d || '000000' AND $%d || '999999'", n, n)
}

// drill returns a CTE body — every sampled record of the filter's scope with
// the rules it breaks as of p.AsOf and whether it has a dynamic record in the
// window — and its arguments $1–$10 (drillArgs). For a numeric sample it
// first counts the active records of the draw groups with records in the
// scope, to plan their draw; the groups are drawn whole (as in the report),
// then cut to the scope.
func drill(ctx context.Context, tx *Tx, county string, p rates.Params, f DrillFilter) (string, []any, error) {
	return drillCounted(ctx, tx, county, p, f, nil)
}

// drillCounted is drill with the county's active counts as of p.AsOf
// (activeCounts) when the caller has them already.
func drillCounted(ctx context.Context, tx *Tx, county string, p rates.Params, f DrillFilter, active []rates.Group) (string, []any, error) {
	lo, hi := countyRange(county)
	where := "r.village_code BETWEEN $8 AND $9 AND " + scopeCondition(f.Level, 10)
	// Every record active at the date, with its doctor then.
	from := "(SELECT " + drawnColumnsAt + " FROM records r WHERE r.village_code BETWEEN $8 AND $9 AND " + activeAt + ") r"
	if f.Level == rates.Doctor || f.Level == rates.County {
		// The records whose doctor then is their doctor now read their
		// doctor as it is: for a doctor, an index-only range of
		// records_draw (its stratum is the doctor, and it carries every
		// column read here) instead of a heap fetch per record scattered
		// over the table; for the county, a scan of that index instead of
		// the table. Those handed over after the date are few and fetched
		// apart. (An institution's or township's villages are a join the
		// planner keeps index-led only on the single scan above.)
		now := "r.village_code BETWEEN $8 AND $9 AND " + activeAt + " AND NOT (r.record_id = ANY(" + handedAfter + "))"
		if f.Level == rates.Doctor {
			now = stratum + " = $10 AND r.responsible_doctor = $10 AND " + now
		}
		from = `((SELECT ` + drawnColumns + ` FROM records r WHERE ` + now + `)
			UNION ALL
			(SELECT ` + drawnColumnsAt + ` FROM records r WHERE r.record_id = ANY(` + handedAfter + `)
				AND r.village_code BETWEEN $8 AND $9 AND ` + activeAt + `)) r`
	}
	var plan drawPlan
	if p.Sample != rates.All {
		groups := slices.Clone(active)
		if groups == nil {
			var err error
			if groups, err = activeCounts(ctx, tx, county, p.AsOf); err != nil {
				return "", nil, err
			}
		}
		if f.Level != rates.County {
			// Only the draw groups with records in the scope.
			var strata []string
			pre := "r.village_code BETWEEN $2 AND $3 AND " + activeAt
			if f.Level == rates.Doctor {
				pre += " AND (r.responsible_doctor = $4 OR r.record_id = ANY(" + handedAfter + "))"
			}
			if err := tx.SelectContext(ctx, &strata, `SELECT DISTINCT `+stratum+` FROM (SELECT `+drawnColumnsAt+` FROM records r
				WHERE `+pre+`) r WHERE `+scopeCondition(f.Level, 4), p.AsOf, lo, hi, f.ScopeCode); err != nil {
				return "", nil, err
			}
			in := make(map[string]bool, len(strata))
			for _, s := range strata {
				in[s] = true
			}
			kept := groups[:0]
			for _, g := range groups {
				if in[stratumOf(g.Village, g.Doctor)] {
					kept = append(kept, g)
				}
			}
			groups = kept
		}
		plan = planDraw(groups, p.Seed)
		handed, err := handedOver(ctx, tx, p.AsOf)
		if err != nil {
			return "", nil, err
		}
		from = drawn(handed)
	}
	body := `SELECT r.record_id, r.village_code, COALESCE(r.responsible_doctor, '') AS doctor, ` + stratum + ` AS stratum,
			(r.quality_failures
				| CASE WHEN r.birth_date > $1 THEN 4 ELSE 0 END
				| CASE x.exam WHEN true THEN 0 WHEN false THEN 1024 ELSE 512 END)::int AS failures,
			x.used AS has_dynamic
		FROM ` + from + `
		CROSS JOIN LATERAL (SELECT ` + examAsOf + ` AS exam, ` + usedAsOf + ` AS used) x
		WHERE ` + where
	args := append(append([]any{p.AsOf, p.Seed, int(p.Sample)}, plan.args()...), lo, hi, f.ScopeCode)
	return body, args, nil
}

// drillArgs types the arguments of drill, which not every drill-down uses.
const drillArgs = `args AS (SELECT $1::date, $2::bigint, $3::int, $4::text[], $5::text[], $6::text[], $7::int[], $8::text, $9::text, $10::text)`

// RateRecords lists the sampled records of one scope that fail a rule or
// have no dynamic record in the window, nearest fix first: fewest things to
// fix (rules broken, plus one for no dynamic record), then record ID. The
// draw is the report's: the same parameters give the same records.
func (db *DB) RateRecords(ctx context.Context, county string, p rates.Params, f DrillFilter) ([]RecordResult, int, error) {
	filter := "(r.failures <> 0 OR NOT r.has_dynamic)"
	switch f.Indicator {
	case rates.Quality:
		filter = "r.failures <> 0"
	case rates.Usage:
		filter = "NOT r.has_dynamic"
	}
	var rows []struct {
		RecordResult
		Total int `db:"total"`
	}
	total := 0
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		results, args, err := drill(ctx, tx, county, p, f)
		if err != nil {
			return err
		}
		err = tx.SelectContext(ctx, &rows, `WITH `+drillArgs+`, results AS (`+results+`)
			SELECT r.*, count(*) OVER () AS total FROM results r WHERE `+filter+`
			ORDER BY bit_count(r.failures::bit(16)) + CASE WHEN r.has_dynamic THEN 0 ELSE 1 END, r.record_id
			LIMIT $11 OFFSET $12`, append(args, f.Page.Limit(), f.Page.Offset())...)
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			total = rows[0].Total
			return nil
		}
		// Past the last page: the window had no row to count on.
		return tx.GetContext(ctx, &total, `WITH `+drillArgs+`, results AS (`+results+`) SELECT count(*) FROM results r WHERE `+filter, args...)
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]RecordResult, len(rows))
	for i, r := range rows {
		out[i] = r.RecordResult
	}
	return out, total, nil
}

// RecordDetailsOf returns the personal details of records, by ID.
func (db *DB) RecordDetailsOf(ctx context.Context, ids []string) (map[string]*RecordDetails, error) {
	var rows []struct {
		ID string `db:"record_id"`
		RecordDetails
	}
	err := db.SelectContext(ctx, &rows, `SELECT r.record_id, r.name, COALESCE(r.sex, '') AS sex, r.birth_date,
		COALESCE(r.id_number, '') AS id_number, r.phone, COALESCE(v.institution_code, '') AS institution
		FROM records r JOIN regions v ON v.code = r.village_code WHERE r.record_id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]*RecordDetails, len(rows))
	for i := range rows {
		out[rows[i].ID] = &rows[i].RecordDetails
	}
	return out, nil
}

// Targets returns a county's targets, or the defaults when none are set.
func (db *DB) Targets(ctx context.Context, county string) (rates.Targets, error) {
	return targets(ctx, db, county)
}

func targets(ctx context.Context, q sqlx.QueryerContext, county string) (rates.Targets, error) {
	var row struct {
		Coverage string `db:"coverage"`
		Quality  string `db:"quality"`
		Usage    string `db:"usage"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT coverage::text, quality::text, usage::text FROM rate_targets WHERE county_code = $1`, county)
	if err == sql.ErrNoRows {
		return rates.DefaultTargets, nil
	}
	if err != nil {
		return rates.Targets{}, translate(err)
	}
	var t rates.Targets
	for _, x := range []struct {
		s string
		p *rates.Percent
	}{{row.Coverage, &t.Coverage}, {row.Quality, &t.Quality}, {row.Usage, &t.Usage}} {
		v, err := rates.ParsePercent(x.s)
		if err != nil {
			return rates.Targets{}, fmt.Errorf("stored target %q: %w", x.s, err)
		}
		*x.p = v
	}
	return t, nil
}

// SetTargets stores a county's targets.
func (db *DB) SetTargets(ctx context.Context, actor, county string, t rates.Targets) error {
	if err := t.Validate(); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `INSERT INTO rate_targets (county_code, coverage, quality, usage, updated_by)
		VALUES ($1, $2::numeric, $3::numeric, $4::numeric, $5)
		ON CONFLICT (county_code) DO UPDATE SET coverage = EXCLUDED.coverage, quality = EXCLUDED.quality,
			usage = EXCLUDED.usage, updated_at = now(), updated_by = EXCLUDED.updated_by`,
		county, t.Coverage.String(), t.Quality.String(), t.Usage.String(), actor)
	return translate(err)
}

// Report computes a county's report with its targets, in one consistent view
// of the data. Returns NotFound for an unknown county.
func (db *DB) Report(ctx context.Context, county string, p rates.Params) (*rates.Report, error) {
	var r *rates.Report
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		d, err := rateData(ctx, tx, county, p)
		if err != nil {
			return err
		}
		t, err := targets(ctx, tx, county)
		if err != nil {
			return err
		}
		r = rates.Compute(p, t, d, db.Now())
		return nil
	})
	return r, err
}
