package postgres

import (
	"context"
	"fmt"
)

// RateDrift is one stored figure that differs from its definition: a
// record's write-time facts, a village and doctor's count of active records,
// or a rate counter (docs/rates.md, "The consistency check").
type RateDrift struct {
	// Kind is "conformance" (an entry), "facts", "active" or "counter".
	Kind string `db:"kind"`
	// Subject names it: a record ID; a village and doctor; a counter's
	// county, kind, code and date (and grain, for a month or year).
	Subject string `db:"subject"`
	Stored  string `db:"stored"`
	Want    string `db:"want"`
}

func (d RateDrift) String() string {
	return fmt.Sprintf("%s %s: stored %s, by definition %s", d.Kind, d.Subject, d.Stored, d.Want)
}

// driftFacts are the records whose write-time facts (migrations 00003 and
// 00010) differ from their definition over the exams and entries, the view
// record_rate_facts.
const driftFacts = `SELECT 'facts' AS kind, r.record_id AS subject,
		ROW(r.last_exam_date, r.last_exam_complete, r.last_service_date, r.used_on, r.exam_from, r.exam_ok_on)::text AS stored,
		ROW(f.last_exam_date, COALESCE(f.last_exam_complete, false), f.last_service_date, f.used_on, f.exam_from, f.exam_ok_on)::text AS want
	FROM records r LEFT JOIN record_rate_facts f ON f.record_id = r.record_id
	WHERE ` + factsDiffer

// driftConformance are the entries whose stored conformance (the column
// computed when they were written) is not what entry_conforms says now: a
// rule changed by CREATE OR REPLACE without marking the entries again.
const driftConformance = `SELECT 'conformance' AS kind, id::text AS subject, conforming::text AS stored,
		entry_conforms(kind, programme, next_date, data)::text AS want
	FROM entries WHERE conforming IS DISTINCT FROM entry_conforms(kind, programme, next_date, data)`

// driftActive are the villages and doctors whose count of active records
// (rate_active_counts, summed) is not the records'.
const driftActive = `SELECT 'active' AS kind, concat_ws(' ', COALESCE(c.village_code, r.village_code), COALESCE(c.doctor, r.doctor)) AS subject,
		COALESCE(c.active, 0)::text AS stored, COALESCE(r.n, 0)::text AS want
	FROM (SELECT village_code, doctor, sum(active) AS active FROM rate_active_counts GROUP BY 1, 2) c FULL JOIN (
		SELECT village_code, COALESCE(responsible_doctor, '') AS doctor, count(*) AS n FROM records WHERE status_date IS NULL GROUP BY 1, 2
	) r ON r.village_code = c.village_code AND r.doctor = c.doctor
	WHERE COALESCE(c.active, 0) <> COALESCE(r.n, 0)`

// counterDiff is, per county, scope and date, the records' rate changes
// (record_rate_changes over every record) less those counted (the daily
// counters and the changes not folded yet), where they differ.
const counterDiff = `WITH stored AS (
		SELECT county, kind, code, on_date, sum(active) AS a, sum(qualified) AS q, sum(used) AS u FROM (
			SELECT county, kind, code, starts AS on_date, active, qualified, used FROM rate_counts WHERE grain = 'd'
			UNION ALL SELECT county, kind, code, on_date, active, qualified, used FROM rate_changes) x
		GROUP BY 1, 2, 3, 4 HAVING (sum(active), sum(qualified), sum(used)) <> (0, 0, 0)),
	want AS (
		SELECT c.county, c.kind, c.code, c.on_date, sum(c.active) AS a, sum(c.qualified) AS q, sum(c.used) AS u
		FROM records r CROSS JOIN LATERAL ` + recordRateChanges + ` c
		GROUP BY 1, 2, 3, 4 HAVING (sum(c.active), sum(c.qualified), sum(c.used)) <> (0, 0, 0))
	SELECT county, kind, code, on_date, COALESCE(s.a, 0) AS sa, COALESCE(s.q, 0) AS sq, COALESCE(s.u, 0) AS su,
		COALESCE(w.a, 0) AS wa, COALESCE(w.q, 0) AS wq, COALESCE(w.u, 0) AS wu
	FROM stored s FULL JOIN want w USING (county, kind, code, on_date)
	WHERE (s.a, s.q, s.u) IS DISTINCT FROM (w.a, w.q, w.u)`

// recordRateChanges is the rate changes of a record r (migration 00013).
const recordRateChanges = `record_rate_changes(r.village_code, r.responsible_doctor, r.filed_on, r.status_date,
	r.birth_date, r.quality_failures, r.exam_ok_on, r.used_on, 1, r.doctor_before, r.doctor_until)`

// driftCounters are the daily counters that differ from the records'
// changes (counterDiff), and the monthly and yearly counters that are not
// the sum of their days.
const driftCounters = `SELECT 'counter' AS kind, concat_ws(' ', county, kind, code, on_date) AS subject,
		ROW(sa, sq, su)::text AS stored, ROW(wa, wq, wu)::text AS want
	FROM (` + counterDiff + `) d
	UNION ALL
	SELECT 'counter', concat_ws(' ', c.county, c.kind, c.code, c.starts, c.grain), ROW(c.active, c.qualified, c.used)::text, ROW(d.a, d.q, d.u)::text
	FROM rate_counts c LEFT JOIN LATERAL (
		SELECT COALESCE(sum(active), 0) AS a, COALESCE(sum(qualified), 0) AS q, COALESCE(sum(used), 0) AS u FROM rate_counts x
		WHERE x.county = c.county AND x.kind = c.kind AND x.code = c.code AND x.grain = 'd'
			AND x.starts >= c.starts AND x.starts < c.starts + CASE c.grain WHEN 'm' THEN interval '1 month' ELSE interval '1 year' END) d ON true
	WHERE c.grain <> 'd' AND (c.active, c.qualified, c.used) IS DISTINCT FROM (d.a, d.q, d.u)`

// CheckRates returns every record whose stored facts differ from their
// definition and every counter that differs from its count, in one view of
// the data (so a write committing meanwhile is seen whole or not at all).
// Empty when the rates are exact.
func (db *DB) CheckRates(ctx context.Context) ([]RateDrift, error) {
	out := []RateDrift{}
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT * FROM (`+driftConformance+` UNION ALL `+driftFacts+` UNION ALL `+driftActive+` UNION ALL `+driftCounters+`) x
			ORDER BY kind, subject`)
	})
	return out, err
}

// RepairRates makes every stored figure CheckRates finds different equal to
// its definition, in one transaction, beside the writers:
//   - entries marked against a rule since changed are marked again;
//   - the records' facts are settled as an import settles them (settleFacts:
//     locked in record ID order, then computed from what is committed);
//   - the active counts and the daily counters get, in one statement each,
//     the difference between the records' figures and the stored ones as a
//     change: a writer that commits meanwhile has its records' change and its
//     counter change both seen by the statement, or neither;
//   - the monthly and yearly counters are summed again from the days, while
//     no fold runs.
//
// It returns what it found to repair.
func (db *DB) RepairRates(ctx context.Context) ([]RateDrift, error) {
	found, err := db.CheckRates(ctx)
	if err != nil || len(found) == 0 {
		return found, err
	}
	err = db.inTx(ctx, func(tx *Tx) error {
		// An entry's conformance first (an update computes the generated
		// column again), then the facts of its record with the rest.
		if _, err := tx.ExecContext(ctx, `UPDATE entries SET kind = kind
			WHERE conforming IS DISTINCT FROM entry_conforms(kind, programme, next_date, data)`); err != nil {
			return err
		}
		var ids []string
		if err := tx.SelectContext(ctx, &ids, `SELECT r.record_id FROM records r LEFT JOIN record_rate_facts f ON f.record_id = r.record_id
			WHERE `+factsDiffer); err != nil {
			return err
		}
		if err := settleFacts(ctx, tx, ids, false); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rate_active_counts (village_code, doctor, active)
			SELECT village_code, doctor, want::int - stored::int FROM (
				SELECT COALESCE(c.village_code, r.village_code) AS village_code, COALESCE(c.doctor, r.doctor) AS doctor,
					COALESCE(c.active, 0) AS stored, COALESCE(r.n, 0) AS want
				FROM (SELECT village_code, doctor, sum(active) AS active FROM rate_active_counts GROUP BY 1, 2) c FULL JOIN (
					SELECT village_code, COALESCE(responsible_doctor, '') AS doctor, count(*) AS n FROM records WHERE status_date IS NULL GROUP BY 1, 2
				) r ON r.village_code = c.village_code AND r.doctor = c.doctor) d
			WHERE stored <> want`); err != nil {
			return err
		}
		// No fold from here on: it would move changes between the tables
		// this reads.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(15, 1)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
			SELECT county, kind, code, on_date, wa - sa, wq - sq, wu - su FROM (`+counterDiff+`) d`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rate_counts AS c (county, grain, starts, kind, code, active, qualified, used)
			SELECT x.county, g.grain, g.starts, x.kind, x.code, sum(x.active), sum(x.qualified), sum(x.used)
			FROM rate_counts x CROSS JOIN LATERAL (VALUES ('m'::"char", date_trunc('month', x.starts)::date),
				('y', date_trunc('year', x.starts)::date)) g (grain, starts)
			WHERE x.grain = 'd' GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
			ON CONFLICT (county, grain, starts, kind, code) DO UPDATE
				SET active = EXCLUDED.active, qualified = EXCLUDED.qualified, used = EXCLUDED.used
				WHERE (c.active, c.qualified, c.used) IS DISTINCT FROM (EXCLUDED.active, EXCLUDED.qualified, EXCLUDED.used)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE rate_counts c SET active = 0, qualified = 0, used = 0
			WHERE c.grain <> 'd' AND (c.active, c.qualified, c.used) <> (0, 0, 0) AND NOT EXISTS (SELECT 1 FROM rate_counts x
				WHERE x.county = c.county AND x.kind = c.kind AND x.code = c.code AND x.grain = 'd'
					AND x.starts >= c.starts AND x.starts < c.starts + CASE c.grain WHEN 'm' THEN interval '1 month' ELSE interval '1 year' END)`)
		return err
	})
	return found, err
}
