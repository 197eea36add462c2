package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/rates"
)

// A province over its counties (DESIGN §9; docs/operations.md, "A province
// over its counties"). Each county keeps its own database. It publishes,
// with PostgreSQL logical replication, what a report over its villages is
// summed from: the folded village counters (rate_counts, kind 'v'), its
// regions, institutions, populations and targets, and its heartbeat. A
// province database — the same schema, migrated by `healthrec migrate` —
// subscribes to every county's publication, and its server computes each
// county's report from what it received, exactly as the county computes
// its own (rateData, with the whole population as the sample), and ranks
// the counties, townships and institutions across the province. The
// records, the people and the doctors' counters never leave the county.
//
// The pending changes (rate_changes) are not published: a fold moves them
// into rate_counts every FoldInterval (5 s) on the county's server, and
// rate_counts has a primary key, so its upserts replicate as the inserts
// and updates they are. The province therefore sees a filing within a
// fold and the replication's lag.

// countyCode is a county's code: six digits.
var countyCode = regexp.MustCompile(`^[0-9]{6}$`)

// provinceCode is a province's code: the first two digits of its counties'.
var provinceCode = regexp.MustCompile(`^[0-9]{2}$`)

// PublicationName is the name of a county's publication of its counters.
func PublicationName(county string) string { return "healthrec_counters_" + county }

// SubscriptionName is the name of the province's subscription to a county
// (and of the replication slot it makes in the county).
func SubscriptionName(county string) string { return "healthrec_" + county }

// publishedTables are the tables a county publishes, each with its row
// filter (only the county's own rows). A row filter may name only columns
// of the table's replica identity: institutions' is FULL (migration 00028)
// for its county_code.
func publishedTables(county string) string {
	c := pq.QuoteLiteral(county)
	return strings.Join([]string{
		"regions WHERE (left(code, 6) = " + c + ")",
		"institutions WHERE (county_code = " + c + ")",
		"village_populations WHERE (left(village_code, 6) = " + c + ")",
		"rate_targets WHERE (county_code = " + c + ")",
		"rate_counts WHERE (county = " + c + " AND kind = 'v')",
		"counter_heartbeats WHERE (county = " + c + ")",
	}, ", ")
}

// PublishCounters sets a county up for its province, connected as a
// superuser to the county's database: it checks wal_level is logical,
// creates (or resets the password of) reader, a role that may only open
// replication connections and read the published tables, adds the
// county's heartbeat row and creates the publication. Running it again
// changes nothing but the password.
func PublishCounters(ctx context.Context, su *sql.DB, county, reader, password string) error {
	if !countyCode.MatchString(county) {
		return apperr.InvalidField("county", "县代码应为 6 位数字")
	}
	var level string
	if err := su.QueryRowContext(ctx, `SHOW wal_level`).Scan(&level); err != nil {
		return err
	}
	if level != "logical" {
		return fmt.Errorf("wal_level is %s: a county that publishes its counters needs wal_level = logical "+
			"(the embedded cluster: HEALTHREC_PUBLISH_COUNTERS=1; a server of your own: ALTER SYSTEM SET wal_level = logical, then restart)", level)
	}
	var n int
	if err := su.QueryRowContext(ctx, `SELECT count(*) FROM regions WHERE code = $1 AND level = 'county'`, county).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.NotFoundf("县 %s 未登记", county)
	}
	tx, err := su.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	role := pq.QuoteIdentifier(reader)
	steps := []string{
		`DO $$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ` + pq.QuoteLiteral(reader) + `) THEN
				CREATE ROLE ` + role + ` LOGIN REPLICATION;
			END IF;
		END $$`,
		`ALTER ROLE ` + role + ` LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ` + pq.QuoteLiteral(password),
		`GRANT CONNECT ON DATABASE ` + pq.QuoteIdentifier(currentDB(ctx, tx)) + ` TO ` + role,
		`GRANT USAGE ON SCHEMA public TO ` + role,
		`GRANT SELECT ON regions, institutions, village_populations, rate_targets, rate_counts, counter_heartbeats TO ` + role,
		`INSERT INTO counter_heartbeats (county) VALUES (` + pq.QuoteLiteral(county) + `) ON CONFLICT (county) DO UPDATE SET beat_at = now()`,
		`DO $$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ` + pq.QuoteLiteral(PublicationName(county)) + `) THEN
				CREATE PUBLICATION ` + pq.QuoteIdentifier(PublicationName(county)) + ` FOR TABLE ` + publishedTables(county) + `;
			END IF;
		END $$`,
	}
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("publish counters: %w", err)
		}
	}
	return tx.Commit()
}

func currentDB(ctx context.Context, tx *sql.Tx) string {
	var name string
	_ = tx.QueryRowContext(ctx, `SELECT current_database()`).Scan(&name)
	return name
}

// SubscribeCounty subscribes the province's database (su, a superuser
// connection: PostgreSQL 15 lets only superusers create subscriptions) to a
// county's publication. conninfo reaches the county's database as the
// reader role of PublishCounters. The county's rows are copied first, then
// streamed.
func SubscribeCounty(ctx context.Context, su *sql.DB, county, conninfo string) error {
	if !countyCode.MatchString(county) {
		return apperr.InvalidField("county", "县代码应为 6 位数字")
	}
	// CREATE SUBSCRIPTION makes its slot on the county, outside any
	// transaction block.
	_, err := su.ExecContext(ctx, `CREATE SUBSCRIPTION `+pq.QuoteIdentifier(SubscriptionName(county))+
		` CONNECTION `+pq.QuoteLiteral(conninfo)+` PUBLICATION `+pq.QuoteIdentifier(PublicationName(county)))
	if err != nil {
		return fmt.Errorf("subscribe to county %s: %w", county, err)
	}
	return nil
}

// BeatCounters stamps the heartbeat of each county this database publishes
// (a row and a publication of PublicationName): the server does it with
// every fold, so the province reads how current a county's counters are.
// In a database that publishes nothing — a county without a province, or
// the province itself, whose rows came from the counties — it writes
// nothing.
func (db *DB) BeatCounters(ctx context.Context) error {
	_, err := db.ExecContext(ctx, `UPDATE counter_heartbeats h SET beat_at = now()
		WHERE EXISTS (SELECT 1 FROM pg_publication p WHERE p.pubname = 'healthrec_counters_' || h.county)`)
	return translate(err)
}

// StaleAfter is how old a county's last heartbeat may be, by default,
// before the province report marks its figures stale: a county beats every
// few seconds while its server runs.
const StaleAfter = time.Minute

// CountyFeed is how current one county's figures are in the province's
// database.
type CountyFeed struct {
	County string `json:"county_code" db:"county"`
	Name   string `json:"county_name" db:"name"`
	// DataAsOf is the county's last heartbeat received: its figures are
	// those of that time or later. Nil when none has arrived.
	DataAsOf *time.Time `json:"data_as_of" db:"beat_at"`
	// AgeSeconds is how old DataAsOf is, by the province's clock.
	AgeSeconds *int64 `json:"age_seconds" db:"age"`
	// Receiving says the subscription's worker is connected to the county
	// now (pg_stat_subscription); LastReceived is its last message.
	Receiving    bool       `json:"receiving" db:"receiving"`
	LastReceived *time.Time `json:"last_received" db:"last_received"`
	// Stale is DataAsOf missing or older than StaleAfter.
	Stale bool `json:"stale" db:"-"`
	// Message says so in words, for a page or a reader of the JSON.
	Message string `json:"message" db:"-"`
}

// countyFeeds lists the province's counties with their data's age, stale
// past staleAfter (StaleAfter when 0).
func countyFeeds(ctx context.Context, tx *Tx, province string, staleAfter time.Duration) ([]CountyFeed, error) {
	if staleAfter <= 0 {
		staleAfter = StaleAfter
	}
	out := []CountyFeed{}
	err := tx.SelectContext(ctx, &out, `SELECT c.code AS county, c.name, h.beat_at,
			floor(extract(epoch FROM clock_timestamp() - h.beat_at))::bigint AS age,
			COALESCE(s.pid IS NOT NULL, false) AS receiving, s.last_msg_receipt_time AS last_received
		FROM regions c
		LEFT JOIN counter_heartbeats h ON h.county = c.code
		LEFT JOIN pg_stat_subscription s ON s.subname = 'healthrec_' || c.code AND s.relid IS NULL
		WHERE c.level = 'county' AND left(c.code, 2) = $1 ORDER BY c.code`, province)
	if err != nil {
		return nil, err
	}
	for i := range out {
		f := &out[i]
		switch {
		case f.DataAsOf == nil:
			f.Stale, f.Message = true, "尚未收到该县的心跳，数据时间未知"
		case time.Duration(*f.AgeSeconds)*time.Second > staleAfter:
			f.Stale = true
			f.Message = fmt.Sprintf("数据截至 %s，已 %s 未更新", f.DataAsOf.Local().Format("2006-01-02 15:04:05"), ageText(*f.AgeSeconds))
		default:
			f.Message = "数据为最新"
		}
		if f.Stale && !f.Receiving {
			f.Message += "（与该县的复制连接已断开）"
		}
	}
	return out, nil
}

// ageText is a duration in Chinese, to the minute past the first minute.
func ageText(sec int64) string {
	switch {
	case sec < 60:
		return fmt.Sprintf("%d 秒", sec)
	case sec < 3600:
		return fmt.Sprintf("%d 分钟", sec/60)
	case sec < 86400:
		return fmt.Sprintf("%d 小时 %d 分钟", sec/3600, sec%3600/60)
	}
	return fmt.Sprintf("%d 天 %d 小时", sec/86400, sec%86400/3600)
}

// CountyFeeds lists a province's counties (province: two digits) with how
// current each one's figures are, stale past staleAfter (StaleAfter when 0).
func (db *DB) CountyFeeds(ctx context.Context, province string, staleAfter time.Duration) ([]CountyFeed, error) {
	if !provinceCode.MatchString(province) {
		return nil, apperr.InvalidField("province_code", "省代码应为 2 位数字")
	}
	var out []CountyFeed
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		var err error
		out, err = countyFeeds(ctx, tx, province, staleAfter)
		return err
	})
	return out, err
}

// ProvinceReport computes the report of a province (two digits) as of
// p.AsOf over every county its database holds, from the counters alone
// (the whole population as the sample: p.Sample must be All), in one
// consistent view, with each county's data age (stale past staleAfter). NotFound when it holds no
// county of the province.
func (db *DB) ProvinceReport(ctx context.Context, province string, p rates.Params, staleAfter time.Duration) (*rates.Report, []CountyFeed, error) {
	if !provinceCode.MatchString(province) {
		return nil, nil, apperr.InvalidField("province_code", "省代码应为 2 位数字")
	}
	if p.Sample != rates.All {
		return nil, nil, apperr.InvalidField("sample", "省级报表按全部在档记录计算，只接受 all")
	}
	var r *rates.Report
	var feeds []CountyFeed
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		var err error
		if feeds, err = countyFeeds(ctx, tx, province, staleAfter); err != nil {
			return err
		}
		if len(feeds) == 0 {
			return apperr.NotFoundf("省 %s 尚无任何县的数据", province)
		}
		data, tgs, err := provinceData(ctx, tx, province, feeds, p)
		if err != nil {
			return err
		}
		now := db.Now()
		reports := make([]*rates.Report, 0, len(feeds))
		for _, f := range feeds {
			reports = append(reports, rates.Compute(p, tgs[f.County], data[f.County], now))
		}
		r = rates.Province(province, "省（"+province+"）", p, reports, now)
		return nil
	})
	return r, feeds, err
}

// provinceData loads what each county's report needs down to its
// institutions (rateData's county, townships, institutions, villages with
// their populations, and the village counters summed as of p.AsOf, as
// countsAsOf), for every county of the province at once: a handful of
// statements instead of a handful per county. The counters are read per
// county (a lateral join over the counties), where the counters' key
// (county, grain, starts, …) narrows each read to the rows the date needs.
// Doctors are left out: their counters are not published.
func provinceData(ctx context.Context, tx *Tx, province string, feeds []CountyFeed, p rates.Params) (map[string]*rates.Data, map[string]rates.Targets, error) {
	data := make(map[string]*rates.Data, len(feeds))
	tgs := make(map[string]rates.Targets, len(feeds))
	codes := make([]string, len(feeds))
	for i, f := range feeds {
		codes[i] = f.County
		data[f.County] = &rates.Data{County: rates.Unit{Code: f.County, Name: f.Name}, Townships: []rates.Unit{},
			Institutions: []rates.Unit{}, Doctors: []rates.Unit{}, Villages: []rates.Village{}, Groups: []rates.Group{}}
		tgs[f.County] = rates.DefaultTargets
	}
	var units []struct {
		County string `db:"county"`
		Kind   string `db:"kind"`
		rates.Unit
	}
	if err := tx.SelectContext(ctx, &units, `SELECT left(code, 6) AS county, 't' AS kind, code, name, '' AS parent FROM regions
			WHERE level = 'township' AND left(code, 2) = $1
		UNION ALL
		SELECT county_code, 'i', code, name, '' FROM institutions WHERE left(county_code, 2) = $1
		ORDER BY 2, 3`, province); err != nil {
		return nil, nil, err
	}
	for _, u := range units {
		if d := data[u.County]; d != nil && u.Kind == "t" {
			d.Townships = append(d.Townships, u.Unit)
		} else if d != nil {
			d.Institutions = append(d.Institutions, u.Unit)
		}
	}
	var villages []struct {
		County string `db:"county"`
		rates.Village
	}
	if err := tx.SelectContext(ctx, &villages, `SELECT left(v.code, 6) AS county, v.code, v.name, v.parent_code AS township,
			COALESCE(v.institution_code, '') AS institution, p.population, '' AS doctor
		FROM regions v LEFT JOIN village_populations p ON p.village_code = v.code AND p.year = $2
		WHERE v.level = 'village' AND left(v.code, 2) = $1 ORDER BY v.code`, province, p.AsOf.Year()); err != nil {
		return nil, nil, err
	}
	for _, v := range villages {
		if d := data[v.County]; d != nil {
			d.Villages = append(d.Villages, v.Village)
		}
	}
	var groups []struct {
		County string `db:"county"`
		rates.Group
	}
	if err := tx.SelectContext(ctx, &groups, `SELECT c.county, x.code AS village, '' AS doctor,
			sum(x.active) AS active, sum(x.active) AS sampled, sum(x.qualified) AS qualified, sum(x.used) AS used
		FROM unnest($1::text[]) c (county) CROSS JOIN LATERAL (
			SELECT code, active, qualified, used FROM rate_counts WHERE county = c.county AND grain = 'y' AND starts < $3 AND kind = 'v'
			UNION ALL
			SELECT code, active, qualified, used FROM rate_counts WHERE county = c.county AND grain = 'm' AND starts >= $3 AND starts < $4 AND kind = 'v'
			UNION ALL
			SELECT code, active, qualified, used FROM rate_counts WHERE county = c.county AND grain = 'd' AND starts >= $4 AND starts <= $2 AND kind = 'v'
			UNION ALL
			SELECT code, active, qualified, used FROM rate_changes WHERE county = c.county AND on_date <= $2 AND kind = 'v'
		) x GROUP BY c.county, x.code HAVING sum(x.active) > 0`, pq.Array(codes), p.AsOf, p.AsOf.YearStart(), p.AsOf.MonthStart()); err != nil {
		return nil, nil, err
	}
	for _, g := range groups {
		if d := data[g.County]; d != nil {
			d.Groups = append(d.Groups, g.Group)
		}
	}
	var rows []struct {
		County   string `db:"county_code"`
		Coverage string `db:"coverage"`
		Quality  string `db:"quality"`
		Usage    string `db:"usage"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT county_code, coverage::text, quality::text, usage::text FROM rate_targets
		WHERE left(county_code, 2) = $1`, province); err != nil {
		return nil, nil, err
	}
	for _, row := range rows {
		var t rates.Targets
		for _, x := range []struct {
			s string
			p *rates.Percent
		}{{row.Coverage, &t.Coverage}, {row.Quality, &t.Quality}, {row.Usage, &t.Usage}} {
			v, err := rates.ParsePercent(x.s)
			if err != nil {
				return nil, nil, fmt.Errorf("stored target %q of %s: %w", x.s, row.County, err)
			}
			*x.p = v
		}
		tgs[row.County] = t
	}
	return data, tgs, nil
}
