package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"healthrec/internal/access"
)

// AppendAccess writes entries to the append-only access log in one statement.
func (db *DB) AppendAccess(ctx context.Context, entries ...access.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	_, err := db.NamedExecContext(ctx, `INSERT INTO access_log (staff_code, roles, record_id, section, action, grant_id, outcome, reason, method, path)
		VALUES (:staff_code, :roles, :record_id, :section, :action, :grant_id, :outcome, :reason, :method, :path)`, entries)
	return translate(err)
}

// AccessLog lists a record's access history, newest first, denials included.
func (db *DB) AccessLog(ctx context.Context, recordID string, page Page) ([]access.LogEntry, int, error) {
	out := []access.LogEntry{}
	var total int
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM access_log WHERE record_id = $1`, recordID); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, `SELECT id, at, staff_code, roles, record_id, section, action, grant_id, outcome, reason, method, path
			FROM access_log WHERE record_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`, recordID, page.Limit(), page.Offset())
	})
	return out, total, err
}

// ActiveGrant returns the caller's consent grant on a record that is active at
// now, or nil. Consent-based access requests arrive with their own migration;
// until then nobody holds a grant.
func (db *DB) ActiveGrant(ctx context.Context, staffCode, recordID string, now time.Time) (*access.Grant, error) {
	return nil, nil
}
