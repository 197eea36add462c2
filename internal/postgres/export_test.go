package postgres

import (
	"context"

	"healthrec/internal/rates"
)

// RateGroupsWith exposes rateGroupsWith to the tests.
func (db *DB) RateGroupsWith(ctx context.Context, county string, p rates.Params, bound func(size, n int) (int64, bool)) ([]rates.Group, error) {
	var out []rates.Group
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		var err error
		out, err = rateGroupsWith(ctx, tx, county, p, bound)
		return err
	})
	return out, err
}
