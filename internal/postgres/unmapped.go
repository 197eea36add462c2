package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// UnmappedDetails reports what migration 00024 kept in details_unmapped:
// the free-form details of earlier versions that did not carry into the
// personal basic information table, for a person to transcribe. It returns
// how many records keep some, and how many keep each member.
func (db *DB) UnmappedDetails(ctx context.Context) (records int, members map[string]int, err error) {
	members = map[string]int{}
	var rows []struct {
		Member string `db:"member"`
		N      int    `db:"n"`
	}
	err = db.inSnapshot(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &records, `SELECT count(*) FROM records WHERE details_unmapped <> '{}'`); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, `SELECT k AS member, count(*) AS n
			FROM records CROSS JOIN LATERAL jsonb_object_keys(details_unmapped) k
			WHERE details_unmapped <> '{}' GROUP BY k ORDER BY k`)
	})
	for _, r := range rows {
		members[r.Member] = r.N
	}
	return records, members, err
}

// UnmappedSummary is UnmappedDetails as one line for a log: "" when none.
func (db *DB) UnmappedSummary(ctx context.Context) (string, error) {
	n, members, err := db.UnmappedDetails(ctx)
	if err != nil || n == 0 {
		return "", err
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, members[k])
	}
	return fmt.Sprintf("%d records keep details not carried into the basic information table (%s): see details_unmapped on each record",
		n, strings.Join(parts, ", ")), nil
}
