package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// DeferChecks prepares empty tables for a bulk COPY in the transaction tx
// and returns the function that restores them. A COPY into a table checks
// each row's foreign keys one by one (a query per reference: about 35
// million for a county's 10 million entries) and inserts each row into
// every index in random key order; into a table that is still empty, the
// same checks and indexes cost a fraction when made once afterwards. So, for
// each table given that has no rows, its foreign keys and its indexes that
// back no constraint are dropped here and recreated by restore, under their
// own names and definitions: ADD CONSTRAINT checks every row at once (one
// join per reference), and an index is built by one sort. Whatever restore
// finds wrong fails the transaction, so the load is all or nothing as
// before. A table with rows is left as it is. It takes the tables' ACCESS
// EXCLUSIVE locks until the transaction ends and needs the owner's rights:
// for a loader into a fresh database (cmd/bench), not for an import beside a
// running server.
func DeferChecks(ctx context.Context, tx *sqlx.Tx, tables ...string) (restore func() error, err error) {
	var redo []string
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
			redo = append(redo, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %q %s`, table, fk.Name, fk.Def))
		}
		var ixs []struct {
			Name string `db:"relname"`
			Def  string `db:"def"`
		}
		if err := tx.SelectContext(ctx, &ixs, `SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
			JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
			ORDER BY c.relname`, table); err != nil {
			return nil, translate(err)
		}
		for _, ix := range ixs {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP INDEX %q`, ix.Name)); err != nil {
				return nil, translate(err)
			}
			redo = append(redo, ix.Def)
		}
	}
	return func() error {
		for _, q := range redo {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return translate(err)
			}
		}
		return nil
	}, nil
}

// InsertStagedRecords files the records of staged, a temporary table with
// the given columns of records loaded by COPY, with their write-time facts
// computed at once from the exams and entries loaded before them (the view
// record_rate_facts, which reads only those): one INSERT … SELECT, so that
// the insert trigger notes each record's rate changes from its final row,
// rather than a filing without facts followed by an update of every record
// (whose statement trigger computes a million old and new rows' changes,
// all to be folded). For a load whose exams and entries precede their
// records, which needs their foreign keys deferred (DeferChecks). It
// returns the number of records filed.
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
	// Identifiers are the caller's constants, never input.
	res, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO records (%s,
			last_exam_date, last_exam_complete, last_service_date, used_on, exam_from, exam_ok_on)
		SELECT %s, f.last_exam_date, COALESCE(f.last_exam_complete, false), f.last_service_date, f.used_on, f.exam_from, f.exam_ok_on
		FROM %s s LEFT JOIN record_rate_facts f ON f.record_id = s.record_id`, cols, from, staged))
	if err != nil {
		return 0, translate(err)
	}
	return res.RowsAffected()
}
