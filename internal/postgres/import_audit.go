package postgres

import (
	"context"

	"healthrec/internal/access"
)

// ImportMark is where the tables an import appends to ended when it began:
// the rows it adds lie past it, so that logging them reads an index range
// rather than whole tables.
type ImportMark struct {
	History, Exams, Entries int64
}

// Mark reads the import's mark. entries says whether the entries table
// exists.
func (t *ImportTx) Mark(ctx context.Context, entries bool) (ImportMark, error) {
	var m ImportMark
	q := `SELECT (SELECT COALESCE(max(id), 0) FROM record_history) AS history, (SELECT COALESCE(max(id), 0) FROM exams) AS exams, 0::bigint AS entries`
	if entries {
		q = `SELECT (SELECT COALESCE(max(id), 0) FROM record_history) AS history, (SELECT COALESCE(max(id), 0) FROM exams) AS exams,
			(SELECT COALESCE(max(id), 0) FROM entries) AS entries`
	}
	return m, translate(t.tx.GetContext(ctx, &m, q))
}

// AuditImport appends one access-log row per record and section this
// transaction wrote — the records it filed (basic), the records it added
// exams to (exams), and each kind of entry it added to a record
// (entries.<kind>s) — as allowed writes by who (StaffCode, Roles, Method,
// Path), set-based and committed with the import. The log names a record
// and a section (DESIGN §6.3), as a page's read does: ten imported
// follow-ups of one record are one write of its follow-ups, not ten rows
// at the same instant (a county's import writes a third as many rows). The
// rows written are those past m whose xmin is this transaction. entries
// says whether the entries table exists. It returns the rows appended.
func (t *ImportTx) AuditImport(ctx context.Context, m ImportMark, who access.LogEntry, entries bool) (int64, error) {
	q := `INSERT INTO access_log (staff_code, roles, record_id, section, action, outcome, method, path)
	SELECT $1, $2, record_id, section, 'write', 'allowed', $3, $4 FROM (
		SELECT DISTINCT record_id, 'basic' AS section FROM record_history
		WHERE id > $5 AND action = 'import' AND xmin = pg_current_xact_id()::xid
		UNION ALL
		SELECT DISTINCT record_id, 'exams' FROM exams WHERE id > $6 AND xmin = pg_current_xact_id()::xid`
	if entries {
		q += `
		UNION ALL
		SELECT record_id, 'entries.' || kind || 's' FROM (
			SELECT DISTINCT record_id, kind FROM entries WHERE id > $7 AND xmin = pg_current_xact_id()::xid) k`
	} else {
		q += ` AND $7::bigint IS NOT NULL`
	}
	q += `) imported`
	res, err := t.tx.ExecContext(ctx, q, who.StaffCode, who.Roles, who.Method, who.Path, m.History, m.Exams, m.Entries)
	if err != nil {
		return 0, translate(err)
	}
	return res.RowsAffected()
}
