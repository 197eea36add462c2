package postgres

import (
	"context"

	"github.com/lib/pq"
)

// SyncCursor is where a device's next sync starts: a snapshot taken now
// (pg_snapshot text, migration 00022). Take it before reading what the
// sync sends: what a transaction the snapshot saw as ended wrote is in
// what is read next; anything else is sent again next time.
func (db *DB) SyncCursor(ctx context.Context) (string, error) {
	var snap string
	err := db.GetContext(ctx, &snap, `SELECT pg_current_snapshot()::text`)
	return snap, err
}

// ChangedSince returns those of ids whose record page (basic section,
// exams, enrolments) a transaction changed that the cursor's snapshot did
// not see as ended. A malformed cursor is the caller's to refuse first.
func (db *DB) ChangedSince(ctx context.Context, ids []string, cursor string) (map[string]bool, error) {
	var changed []string
	err := db.SelectContext(ctx, &changed, `
		SELECT record_id FROM records WHERE record_id = ANY($1) AND NOT pg_visible_in_snapshot(changed_xid, $2::pg_snapshot)
		UNION SELECT record_id FROM exams WHERE record_id = ANY($1) AND NOT pg_visible_in_snapshot(changed_xid, $2::pg_snapshot)
		UNION SELECT record_id FROM enrolments WHERE record_id = ANY($1) AND NOT pg_visible_in_snapshot(changed_xid, $2::pg_snapshot)`,
		pq.Array(ids), cursor)
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]bool, len(changed))
	for _, id := range changed {
		out[id] = true
	}
	return out, nil
}
