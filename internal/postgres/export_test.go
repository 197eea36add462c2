package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"

	"healthrec/internal/civil"
	"healthrec/internal/rates"
)

// RateGroups exposes rateGroups to the tests.
func (db *DB) RateGroups(ctx context.Context, county string, p rates.Params) ([]rates.Group, error) {
	var out []rates.Group
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		var err error
		out, err = rateGroups(ctx, tx, county, p)
		return err
	})
	return out, err
}

// NoteExam exposes noteExam to the tests, which interleave transactions.
func NoteExam(ctx context.Context, tx *sqlx.Tx, recordID string, id int64, on civil.Date, complete bool) error {
	return noteExam(ctx, &Tx{Tx: tx}, recordID, id, on, complete)
}
