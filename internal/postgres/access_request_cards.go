package postgres

import (
	"context"

	"github.com/lib/pq"

	"healthrec/internal/consent"
)

// AccessRequestTransitions returns the transitions of the given requests,
// oldest first, by request: the list's cards show each request's history,
// read in one statement rather than one per card.
func (db *DB) AccessRequestTransitions(ctx context.Context, ids []int64) (map[int64][]consent.Transition, error) {
	var rows []struct {
		RequestID int64 `db:"request_id"`
		transitionRow
	}
	if err := db.SelectContext(ctx, &rows, `SELECT request_id, from_state, to_state, action, at, by_staff, reason
		FROM access_request_transitions WHERE request_id = ANY($1) ORDER BY request_id, id`, pq.Array(ids)); err != nil {
		return nil, translate(err)
	}
	out := make(map[int64][]consent.Transition, len(ids))
	for _, t := range rows {
		out[t.RequestID] = append(out[t.RequestID], consent.Transition{From: consent.State(t.From.String), To: consent.State(t.To),
			Action: consent.Action(t.Action), By: t.By, At: t.At, Reason: t.Reason})
	}
	return out, nil
}

// RecordNames returns the residents' names of the given records, by record
// ID: a records administrator's request cards name the resident.
func (db *DB) RecordNames(ctx context.Context, ids []string) (map[string]string, error) {
	var rows []struct {
		ID   string `db:"record_id"`
		Name string `db:"name"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT record_id, COALESCE(name, '') AS name FROM records WHERE record_id = ANY($1)`,
		pq.Array(ids)); err != nil {
		return nil, translate(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// StaffNames returns the names of the given staff codes, by code.
func (db *DB) StaffNames(ctx context.Context, codes []string) (map[string]string, error) {
	var rows []struct {
		Code string `db:"code"`
		Name string `db:"name"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT code, name FROM staff WHERE code = ANY($1)`, pq.Array(codes)); err != nil {
		return nil, translate(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Code] = r.Name
	}
	return out, nil
}
