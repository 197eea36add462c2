package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/notify"
	"healthrec/internal/rates"
	"healthrec/internal/review"
)

// SnapshotInfo describes a published report.
type SnapshotInfo struct {
	ID          int64               `json:"id" db:"id"`
	CountyCode  string              `json:"county_code" db:"county_code"`
	Kind        review.SnapshotKind `json:"kind" db:"kind"`
	Title       string              `json:"title" db:"title"`
	AsOf        civil.Date          `json:"as_of" db:"as_of"`
	Sample      rates.Sample        `json:"sample" db:"sample"`
	Seed        int64               `json:"seed" db:"seed"`
	PublishedAt time.Time           `json:"published_at" db:"published_at"`
	PublishedBy string              `json:"published_by" db:"published_by"`
	Warnings    int                 `json:"warnings" db:"warnings"`
	Sampled     int                 `json:"sampled_records" db:"sampled"`
	// Supersedes is the snapshot this one corrects, with the reason;
	// SupersededBy the one that corrected this one (nil while in force).
	Supersedes      *int64 `json:"supersedes" db:"supersedes"`
	SupersedeReason string `json:"supersede_reason,omitempty" db:"supersede_reason"`
	SupersededBy    *int64 `json:"superseded_by" db:"superseded_by"`
	// RuleSet names the quality rules the snapshot was computed with.
	RuleSet string `json:"rule_set" db:"rule_set"`
}

// Publication is what a publisher says about a snapshot besides the report's
// parameters: its kind and title, and for a correction the snapshot it
// supersedes and why.
type Publication struct {
	Kind       review.SnapshotKind
	Title      string
	Supersedes *int64
	Reason     string
}

// currentSnapshot returns the snapshot in force for a county, kind and
// as-of date, or 0.
func currentSnapshot(ctx context.Context, q sqlx.QueryerContext, county string, kind review.SnapshotKind, asOf civil.Date) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT s.id FROM rate_snapshots s
		WHERE s.county_code = $1 AND s.kind = $2 AND s.as_of = $3
		  AND NOT EXISTS (SELECT 1 FROM rate_snapshots n WHERE n.supersedes = s.id)`, county, kind, asOf)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// CurrentSnapshot returns the ID of the snapshot in force for a county, kind
// and as-of date, or 0 when there is none.
func (db *DB) CurrentSnapshot(ctx context.Context, county string, kind review.SnapshotKind, asOf civil.Date) (int64, error) {
	id, err := currentSnapshot(ctx, db.DB, county, kind, asOf)
	return id, translate(err)
}

// errSnapshotExists is the 409 for a second publish of a county, kind and
// as-of date: it names the snapshot in force, which a correction supersedes.
func errSnapshotExists(id int64, kind review.SnapshotKind, asOf civil.Date) error {
	return apperr.Conflictf("本县 %s 的%s快照已发布（快照 %d）；如需更正，请以 supersedes=%d 并写明理由重新发布", asOf, kind.Chinese(), id, id).
		With("existing_snapshot_id", id)
}

// checkPublication checks the kind, and that a correction supersedes the
// snapshot in force for the same county, kind and date with a reason; a
// publish without supersedes needs there to be none. Invalid or Conflict.
func checkPublication(ctx context.Context, tx *Tx, county string, pub Publication, asOf civil.Date) error {
	var fe apperr.FieldErrors
	if !pub.Kind.Valid() {
		fe.Add("kind", "快照类型应为 pre_assessment（预考核）或 assessment（考核）")
	}
	if pub.Supersedes == nil && pub.Reason != "" {
		fe.Add("reason", "只有更正（supersedes）时需要理由")
	}
	if pub.Supersedes != nil && pub.Reason == "" {
		fe.Add("reason", "更正已发布的快照须写明理由")
	}
	if len([]rune(pub.Reason)) > 2000 {
		fe.Add("reason", "理由最多 2000 字")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	current, err := currentSnapshot(ctx, tx, county, pub.Kind, asOf)
	if err != nil {
		return err
	}
	if pub.Supersedes == nil {
		if current != 0 {
			return errSnapshotExists(current, pub.Kind, asOf)
		}
		return nil
	}
	var old SnapshotInfo
	if err := tx.GetContext(ctx, &old, `SELECT id, county_code, kind, as_of FROM rate_snapshots WHERE id = $1`, *pub.Supersedes); err != nil {
		if apperr.CodeOf(translate(err)) == apperr.NotFound {
			return apperr.InvalidField("supersedes", fmt.Sprintf("快照 %d 不存在", *pub.Supersedes))
		}
		return err
	}
	if old.CountyCode != county || old.Kind != pub.Kind || old.AsOf != asOf {
		return apperr.InvalidField("supersedes", fmt.Sprintf("快照 %d 是县 %s %s 的%s快照，与本次发布的县、类型或截止日不同",
			old.ID, old.CountyCode, old.AsOf, old.Kind.Chinese()))
	}
	if current != old.ID {
		return apperr.Conflictf("快照 %d 已被快照 %d 取代，只能更正现行的快照", old.ID, current).With("existing_snapshot_id", current)
	}
	return nil
}

// Snapshot is a published report, frozen.
type Snapshot struct {
	SnapshotInfo
	Report *rates.Report `json:"report"`
	// Proposed is, on publishing, the cases the review proposed or added
	// the snapshot's figures to.
	Proposed []review.Case `json:"-"`
}

// PublishSnapshot computes a county's report and freezes it: the report as
// published, its rows, and every sampled record with the rules it broke and
// whether it had a dynamic record, all from one view of the data. Nothing
// later changes them (the tables refuse UPDATE and DELETE).
//
// A county has at most one snapshot per kind and as-of date in force: a
// second publish is a Conflict naming the first, and a correction names the
// one it supersedes with a reason. In the same transaction the snapshot is
// registered with the accountability review, which may propose cases.
func (db *DB) PublishSnapshot(ctx context.Context, actor, county string, pub Publication, p rates.Params) (*Snapshot, error) {
	var out *Snapshot
	t, err := db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, translate(err)
	}
	defer t.Rollback()
	tx := &Tx{Tx: t} // unprepared: a report's plans follow its parameters
	err = func() error {
		if err := checkPublication(ctx, tx, county, pub, p.AsOf); err != nil {
			return err
		}
		if err := tuneReport(ctx, tx); err != nil {
			return err
		}
		// A sampled snapshot freezes its draw while it counts it: the
		// records are drawn once, not once for the figures and again for
		// the records (the foreign key to the snapshot, not inserted yet,
		// is checked at commit).
		var id sql.NullInt64
		var frozen int
		groupsOf := rateGroups
		if p.Sample != rates.All {
			if err := tx.GetContext(ctx, &id, `SELECT nextval('rate_snapshots_id_seq')`); err != nil {
				return err
			}
			groupsOf = func(ctx context.Context, tx *Tx, county string, p rates.Params) ([]rates.Group, error) {
				groups, n, err := freezeSample(ctx, tx, id.Int64, county, p)
				frozen = n
				return groups, err
			}
		}
		d, err := rateDataWith(ctx, tx, county, p, groupsOf)
		if err != nil {
			return err
		}
		t, err := targets(ctx, tx, county)
		if err != nil {
			return err
		}
		r := rates.Compute(p, t, d, db.Now())
		r.Kind = string(pub.Kind)
		body, err := json.Marshal(r)
		if err != nil {
			return err
		}
		var sample *int
		if p.Sample != rates.All {
			n := int(p.Sample)
			sample = &n
		}
		info := SnapshotInfo{CountyCode: county, Kind: pub.Kind, Title: pub.Title, AsOf: p.AsOf, Sample: p.Sample, Seed: p.Seed,
			PublishedBy: actor, Warnings: len(r.Warnings), Supersedes: pub.Supersedes, SupersedeReason: pub.Reason}
		if err := tx.GetContext(ctx, &info, `INSERT INTO rate_snapshots (id, county_code, kind, title, as_of, sample, seed, report,
				published_at, published_by, supersedes, supersede_reason, rule_set)
			VALUES (COALESCE($12, nextval('rate_snapshots_id_seq')), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13) RETURNING id, published_at, rule_set`,
			county, pub.Kind, pub.Title, p.AsOf, sample, p.Seed, string(body), r.ComputedAt, actor, pub.Supersedes, pub.Reason, id, r.RuleSet); err != nil {
			return err
		}
		if err := insertSnapshotRows(ctx, tx, info.ID, r.Rows); err != nil {
			return err
		}
		info.Sampled = frozen
		if p.Sample == rates.All {
			// The whole population: the figures came from the counters,
			// the records are read here.
			results, args, err := drill(ctx, tx, county, p, DrillFilter{Level: rates.County, ScopeCode: county})
			if err != nil {
				return err
			}
			if err := setFreezeMemory(ctx, tx); err != nil {
				return err
			}
			if err := tx.GetContext(ctx, &info.Sampled, `WITH `+drillArgs+`, frozen AS (`+freezeSQL+`
				FROM (`+results+`) r GROUP BY r.stratum, r.village_code RETURNING records)
				SELECT COALESCE(sum(records), 0) FROM frozen`, append(args, info.ID)...); err != nil {
				return err
			}
		}
		out = &Snapshot{SnapshotInfo: info, Report: r}
		out.Proposed, err = registerSnapshot(ctx, tx, db.SMS, db.Now(), &info, r)
		return err
	}()
	if err == nil {
		err = tx.Commit()
	}
	if isUniqueViolation(err, "rate_snapshots_first", "rate_snapshots_superseded_once") {
		// A concurrent publish of the same county, kind and date won.
		if id, lerr := db.CurrentSnapshot(ctx, county, pub.Kind, p.AsOf); lerr == nil && id != 0 {
			return nil, errSnapshotExists(id, pub.Kind, p.AsOf)
		}
		return nil, apperr.Conflictf("本县 %s 的%s快照刚刚由他人发布，请刷新后再试", p.AsOf, pub.Kind.Chinese())
	}
	if err != nil {
		return nil, translate(err)
	}
	return out, nil
}

// freezeSample draws a county's sample as of p.AsOf, freezes it as the
// records of snapshot id and returns the counts per village and doctor that
// the report is computed from, with the number of records frozen. The
// counts are those of rateGroups: a drawn record is qualified when it
// breaks no rule (drill's failures, Q3's birth date and Q10–Q11's exam
// included), used when it has a dynamic record.
func freezeSample(ctx context.Context, tx *Tx, id int64, county string, p rates.Params) ([]rates.Group, int, error) {
	active, err := activeCounts(ctx, tx, county, p.AsOf)
	if err != nil {
		return nil, 0, err
	}
	results, args, err := drillCounted(ctx, tx, county, p, DrillFilter{Level: rates.County, ScopeCode: county}, active)
	if err != nil {
		return nil, 0, err
	}
	if err := setFreezeMemory(ctx, tx); err != nil {
		return nil, 0, err
	}
	var drawn []struct {
		rates.Group
		Frozen int `db:"frozen"`
	}
	if err := tx.SelectContext(ctx, &drawn, `WITH `+drillArgs+`, results AS MATERIALIZED (`+results+`),
		frozen AS (`+freezeSQL+` FROM results r GROUP BY r.stratum, r.village_code RETURNING records)
		SELECT r.village_code AS village, r.doctor, count(*) AS sampled, count(*) FILTER (WHERE r.failures = 0) AS qualified,
			count(*) FILTER (WHERE r.has_dynamic) AS used, (SELECT COALESCE(sum(records), 0) FROM frozen) AS frozen
		FROM results r GROUP BY r.village_code, r.doctor`, append(args, id)...); err != nil {
		return nil, 0, err
	}
	groups, frozen := make([]rates.Group, len(drawn)), 0
	for i, d := range drawn {
		groups[i], frozen = d.Group, d.Frozen
	}
	return active, frozen, withDrawn(active, groups)
}

// freezeSQL inserts a snapshot's ($11) records from the drill-down rows r,
// one row per draw group and village (migration 00023): the aggregates of
// one pass see the rows in the same order, so the arrays stay aligned.
const freezeSQL = `INSERT INTO rate_snapshot_samples (snapshot_id, stratum, village_code, records, record_ids, failures, has_dynamic)
	SELECT $11, r.stratum, r.village_code, count(*), array_agg(r.record_id), array_agg(r.failures::smallint), array_agg(r.has_dynamic)`

// setFreezeMemory lets a freeze group a county in memory: a sample=all
// holds its 970,000 records at once, and with the report's 64 MB the
// grouping spilled to disk.
func setFreezeMemory(ctx context.Context, tx *Tx) error {
	_, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '256MB'`)
	return err
}

// isUniqueViolation reports whether err is a unique violation of one of the
// named constraints or indexes.
func isUniqueViolation(err error, names ...string) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505" && slices.Contains(names, pe.Constraint)
}

func insertSnapshotRows(ctx context.Context, tx *Tx, id int64, rows []rates.Row) error {
	n := len(rows)
	level, code, name, ind := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	num, den, rank := make([]int64, n), make([]int64, n), make([]sql.NullInt64, n)
	rate, target, gap := make([]sql.NullString, n), make([]string, n), make([]sql.NullString, n)
	bottom, warn := make([]bool, n), make([]bool, n)
	for i, r := range rows {
		level[i], code[i], name[i], ind[i] = string(r.Level), r.ScopeCode, r.ScopeName, string(r.Indicator)
		num[i], den[i], target[i] = int64(r.Numerator), int64(r.Denominator), r.Target.String()
		if r.Rate != nil {
			rate[i] = sql.NullString{String: r.Rate.String(), Valid: true}
			gap[i] = sql.NullString{String: r.Gap.String(), Valid: true}
		}
		if r.Rank != nil {
			rank[i] = sql.NullInt64{Int64: int64(*r.Rank), Valid: true}
		}
		bottom[i], warn[i] = r.BottomThree, r.Warning
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO rate_snapshot_rows (snapshot_id, level, scope_code, scope_name, indicator,
		numerator, denominator, rate, target, gap, rank, bottom_three, warning)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::numeric[],
			$9::numeric[], $10::numeric[], $11::int[], $12::bool[], $13::bool[])`,
		id, pq.Array(level), pq.Array(code), pq.Array(name), pq.Array(ind), pq.Array(num), pq.Array(den), pq.Array(rate),
		pq.Array(target), pq.Array(gap), pq.Array(rank), pq.Array(bottom), pq.Array(warn))
	return err
}

const snapshotInfoColumns = `s.id, s.county_code, s.kind, s.title, s.as_of, COALESCE(s.sample, 0) AS sample, s.seed, s.published_at, s.published_by,
	jsonb_array_length(s.report -> 'warnings') AS warnings,
	(SELECT COALESCE(sum(x.records), 0) FROM rate_snapshot_samples x WHERE x.snapshot_id = s.id) AS sampled,
	s.supersedes, s.supersede_reason, (SELECT n.id FROM rate_snapshots n WHERE n.supersedes = s.id) AS superseded_by, s.rule_set`

// Snapshots lists the published reports of counties, newest as-of date first.
func (db *DB) Snapshots(ctx context.Context, counties []string, page Page) ([]SnapshotInfo, int, error) {
	out := []SnapshotInfo{}
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM rate_snapshots WHERE county_code = ANY($1)`, pq.Array(counties)); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, `SELECT `+snapshotInfoColumns+` FROM rate_snapshots s
			WHERE s.county_code = ANY($1) ORDER BY s.as_of DESC, s.id DESC LIMIT $2 OFFSET $3`,
			pq.Array(counties), page.Limit(), page.Offset())
	})
	return out, total, err
}

// Snapshot returns a published report. Returns NotFound.
func (db *DB) Snapshot(ctx context.Context, id int64) (*Snapshot, error) {
	var row struct {
		SnapshotInfo
		Report []byte `db:"report"`
	}
	if err := db.GetContext(ctx, &row, `SELECT `+snapshotInfoColumns+`, s.report FROM rate_snapshots s WHERE s.id = $1`, id); err != nil {
		return nil, notFound(err, "快照 %d 不存在", id)
	}
	out := &Snapshot{SnapshotInfo: row.SnapshotInfo, Report: &rates.Report{}}
	if err := json.Unmarshal(row.Report, out.Report); err != nil {
		return nil, err
	}
	// Snapshots published before the rule set was recorded have it only
	// in their row.
	out.Report.RuleSet = row.RuleSet
	return out, nil
}

// TrendPoint is one scope's figure for one indicator in one snapshot.
type TrendPoint struct {
	SnapshotID  int64          `json:"snapshot_id" db:"snapshot_id"`
	AsOf        civil.Date     `json:"as_of" db:"as_of"`
	Title       string         `json:"title" db:"title"`
	Indicator   string         `json:"-" db:"indicator"`
	ScopeName   string         `json:"-" db:"scope_name"`
	Numerator   int            `json:"numerator" db:"numerator"`
	Denominator int            `json:"denominator" db:"denominator"`
	Rate        *rates.Percent `json:"rate" db:"rate"`
	Target      rates.Percent  `json:"target" db:"target"`
	Gap         *rates.Percent `json:"gap" db:"gap"`
	Rank        *int           `json:"rank" db:"rank"`
	BottomThree bool           `json:"bottom_three" db:"bottom_three"`
	Warning     bool           `json:"warning" db:"warning"`
}

// Trend is a scope's rates over the published snapshots of its county, one
// line per indicator, oldest first.
type Trend struct {
	Level      rates.Level                      `json:"level"`
	ScopeCode  string                           `json:"scope_code"`
	ScopeName  string                           `json:"scope_name"`
	Indicators map[rates.Indicator][]TrendPoint `json:"indicators"`
}

// Trends returns a scope's trend over a county's snapshots.
func (db *DB) Trends(ctx context.Context, county string, level rates.Level, scope string) (*Trend, error) {
	var points []TrendPoint
	err := db.SelectContext(ctx, &points, `SELECT s.id AS snapshot_id, s.as_of, s.title, r.indicator, r.scope_name,
		r.numerator, r.denominator, r.rate::text AS rate, r.target::text AS target, r.gap::text AS gap, r.rank, r.bottom_three, r.warning
		FROM rate_snapshot_rows r JOIN rate_snapshots s ON s.id = r.snapshot_id
		WHERE s.county_code = $1 AND r.level = $2 AND r.scope_code = $3
		  AND NOT EXISTS (SELECT 1 FROM rate_snapshots n WHERE n.supersedes = s.id)
		ORDER BY s.as_of, s.id`, county, level, scope)
	if err != nil {
		return nil, translate(err)
	}
	out := &Trend{Level: level, ScopeCode: scope, Indicators: map[rates.Indicator][]TrendPoint{}}
	for _, i := range rates.Indicators {
		out.Indicators[i] = []TrendPoint{}
	}
	for _, p := range points {
		out.ScopeName = p.ScopeName
		out.Indicators[rates.Indicator(p.Indicator)] = append(out.Indicators[rates.Indicator(p.Indicator)], p)
	}
	return out, nil
}

// SnapshotRecordIDs lists a snapshot's sampled records, for checking that
// a snapshot stays frozen.
func (db *DB) SnapshotRecordIDs(ctx context.Context, id int64) ([]string, error) {
	out := []string{}
	err := db.SelectContext(ctx, &out, `SELECT record_id FROM rate_snapshot_records WHERE snapshot_id = $1 ORDER BY record_id`, id)
	return out, translate(err)
}

// Scope names a report scope for access checks: its name, its county and,
// for a doctor, their institution. Returns NotFound for an unknown scope.
type ScopeInfo struct {
	Name        string `db:"name"`
	County      string `db:"county"`
	Institution string `db:"institution"`
}

// RateScope resolves a scope of a level.
func (db *DB) RateScope(ctx context.Context, l rates.Level, code string) (*ScopeInfo, error) {
	var s ScopeInfo
	var err error
	switch l {
	case rates.Doctor:
		err = db.GetContext(ctx, &s, `SELECT st.name, COALESCE(i.county_code, '') AS county, COALESCE(st.institution_code, '') AS institution
			FROM staff st LEFT JOIN institutions i ON i.code = st.institution_code WHERE st.code = $1`, code)
	case rates.Institution:
		err = db.GetContext(ctx, &s, `SELECT name, county_code AS county, code AS institution FROM institutions WHERE code = $1`, code)
	case rates.Township, rates.County:
		err = db.GetContext(ctx, &s, `SELECT name, substr(code, 1, 6) AS county, '' AS institution FROM regions WHERE code = $1 AND level = $2`, code, string(l))
	default:
		return nil, apperr.InvalidField("level", "未知层级")
	}
	if err != nil {
		return nil, notFound(err, "%s %s 不存在", l.Chinese(), code)
	}
	return &s, nil
}

// registerSnapshot hands a snapshot being published to the review, in the
// publishing transaction: a correction marks the one it supersedes, and an
// assessment proposes its cases (DESIGN §7.1).
func registerSnapshot(ctx context.Context, tx *Tx, sms bool, now time.Time, info *SnapshotInfo, r *rates.Report) ([]review.Case, error) {
	if info.Supersedes != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE review_snapshots SET superseded = true WHERE snapshot_id = $1`,
			strconv.FormatInt(*info.Supersedes, 10)); err != nil {
			return nil, err
		}
	}
	if err := deliverWarnings(ctx, tx, sms, now, info, r); err != nil {
		return nil, err
	}
	a := review.Assessment{SnapshotID: strconv.FormatInt(info.ID, 10), County: info.CountyCode, Kind: info.Kind,
		PublishedAt: info.PublishedAt, Figures: reviewFigures(r.Rows)}
	return proposeTx(ctx, tx, sms, now, a)
}

// deliverWarnings sends each warned doctor, and each warned institution's
// records administrators, one message per snapshot naming every indicator
// with its figures and gap, with the way to the records to fix (DESIGN
// §5.7). Either kind of snapshot warns.
func deliverWarnings(ctx context.Context, tx *Tx, sms bool, now time.Time, info *SnapshotInfo, r *rates.Report) error {
	type scope struct{ level, code string }
	var order []scope
	byScope := map[scope][]rates.Warning{}
	for _, w := range r.Warnings {
		if w.Level != rates.Doctor && w.Level != rates.Institution {
			continue
		}
		k := scope{string(w.Level), w.ScopeCode}
		if byScope[k] == nil {
			order = append(order, k)
		}
		byScope[k] = append(byScope[k], w)
	}
	var ns []notification
	for _, k := range order {
		ws := byScope[k]
		var recipients []string
		link := "/#/my" + "?as_of=" + info.AsOf.String()
		if k.level == string(rates.Doctor) {
			recipients = []string{k.code}
		} else {
			var err error
			if recipients, err = recordsAdmins(ctx, tx, k.code); err != nil {
				return err
			}
			link += "&level=institution&scope_code=" + k.code
		}
		m := notify.Message{Kind: notify.KindWarning, Key: fmt.Sprintf("warning:%d:%s:%s", info.ID, k.level, k.code),
			Title: fmt.Sprintf("%s预警：%s %s", info.Kind.Chinese(), ws[0].ScopeName, info.AsOf), Link: link,
			Details: notify.Details{"snapshot_id": info.ID, "kind": info.Kind, "as_of": info.AsOf, "level": k.level, "scope_code": k.code}}
		var parts []string
		var figures []map[string]any
		for _, w := range ws {
			part := fmt.Sprintf("%s %s%%（目标 %s%%，", w.Indicator.Chinese(), w.Rate, w.Target)
			if w.Gap < 0 {
				part += fmt.Sprintf("差 %s 个百分点", -w.Gap)
			} else {
				part += fmt.Sprintf("高于目标 %s 个百分点", w.Gap)
			}
			if w.BottomThree {
				part += fmt.Sprintf("，全县排名第 %d，处于末三位", w.Rank)
			}
			parts = append(parts, part+"）")
			figures = append(figures, map[string]any{"indicator": w.Indicator, "rate": w.Rate, "target": w.Target, "gap": w.Gap,
				"rank": w.Rank, "bottom_three": w.BottomThree})
		}
		m.Body = strings.Join(parts, "；") + "。请打开“我的考核”查看需修正的档案。"
		m.Details["figures"] = figures
		ns = append(ns, notification{m, recipients})
	}
	return notifyEach(ctx, tx, sms, now, ns...)
}

// reviewFigures converts a report's doctor and institution rows to the
// review's figures (rates in tenths of a percent to percent).
func reviewFigures(rows []rates.Row) []review.Warning {
	var out []review.Warning
	pct := func(p *rates.Percent) *float64 {
		if p == nil {
			return nil
		}
		v := float64(*p) / 10
		return &v
	}
	for _, r := range rows {
		if r.Level != rates.Doctor && r.Level != rates.Institution {
			continue
		}
		w := review.Warning{Level: string(r.Level), ScopeCode: r.ScopeCode, ScopeName: r.ScopeName, Indicator: string(r.Indicator),
			Rate: pct(r.Rate), Target: float64(r.Target) / 10, Gap: pct(r.Gap), BottomThree: r.BottomThree}
		if r.Rank != nil {
			w.Rank = *r.Rank
		}
		out = append(out, w)
	}
	return out
}
