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
