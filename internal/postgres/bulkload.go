package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DeferChecks prepares empty tables for a bulk COPY in the transaction tx
// and returns the function that restores them. A COPY into a table checks
// each row's foreign keys one by one (a query per reference: about 35
// million for a county's 10 million entries) and inserts each row into
// every index in random key order; into a table that is still empty, the
// same checks and indexes cost a fraction when made once afterwards. So, for
// each table given that has no rows, its foreign keys and its indexes that
// back no constraint (but keptDuringLoad) are dropped here and recreated by
// restore, under their own names and definitions: ADD CONSTRAINT checks every row at once (one
// join per reference), and an index is built by one sort. Whatever restore
// finds wrong fails the transaction, so the load is all or nothing as
// before. A table with rows is left as it is. It takes the tables' ACCESS
// EXCLUSIVE locks until the transaction ends and needs the owner's rights:
// for a loader into a fresh database (cmd/bench), not for an import beside a
// running server.
func DeferChecks(ctx context.Context, tx *sqlx.Tx, tables ...string) (restore func() error, err error) {
	// The indexes are built before the keys are checked: a key's check may
	// read one (the entries' correction of an entry, NULL in all but a few,
	// is checked through the partial index of the corrections in
	// milliseconds, where a scan of the entries took a second).
	var indexes, keys []string
	for _, table := range tables {
		var empty bool
		// Identifiers are the caller's constants, never input.
		if err := tx.GetContext(ctx, &empty, fmt.Sprintf(`SELECT NOT EXISTS (SELECT 1 FROM %s)`, table)); err != nil {
			return nil, translate(err)
		}
		if !empty {
			continue
		}
		var fks []struct {
			Name string `db:"conname"`
			Def  string `db:"def"`
		}
		if err := tx.SelectContext(ctx, &fks, `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
			WHERE conrelid = $1::regclass AND contype = 'f' ORDER BY conname`, table); err != nil {
			return nil, translate(err)
		}
		for _, fk := range fks {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %q`, table, fk.Name)); err != nil {
				return nil, translate(err)
			}
			keys = append(keys, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %q %s`, table, fk.Name, fk.Def))
		}
		defs, err := dropIndexes(ctx, tx, table)
		if err != nil {
			return nil, err
		}
		indexes = append(indexes, defs...)
	}
	return func() error { return replay(ctx, tx, append(indexes, keys...)) }, nil
}

// keptDuringLoad are the indexes dropIndexes leaves: entries_corrects,
// the partial index of the corrections, receives no row of a load (an
// import's COPY writes no correction), so keeping it costs a test of
// each row's corrects (nothing measurable on 2M rows copied, three
// alternations); dropped, it was rebuilt by a scan of every entry (0.9 s on
// the 1M county), and the facts' anti-join of corrections scanned every
// entry for them where it reads this index (record_rate_facts, 00036).
var keptDuringLoad = []string{"entries_corrects"}

// dropIndexes drops the indexes of table that back no constraint (but
// those keptDuringLoad) and returns their definitions, to be replayed
// (replay) once the table is loaded.
func dropIndexes(ctx context.Context, tx *sqlx.Tx, table string) ([]string, error) {
	var ixs []struct {
		Name string `db:"relname"`
		Def  string `db:"def"`
	}
	if err := tx.SelectContext(ctx, &ixs, `SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
			AND c.relname <> ALL ($2)
		ORDER BY c.relname`, table, pq.Array(keptDuringLoad)); err != nil {
		return nil, translate(err)
	}
	defs := make([]string, len(ixs))
	for i, ix := range ixs {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP INDEX %q`, ix.Name)); err != nil {
			return nil, translate(err)
		}
		defs[i] = ix.Def
	}
	return defs, nil
}

// dropTriggers drops the named triggers of table, each of which must
// exist, and returns what recreates them under their own definitions. For
// a bulk load that does a trigger's work itself: a statement trigger that
// reads the inserted rows (REFERENCING NEW TABLE) makes PostgreSQL keep a
// copy of every row the statement inserts, even while the trigger is
// disabled; dropped, it keeps none. Like DeferChecks, it needs the owner's
// rights and holds the table until the transaction ends.
func dropTriggers(ctx context.Context, tx *sqlx.Tx, table string, names ...string) (restore func() error, err error) {
	var defs []string
	if err := tx.SelectContext(ctx, &defs, `SELECT pg_get_triggerdef(oid) FROM pg_trigger
		WHERE tgrelid = $1::regclass AND tgname = ANY ($2) ORDER BY tgname`, table, pq.Array(names)); err != nil {
		return nil, translate(err)
	}
	if len(defs) != len(names) {
		return nil, fmt.Errorf("postgres: %s has %d of the triggers %v", table, len(defs), names)
	}
	for _, name := range names {
		// Identifiers are the caller's constants, never input.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP TRIGGER %q ON %s`, name, table)); err != nil {
			return nil, translate(err)
		}
	}
	return func() error { return replay(ctx, tx, defs) }, nil
}

// replay runs the saved DDL statements in order.
func replay(ctx context.Context, tx *sqlx.Tx, statements []string) error {
	for _, q := range statements {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return translate(err)
		}
	}
	return nil
}

// cacheSequences lets the transaction tx take the ids of the tables' id
// sequences ten thousand at a time, and returns what puts each sequence
// back as if it had given them one by one: its cache as before, its next
// value the one after the last id the transaction wrote (where the
// transaction wrote none, the one it had). nextval at the default cache of
// one locks the sequence's page for every row, and writes WAL every 32: on
// 2M of a county's entries COPY took 8.9–9.2 s so, 7.8–8.2 s with a cache
// (measured 2026-12-07, three alternations in one transaction). For a bulk
// load that holds the tables' ACCESS EXCLUSIVE locks, so that only it takes
// their ids until the commit: the block it takes and does not use is not
// lost. ALTER SEQUENCE is transactional; a load that fails leaves only the
// gap any rolled-back insert leaves.
func cacheSequences(ctx context.Context, tx *sqlx.Tx, tables ...string) (restore func() error, err error) {
	type sequence struct {
		Table string `db:"tbl"`
		Name  string `db:"seq"`
		Cache int64  `db:"seqcache"`
		// Next is the value the sequence would give next.
		Next int64 `db:"next"`
	}
	var seqs []sequence
	for _, table := range tables {
		var names []string
		if err := tx.SelectContext(ctx, &names, `SELECT pg_get_serial_sequence($1, attname) FROM pg_attribute
			WHERE attrelid = $1::regclass AND attname = 'id' AND pg_get_serial_sequence($1, attname) IS NOT NULL`, table); err != nil {
			return nil, translate(err)
		}
		if len(names) == 0 {
			continue
		}
		// Identifiers are the caller's constants and the catalogue's
		// quoted names, never input.
		s := sequence{Table: table, Name: names[0]}
		if err := tx.GetContext(ctx, &s, fmt.Sprintf(`SELECT $1::text AS tbl, $2::text AS seq, p.seqcache,
				CASE WHEN s.is_called THEN s.last_value + p.seqincrement ELSE s.last_value END AS next
			FROM %s s, pg_sequence p WHERE p.seqrelid = $2::regclass`, s.Name), table, s.Name); err != nil {
			return nil, translate(err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER SEQUENCE %s CACHE 10000`, s.Name)); err != nil {
			return nil, translate(err)
		}
		seqs = append(seqs, s)
	}
	return func() error {
		for _, s := range seqs {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER SEQUENCE %s CACHE %d`, s.Name, s.Cache)); err != nil {
				return translate(err)
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SELECT setval($1::regclass, COALESCE(max(id), $2::bigint), max(id) IS NOT NULL)
				FROM %s WHERE id >= $2::bigint`, s.Table), s.Name, s.Next); err != nil {
				return translate(err)
			}
		}
		return nil
	}, nil
}

// bulkSettings gives the rest of the transaction the memory a county's
// sorts and hashes need (256 MB, not 4 MB: a bulk load is one connection)
// and no JIT, and returns what puts the settings back.
//
// A hash aggregate may also use 32 times work_mem before it spills, not
// twice: PostgreSQL sizes the groups it keeps by their planned size, and it
// plans a range_agg's state (the facts' date sets, record_rate_facts) at
// 8 KB a group whatever it holds, so at 512 MB the facts' aggregate of a
// million records spilled 390 MB to disk in five batches while holding
// 86 MB. What it really takes decides (about 350 MB for a million records):
// the limit is on real memory, reached only by a county far larger.
func bulkSettings(ctx context.Context, tx *sqlx.Tx) (restore func(), err error) {
	var saved struct {
		WorkMem string `db:"work_mem"`
		HashMem string `db:"hash_mem_multiplier"`
		JIT     string `db:"jit"`
	}
	if err := tx.GetContext(ctx, &saved, `SELECT current_setting('work_mem') AS work_mem,
		current_setting('hash_mem_multiplier') AS hash_mem_multiplier, current_setting('jit') AS jit`); err != nil {
		return nil, translate(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('work_mem', '256MB', true), set_config('hash_mem_multiplier', '32', true),
		set_config('jit', 'off', true)`); err != nil {
		return nil, translate(err)
	}
	return func() {
		_, _ = tx.ExecContext(ctx, `SELECT set_config('work_mem', $1, true), set_config('hash_mem_multiplier', $2, true),
			set_config('jit', $3, true)`, saved.WorkMem, saved.HashMem, saved.JIT)
	}, nil
}

// InsertStagedRecords files the records of staged, a temporary table with
// the given columns of records loaded by COPY, with their write-time facts
// computed at once from the exams and entries loaded before them (the view
// record_rate_facts, which reads only those): one INSERT … SELECT, rather
// than a filing without facts followed by an update of every record (whose
// statement trigger computes a million old and new rows' changes, all to be
// folded). For a load whose exams and entries precede their records, which
// needs their foreign keys deferred (DeferChecks). It returns the number of
// records filed.
//
// Run by the owner of records and rate_counts, it also counts the filed
// records straight into rate_counts (their day, month and year counters)
// instead of leaving their changes to the insert trigger and a later fold:
// the records' insert triggers are dropped for the insert, and the same
// statement sums the inserted rows' changes (record_rate_changes, as the
// trigger does) per day, the days per month and the months per year, and
// adds them — the counters the trigger's changes would fold into, with
// nothing left pending — and counts the active records per village and
// doctor into rate_active_counts, as the other trigger does. It takes the
// fold's lock (rate_fold) until the transaction ends, and dropping the
// triggers holds other writers of records until then: for a bulk load,
// which holds the tables already (DeferChecks).
// Into an empty rate_counts the sums are inserted without its primary key,
// which is built once afterwards (a plain insert, where an upsert checks
// the key twice per row). Run by another role, the triggers note the
// changes as for any insert.
func InsertStagedRecords(ctx context.Context, tx *sqlx.Tx, staged string, columns []string) (int64, error) {
	cols, from := "", ""
	for i, c := range columns {
		if i > 0 {
			cols += ", "
			from += ", "
		}
		cols += c
		from += "s." + c
	}
	// The facts' aggregates (a hash per record of ten services, the exams'
	// window) and the counters' sums spill to disk in the default 4 MB;
	// and the planner's estimate of record_rate_changes (thousands of rows
	// a record, where there are a few) makes JIT compile a hundred
	// functions, seconds of the load.
	restore, err := bulkSettings(ctx, tx)
	if err != nil {
		return 0, err
	}
	defer restore()

	// Identifiers are the caller's constants, never input.
	insert := fmt.Sprintf(`INSERT INTO records (%s,
			last_exam_date, last_exam_complete, last_service_date, used_on, exam_from, exam_ok_on)
		SELECT %s, f.last_exam_date, COALESCE(f.last_exam_complete, false), f.last_service_date, f.used_on, f.exam_from, f.exam_ok_on
		FROM %s s LEFT JOIN record_rate_facts f ON f.record_id = s.record_id`, cols, from, staged)
	var owns bool
	if err := tx.GetContext(ctx, &owns, `SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class
		WHERE oid IN ('records'::regclass, 'rate_counts'::regclass)`); err != nil {
		return 0, translate(err)
	}
	if !owns {
		res, err := tx.ExecContext(ctx, insert)
		if err != nil {
			return 0, translate(err)
		}
		return res.RowsAffected()
	}

	// No fold between the look at rate_counts and the commit.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(15, 1)`); err != nil {
		return 0, translate(err)
	}
	var empty bool
	if err := tx.GetContext(ctx, &empty, `SELECT NOT EXISTS (SELECT 1 FROM rate_counts)`); err != nil {
		return 0, translate(err)
	}
	var pkey struct {
		Name string `db:"conname"`
		Def  string `db:"def"`
	}
	conflict := `ON CONFLICT (county, grain, starts, kind, code) DO UPDATE SET active = c.active + EXCLUDED.active,
			qualified = c.qualified + EXCLUDED.qualified, used = c.used + EXCLUDED.used`
	if empty {
		if err := tx.GetContext(ctx, &pkey, `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
			WHERE conrelid = 'rate_counts'::regclass AND contype = 'p'`); err != nil {
			return 0, translate(err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE rate_counts DROP CONSTRAINT %q`, pkey.Name)); err != nil {
			return 0, translate(err)
		}
		conflict = ""
	}
	// The statement counts the records' rate changes and their active
	// counts itself (rate_count_inserted's sums, below), so the two insert
	// triggers that would are dropped for it (and with them the copy of
	// every filed record PostgreSQL keeps for their transition table: 0.6 s
	// of a million records' insert).
	restoreTriggers, err := dropTriggers(ctx, tx, "records", "records_count_inserted", "records_rate_inserted")
	if err != nil {
		return 0, err
	}
	// The days first, then the months from the days and the years from the
	// months: the sums are the same as each change's to all three grains,
	// for a third of the grouping.
	var n int64
	if err := tx.GetContext(ctx, &n, `WITH filed AS (`+insert+`
			RETURNING village_code, responsible_doctor, filed_on, status_date, birth_date, quality_failures, exam_ok_on, used_on,
				doctor_before, doctor_until
		), days AS MATERIALIZED (
			SELECT c.county, c.kind, c.code, c.on_date, sum(c.active)::int AS active, sum(c.qualified)::int AS qualified, sum(c.used)::int AS used
			FROM filed r CROSS JOIN LATERAL record_rate_changes(r.village_code, r.responsible_doctor, r.filed_on, r.status_date,
				r.birth_date, r.quality_failures, r.exam_ok_on, r.used_on, 1, r.doctor_before, r.doctor_until) c
			GROUP BY 1, 2, 3, 4
		), months AS MATERIALIZED (
			SELECT county, kind, code, date_trunc('month', on_date)::date AS starts,
				sum(active)::int AS active, sum(qualified)::int AS qualified, sum(used)::int AS used
			FROM days GROUP BY 1, 2, 3, 4
		), active AS (
			INSERT INTO rate_active_counts (village_code, doctor, active)
			SELECT village_code, COALESCE(responsible_doctor, ''), count(*) FROM filed WHERE status_date IS NULL GROUP BY 1, 2
		), counted AS (
			INSERT INTO rate_counts AS c (county, grain, starts, kind, code, active, qualified, used)
			SELECT county, 'd', on_date, kind, code, active, qualified, used FROM days
			UNION ALL
			SELECT county, 'm', starts, kind, code, active, qualified, used FROM months
			UNION ALL
			SELECT county, 'y', date_trunc('year', starts)::date, kind, code, sum(active), sum(qualified), sum(used)
			FROM months GROUP BY 1, 3, 4, 5
			`+conflict+`
		)
		SELECT count(*) FROM filed`); err != nil {
		return 0, translate(err)
	}
	if err := restoreTriggers(); err != nil {
		return 0, err
	}
	if empty {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE rate_counts ADD CONSTRAINT %q %s`, pkey.Name, pkey.Def)); err != nil {
			return 0, translate(err)
		}
	}
	return n, nil
}
