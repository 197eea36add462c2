package postgres

import "context"

// RecordStaffNames returns the names of the staff who examined or served a
// record (its exams' and entries' staff codes), by code: the record page
// shows people by name.
func (db *DB) RecordStaffNames(ctx context.Context, recordID string) (map[string]string, error) {
	var rows []struct {
		Code string `db:"code"`
		Name string `db:"name"`
	}
	err := db.SelectContext(ctx, &rows, `SELECT s.code, s.name FROM staff s WHERE s.code IN (
		SELECT doctor FROM exams WHERE record_id = $1 UNION SELECT doctor FROM entries WHERE record_id = $1)`, recordID)
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Code] = r.Name
	}
	return out, nil
}
