package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// The filing queue (归档, migration 00027): an entry written by someone other
// than its record's responsible doctor waits, in the table entry_filings,
// until the record's responsible doctor files it. Filing marks the queue's
// row; the entry itself is never changed by it.

// FilingItem is an entry waiting in a doctor's queue.
type FilingItem struct {
	EntryID       int64      `json:"entry_id" db:"entry_id"`
	RecordID      string     `json:"record_id" db:"record_id"`
	Name          string     `json:"name" db:"name"`
	Kind          string     `json:"kind" db:"kind"`
	ServiceDate   civil.Date `json:"service_date" db:"service_date"`
	StaffCode     string     `json:"staff_code" db:"doctor"`
	WrittenBy     string     `json:"written_by" db:"written_by"`
	WrittenByName string     `json:"written_by_name" db:"written_by_name"`
	QueuedAt      time.Time  `json:"queued_at" db:"queued_at"`
	// Conforming is whether the entry meets its kind's specification: the
	// doctor sees at a glance what will not count for usage.
	Conforming bool `json:"conforming" db:"conforming"`
}

// filingPending are the pending rows of the records whose responsible
// doctor is $1: the queue follows the record to its doctor now.
const filingPending = `FROM entry_filings q JOIN records r ON r.record_id = q.record_id
	WHERE q.filed_at IS NULL AND r.responsible_doctor = $1`

// FilingQueue lists a doctor's queue, oldest first, and its length.
func (db *DB) FilingQueue(ctx context.Context, doctor string, page Page) ([]FilingItem, int, error) {
	var rows []struct {
		FilingItem
		Total int `db:"total"`
	}
	err := db.SelectContext(ctx, &rows, `SELECT q.entry_id, q.record_id, r.name, e.kind, e.service_date, e.doctor, q.written_by,
			COALESCE(s.name, '') AS written_by_name, q.queued_at, e.conforming, count(*) OVER () AS total
		FROM entry_filings q JOIN records r ON r.record_id = q.record_id JOIN entries e ON e.id = q.entry_id
			LEFT JOIN staff s ON s.code = q.written_by
		WHERE q.filed_at IS NULL AND r.responsible_doctor = $1
		ORDER BY q.queued_at, q.entry_id LIMIT $2 OFFSET $3`, doctor, page.Limit(), page.Offset())
	if err != nil {
		return nil, 0, translate(err)
	}
	out := make([]FilingItem, len(rows))
	carried := 0
	for i, r := range rows {
		out[i], carried = r.FilingItem, r.Total
	}
	total, err := db.listTotal(ctx, page, len(rows), carried, `SELECT count(*) `+filingPending, doctor)
	return out, total, err
}

// FilingCount is the length of a doctor's queue, for the desk's badge.
func (db *DB) FilingCount(ctx context.Context, doctor string) (int, error) {
	var n int
	err := db.GetContext(ctx, &n, `SELECT count(*) `+filingPending, doctor)
	return n, translate(err)
}

// FilingTarget is an entry named in a filing, as the gate needs it: its
// record and that record's responsible doctor.
type FilingTarget struct {
	EntryID     int64  `db:"entry_id"`
	RecordID    string `db:"record_id"`
	Responsible string `db:"responsible_doctor"`
	// Queued is whether it was ever queued: an entry its record's doctor
	// wrote never is, and has nothing to file.
	Queued bool `db:"queued"`
}

// FilingTargets looks up the entries of a filing, in ID order. Returns
// NotFound naming the first ID that is no entry.
func (db *DB) FilingTargets(ctx context.Context, ids []int64) ([]FilingTarget, error) {
	var out []FilingTarget
	err := db.SelectContext(ctx, &out, `SELECT e.id AS entry_id, e.record_id, COALESCE(r.responsible_doctor, '') AS responsible_doctor,
			q.entry_id IS NOT NULL AS queued
		FROM entries e JOIN records r ON r.record_id = e.record_id LEFT JOIN entry_filings q ON q.entry_id = e.id
		WHERE e.id = ANY($1) ORDER BY e.id`, pq.Array(ids))
	if err != nil {
		return nil, translate(err)
	}
	found := make(map[int64]bool, len(out))
	for _, t := range out {
		found[t.EntryID] = true
	}
	for _, id := range ids {
		if !found[id] {
			return nil, apperr.NotFoundf("服务记录 %d 不存在", id).With("entry_id", id)
		}
	}
	return out, nil
}

// Filed is the outcome of a filing: the entries it filed, and those filed
// before (a repeated filing changes nothing).
type Filed struct {
	Filed        []int64 `json:"filed"`
	AlreadyFiled []int64 `json:"already_filed"`
	// Queue is what is left in the doctor's queue.
	Queue int `json:"queue"`
}

// FileEntries files the entries ids as doctor, all or none, with the audit
// rows of the gate's decisions on their records. Every entry must be queued
// (Conflict otherwise) and its record's responsible doctor must be doctor
// when the filing commits (Forbidden: a handover may have moved a record
// since the gate looked). The entries themselves are not written.
func (db *DB) FileEntries(ctx context.Context, doctor string, ids []int64, audits []*access.PendingAudit) (*Filed, error) {
	out := &Filed{Filed: []int64{}, AlreadyFiled: []int64{}}
	err := db.inTx(ctx, func(tx *Tx) error {
		*out = Filed{Filed: []int64{}, AlreadyFiled: []int64{}}
		// The records first, in ID order (docs/rates.md's lock order), so
		// that no handover moves one between the check and the filing.
		var recs []struct {
			ID          string `db:"record_id"`
			Responsible string `db:"responsible_doctor"`
		}
		if err := tx.SelectContext(ctx, &recs, `SELECT record_id, COALESCE(responsible_doctor, '') AS responsible_doctor FROM records
			WHERE record_id IN (SELECT record_id FROM entries WHERE id = ANY($1)) ORDER BY record_id FOR SHARE`, pq.Array(ids)); err != nil {
			return err
		}
		for _, r := range recs {
			if r.Responsible != doctor {
				return apperr.Forbiddenf("只有档案 %s 的责任医生可以归档其服务记录", r.ID)
			}
		}
		var rows []struct {
			ID    int64 `db:"entry_id"`
			Filed bool  `db:"filed"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT entry_id, filed_at IS NOT NULL AS filed FROM entry_filings
			WHERE entry_id = ANY($1) ORDER BY entry_id FOR UPDATE`, pq.Array(ids)); err != nil {
			return err
		}
		queued := map[int64]bool{}
		for _, r := range rows {
			queued[r.ID] = true
			if r.Filed {
				out.AlreadyFiled = append(out.AlreadyFiled, r.ID)
			} else {
				out.Filed = append(out.Filed, r.ID)
			}
		}
		for _, id := range ids {
			if !queued[id] {
				return apperr.Conflictf("服务记录 %d 由责任医生本人填写，无需归档", id).With("entry_id", id)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE entry_filings SET filed_at = now(), filed_by = $2 WHERE entry_id = ANY($1)`,
			pq.Array(out.Filed), doctor); err != nil {
			return err
		}
		for _, a := range audits {
			if err := auditIn(ctx, tx, a); err != nil {
				return err
			}
		}
		return tx.GetContext(ctx, &out.Queue, `SELECT count(*) `+filingPending, doctor)
	})
	if err != nil {
		return nil, translate(err)
	}
	for _, a := range audits {
		a.Written()
	}
	slices.Sort(out.Filed)
	slices.Sort(out.AlreadyFiled)
	return out, nil
}
