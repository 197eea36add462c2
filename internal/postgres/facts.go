package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"

	"healthrec/internal/civil"
)

// noteService records, inside the writing transaction, that a record had a
// dynamic record (exam or service entry) on a date. Every insert of an exam
// or entry calls it, so records.last_service_date is always the latest.
func noteService(ctx context.Context, tx *Tx, recordID string, on civil.Date) error {
	_, err := tx.ExecContext(ctx, `UPDATE records SET last_service_date = GREATEST(last_service_date, $2) WHERE record_id = $1`, recordID, on)
	return err
}

// noteExam records a health examination: it is a dynamic record, and the
// latest exam's completeness feeds quality rule Q11.
func noteExam(ctx context.Context, tx *Tx, recordID string, on civil.Date, complete bool) error {
	_, err := tx.ExecContext(ctx, `UPDATE records SET
		last_exam_complete = CASE WHEN last_exam_date IS NULL OR $2 >= last_exam_date THEN $3 ELSE last_exam_complete END,
		last_exam_date = GREATEST(last_exam_date, $2),
		last_service_date = GREATEST(last_service_date, $2)
		WHERE record_id = $1`, recordID, on, complete)
	return err
}

// RefreshFacts recomputes the write-time facts of every record from the
// exams and service entries, and the follow-up schedule of every enrolment,
// set-based. Bulk loads (import, demo) call it once instead of noting row by row.
func RefreshFacts(ctx context.Context, sqltx *sqlx.Tx) error {
	tx := &Tx{Tx: sqltx}
	_, err := tx.ExecContext(ctx, `
		WITH latest_exam AS (
			SELECT DISTINCT ON (record_id) record_id, exam_date,
				((systolic IS NOT NULL AND diastolic IS NOT NULL) OR (systolic_right IS NOT NULL AND diastolic_right IS NOT NULL))
				AND height_cm IS NOT NULL AND weight_kg IS NOT NULL AS complete
			FROM exams ORDER BY record_id, exam_date DESC, id DESC
		)
		UPDATE records r SET last_exam_date = e.exam_date, last_exam_complete = e.complete,
			last_service_date = GREATEST(r.last_service_date, e.exam_date)
		FROM latest_exam e WHERE e.record_id = r.record_id`)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		WITH latest_entry AS (SELECT record_id, max(service_date) AS service_date FROM entries GROUP BY record_id)
		UPDATE records r SET last_service_date = GREATEST(r.last_service_date, e.service_date)
		FROM latest_entry e WHERE e.record_id = r.record_id
			AND (r.last_service_date IS NULL OR r.last_service_date < e.service_date)`)
	if err != nil {
		return err
	}
	return refreshSchedules(ctx, tx, "true")
}
