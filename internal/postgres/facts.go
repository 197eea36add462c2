package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/civil"
)

// The write-time facts of a record's dynamic records (migrations 00003 and
// 00010; the view record_rate_facts defines them from the exams and
// entries): the latest exam (and whether it was complete) and the latest
// dynamic record of any kind; used_on, the as-of dates at which the record
// has a dynamic record in the 365-day window; exam_from, its first exam; and
// exam_ok_on, the as-of dates at which its latest exam is complete. Every
// insert of an exam or entry keeps them in its transaction.

// noteServiceSQL records that a record had a dynamic record (a service
// entry) on a date: the UPDATE of addEntrySQL, from the entry it stores (the
// CTE stored). Only an entry that conforms to its kind's specification (the
// stored column conforming, migration 00027) makes the record used. A union
// of ranges is the same in any order, so concurrent notes need no lock
// beyond the update's own. A note that would change nothing (the record had
// a service that day or later, and the year is already used) leaves the row
// alone: no new row version, no check, no rate change to compute.
const noteServiceSQL = `UPDATE records r SET last_service_date = GREATEST(r.last_service_date, s.service_date),
		used_on = CASE WHEN s.conforming THEN COALESCE(r.used_on, '{}') + datemultirange(daterange(s.service_date, s.service_date + 365))
			ELSE r.used_on END
	FROM stored s WHERE r.record_id = s.record_id
		AND (r.last_service_date IS NULL OR r.last_service_date < s.service_date
			OR s.conforming AND NOT COALESCE(r.used_on, '{}') @> daterange(s.service_date, s.service_date + 365))`

// noteExam records a health examination (id, on a date, complete or not),
// inserted by the transaction: it is a dynamic record (which counts for
// usage only when complete: an exam's specification is Q11's), and whether the
// latest exam on or before an as-of date is complete feeds quality rule Q11.
// The new exam decides that question for the as-of dates from its date up to
// the next exam's date — unless an exam of the same date with a larger id
// exists, which then decides it. Which exams exist must be read after the
// record is locked: otherwise two transactions adding exams to one record at
// once could each miss the other's.
func noteExam(ctx context.Context, tx *Tx, recordID string, id int64, on civil.Date, complete bool) error {
	// NO KEY UPDATE: the exam's foreign key holds a KEY SHARE lock on the
	// record, which this lock does not wait for (FOR UPDATE would deadlock
	// two transactions holding it).
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM records WHERE record_id = $1 FOR NO KEY UPDATE`, recordID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE records r SET
		last_service_date = GREATEST(r.last_service_date, $2),
		used_on = CASE WHEN $4 THEN COALESCE(r.used_on, '{}') + datemultirange(daterange($2::date, $2::date + 365)) ELSE r.used_on END,
		last_exam_complete = CASE WHEN x.next_date IS NULL AND NOT x.superseded THEN $4 ELSE r.last_exam_complete END,
		last_exam_date = GREATEST(r.last_exam_date, $2),
		exam_from = LEAST(r.exam_from, $2),
		exam_ok_on = CASE WHEN x.superseded THEN r.exam_ok_on
			ELSE NULLIF(COALESCE(r.exam_ok_on, '{}') - datemultirange(daterange($2, x.next_date))
				+ CASE WHEN $4 THEN datemultirange(daterange($2, x.next_date)) ELSE '{}' END, '{}') END
		FROM (SELECT (SELECT min(exam_date) FROM exams WHERE record_id = $1 AND exam_date > $2) AS next_date,
			EXISTS (SELECT 1 FROM exams WHERE record_id = $1 AND exam_date = $2 AND id > $3) AS superseded) x
		WHERE r.record_id = $1`, recordID, on, id, complete)
	return err
}

// RefreshFacts recomputes the write-time facts of every record whose facts
// differ from their definition over its exams and entries (the view
// record_rate_facts), and the follow-up schedule of every enrolment,
// set-based. Bulk loads (demo, bench) call it once instead of noting row by
// row. Like settleFacts it locks the records first, in record ID order, and
// computes their facts in a statement of its own, so it is safe beside other
// writers; it names the records by the view rather than by a list, which
// for a whole county would be a million IDs.
func RefreshFacts(ctx context.Context, sqltx *sqlx.Tx) error {
	tx := &Tx{Tx: sqltx}
	// When the transaction filed every record itself (a fresh load), nobody
	// else can see them, so nothing needs locking; that saves computing
	// the facts of the whole county twice.
	var others bool
	if err := tx.GetContext(ctx, &others, `SELECT EXISTS (SELECT 1 FROM records WHERE xmin <> pg_current_xact_id()::xid)`); err != nil {
		return err
	}
	if others {
		if err := lockDifferingFacts(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE records r SET last_exam_date = f.last_exam_date, last_exam_complete = COALESCE(f.last_exam_complete, false),
			last_service_date = f.last_service_date, used_on = f.used_on, exam_from = f.exam_from, exam_ok_on = f.exam_ok_on
		FROM records x LEFT JOIN record_rate_facts f ON f.record_id = x.record_id
		WHERE x.record_id = r.record_id AND `+factsDiffer); err != nil {
		return err
	}
	return settleFacts(ctx, tx, nil, true)
}

// lockDifferingFacts locks the records whose facts differ from their
// definition, in record ID order.
func lockDifferingFacts(ctx context.Context, tx *Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM records r
		LEFT JOIN record_rate_facts f ON f.record_id = r.record_id WHERE `+factsDiffer+`
		ORDER BY r.record_id FOR NO KEY UPDATE OF r) x`); err != nil {
		return err
	}
	return nil
}

// factsDiffer is the condition that a record r's stored facts differ from
// their definition f (NULL when it has no exam or entry).
const factsDiffer = `(r.last_exam_date, r.last_exam_complete, r.last_service_date, r.used_on, r.exam_from, r.exam_ok_on)
	IS DISTINCT FROM (f.last_exam_date, COALESCE(f.last_exam_complete, false), f.last_service_date, f.used_on, f.exam_from, f.exam_ok_on)`

// settleFacts sets the write-time facts of the records ids to their
// definition, and the follow-up schedules of their enrolments (of every
// enrolment, with allSchedules), without overwriting what a concurrent
// transaction writes (issue 23).
//
// It locks the records first, in record ID order (the lock order of
// docs/rates.md: a record before its enrolments, records by ID), then
// computes their facts in a statement of its own. Under READ COMMITTED
// each statement reads the data committed when it starts, so the facts are
// computed from every exam and entry committed before the locks were
// granted; a writer still to commit waits for the lock and then notes its
// own exam or entry on the facts settled here. (Computed in the same
// statement as the locks, the facts would be those of the statement's start,
// and a record whose exam committed while the statement waited for it would
// lose that exam.) The records the transaction inserted itself are locked
// already, and nobody else can see them.
func settleFacts(ctx context.Context, tx *Tx, ids []string, allSchedules bool) error {
	if len(ids) == 0 && !allSchedules {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM records WHERE record_id = ANY($1)
		AND xmin <> pg_current_xact_id()::xid ORDER BY record_id FOR NO KEY UPDATE) x`, pq.Array(ids)); err != nil {
		return err
	}
	// A few records' facts from their own exams and entries (the list
	// reaches into the view's aggregate over them); many, from the view
	// over every record, hashed against the list, as a bulk load needs.
	few := ""
	if len(ids) <= 5000 {
		few = " AND f.record_id = ANY($1)"
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE records r SET last_exam_date = f.last_exam_date, last_exam_complete = COALESCE(f.last_exam_complete, false),
			last_service_date = f.last_service_date, used_on = f.used_on, exam_from = f.exam_from, exam_ok_on = f.exam_ok_on
		FROM unnest($1::text[]) a (id) LEFT JOIN record_rate_facts f ON f.record_id = a.id`+few+`
		WHERE r.record_id = a.id AND `+factsDiffer, pq.Array(ids))
	if err != nil {
		return err
	}
	// The enrolments after the records, in ID order, and only those whose
	// schedule changes.
	if _, err := tx.ExecContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM enrolments WHERE (record_id = ANY($1) OR $2)
		AND programme IN ('hypertension', 'type2_diabetes') ORDER BY id FOR NO KEY UPDATE) x`, pq.Array(ids), allSchedules); err != nil {
		return err
	}
	return refreshSchedules(ctx, tx, "(e.record_id = ANY($1) OR $2)", pq.Array(ids), allSchedules)
}
