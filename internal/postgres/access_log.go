package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/access"
)

// AppendAccess writes entries to the append-only access log and returns
// once they are committed. Appends from concurrent requests are committed
// together (auditLog): the commit of every read's audit row was the largest
// single cost of a record page.
func (db *DB) AppendAccess(ctx context.Context, entries ...access.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return db.audit.append(ctx, entries)
}

// insertAccess writes entries in one statement. The entries go as one array
// per column, so that the statement's text is the same whatever their number
// and it stays prepared.
func (db *DB) insertAccess(ctx context.Context, entries []access.LogEntry) error {
	n := len(entries)
	staffCodes, roles, recordIDs, sections := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	actions, outcomes, reasons, methods, paths := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	grants := make([]sql.NullInt64, n)
	for i, e := range entries {
		staffCodes[i], roles[i], recordIDs[i], sections[i] = e.StaffCode, e.Roles, e.RecordID, e.Section
		actions[i], outcomes[i], reasons[i], methods[i], paths[i] = e.Action, e.Outcome, e.Reason, e.Method, e.Path
		if e.GrantID != nil {
			grants[i] = sql.NullInt64{Int64: *e.GrantID, Valid: true}
		}
	}
	_, err := db.ExecContext(ctx, `INSERT INTO access_log (staff_code, roles, record_id, section, action, grant_id, outcome, reason, method, path)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[])`,
		pq.Array(staffCodes), pq.Array(roles), pq.Array(recordIDs), pq.Array(sections), pq.Array(actions), pq.Array(grants),
		pq.Array(outcomes), pq.Array(reasons), pq.Array(methods), pq.Array(paths))
	return translate(err)
}

// auditRowSQL appends the audit row $15 (auditArg) to the access log inside
// a write's own statement; a NULL $15 appends nothing.
const auditRowSQL = `INSERT INTO access_log (staff_code, roles, record_id, section, action, grant_id, outcome, reason, method, path)
	SELECT staff_code, roles, record_id, section, action, grant_id, outcome, reason, method, path
	FROM jsonb_populate_record(NULL::access_log, $15::jsonb) WHERE $15::jsonb IS NOT NULL`

// Audited returns the store for one write on a record whose audit row
// (the gate's PendingAudit of the attempt) commits with it: the one
// protocol of writes (docs/access.md). The write's transaction inserts the
// row after the write (inWriteTx) and marks it written once committed; when
// the write fails nothing is marked, and the handler's Settle logs the
// attempt on its own. AddEntry takes the row as an argument and does the
// same in a single statement (auditRowSQL).
func (db *DB) Audited(a *access.PendingAudit) *DB {
	c := *db
	c.pending = a
	return &c
}

// inWriteTx is inTx for a write on a record under Audited.
func (db *DB) inWriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return auditIn(ctx, tx, db.pending)
	})
	if err == nil && db.pending != nil {
		db.pending.Written()
	}
	return err
}

// auditIn inserts a pending audit row in tx; nil inserts nothing.
func auditIn(ctx context.Context, tx *Tx, a *access.PendingAudit) error {
	if a == nil {
		return nil
	}
	e := a.Entry
	_, err := tx.ExecContext(ctx, `INSERT INTO access_log (staff_code, roles, record_id, section, action, grant_id, outcome, reason, method, path)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, e.StaffCode, e.Roles, e.RecordID, e.Section, e.Action, e.GrantID, e.Outcome,
		e.Reason, e.Method, e.Path)
	return err
}

// auditArg is a pending audit row as the argument of auditRowSQL.
func auditArg(a *access.PendingAudit) (sql.NullString, error) {
	if a == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(a.Entry)
	return sql.NullString{String: string(b), Valid: true}, err
}

// AccessLog lists a record's access history, newest first, denials included.
func (db *DB) AccessLog(ctx context.Context, recordID string, page Page) ([]access.LogEntry, int, error) {
	out := []access.LogEntry{}
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM access_log WHERE record_id = $1`, recordID); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, `SELECT id, at, staff_code, roles, record_id, section, action, grant_id, outcome, reason, method, path
			FROM access_log WHERE record_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`, recordID, page.Limit(), page.Offset())
	})
	return out, total, err
}

// ActiveGrant returns the caller's consent grant on a record that is running
// at now, or nil: approved, consented to, not revoked and not yet expired.
// The gate asks at every request, so expiry and revocation hold from the
// next request on; nothing has to run to end a grant.
func (db *DB) ActiveGrant(ctx context.Context, staffCode, recordID string, now time.Time) (*access.Grant, error) {
	var row struct {
		ID       int64          `db:"id"`
		Sections pq.StringArray `db:"sections"`
	}
	// A requester has at most one request in play per record
	// (SubmitAccessRequest), so at most one grant runs.
	err := db.GetContext(ctx, &row, `SELECT id, sections FROM access_requests
		WHERE requested_by = $1 AND record_id = $2 AND state = 'active' AND expires_at > $3
		ORDER BY id DESC LIMIT 1`, staffCode, recordID, now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err)
	}
	return &access.Grant{ID: row.ID, Sections: []string(row.Sections)}, nil
}
