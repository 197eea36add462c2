package postgres

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

// An entry is never changed (filing included): a correction is a new
// version of it, a new row linked to the one it corrects (entries.corrects,
// with the reason), which stays as it was. The current version is the one
// no other corrects; lists, the timeline, the facts and the follow-up
// schedules read current versions only (migration 00027).

// currentVersion is the condition that a row of entries (unaliased) is its
// entry's current version.
const currentVersion = `NOT EXISTS (SELECT 1 FROM entries c WHERE c.corrects = entries.id)`

// Version is one version of an entry in its history, oldest first.
type Version struct {
	Version int `json:"version"`
	// Corrects is the version this one corrects (absent for the first), and
	// Reason why.
	Corrects *int64      `json:"corrects,omitempty"`
	Reason   string      `json:"correction_reason,omitempty"`
	Current  bool        `json:"current"`
	At       time.Time   `json:"created_at"`
	By       string      `json:"created_by"`
	Entry    entry.Entry `json:"entry"`
}

// CorrectEntry stores e as a new version of the entry oldID of the same
// record and kind, for reason, as actor of institution; the facts and the
// follow-up schedules of the record are settled from the current versions.
// With an idempotency key, a replay returns the first correction and
// created is false. The pending audit row (Audited) commits with it.
// Returns NotFound for an entry not of the record and kind, Conflict (with
// current_id) for a version corrected already, Invalid for bad fields
// or reason, Conflict with state for a record that is not active.
func (db *DB) CorrectEntry(ctx context.Context, actor, institution, oldID string, e entry.Entry, reason string, key Idempotency) (entry.Entry, bool, error) {
	m, b := e.Head(), e.Basics()
	if b.StaffCode == "" {
		b.StaffCode = actor
	}
	reason = strings.TrimSpace(reason)
	if err := e.Validate(civil.Of(db.Today())); err != nil {
		return nil, false, err
	}
	if reason == "" {
		return nil, false, apperr.InvalidField("correction_reason", "更正原因不能为空")
	}
	if len([]rune(reason)) > entry.MaxText {
		return nil, false, apperr.InvalidField("correction_reason", "更正原因最多 4000 个字")
	}
	old, err := strconv.ParseInt(oldID, 10, 64)
	if err != nil || old <= 0 {
		return nil, false, apperr.NotFoundf("服务记录 %s 不存在", oldID)
	}
	m.CreatedBy, m.InstitutionCode = actor, institution
	row, err := toRow(e)
	if err != nil {
		return nil, false, err
	}
	id, created, err := db.writeIdempotent(ctx, key, row.Kind+"_correction", func(tx *Tx) (string, error) {
		// The record first (the lock order of docs/rates.md), then the version.
		if err := requireActiveRecordLocked(ctx, tx, m.RecordID, b.ServiceDate); err != nil {
			return "", err
		}
		var prev struct {
			Kind        string        `db:"kind"`
			Record      string        `db:"record_id"`
			CorrectedBy sql.NullInt64 `db:"corrected_by"`
		}
		err := tx.GetContext(ctx, &prev, `SELECT kind, record_id, (SELECT c.id FROM entries c WHERE c.corrects = e.id) AS corrected_by
			FROM entries e WHERE id = $1 FOR UPDATE`, old)
		if err != nil || prev.Kind != row.Kind || prev.Record != row.RecordID {
			return "", apperr.NotFoundf("档案 %s 没有%s %s", row.RecordID, entry.Kind(row.Kind).Chinese(), oldID)
		}
		if prev.CorrectedBy.Valid {
			latest, err := latestVersion(ctx, tx, old)
			if err != nil {
				return "", err
			}
			return "", apperr.Conflictf("服务记录 %s 已被更正，请在最新版本 %d 上更正", oldID, latest).With("current_id", latest)
		}
		if f, ok := e.(*entry.Followup); ok {
			var enrolled civil.Date
			if err := tx.GetContext(ctx, &enrolled, `SELECT max(enrolled_on) FROM enrolments
				WHERE record_id = $1 AND programme = $2 AND status = 'active'`, row.RecordID, row.Programme); err != nil {
				return "", err
			}
			if err := enrolmentRefusal(f.Programme, f.ServiceDate, enrolled); err != nil {
				return "", err
			}
		}
		var id int64
		err = tx.GetContext(ctx, &id, `INSERT INTO entries (record_id, kind, service_date, doctor, institution_code, referral_status,
				to_institution_code, programme, next_date, data, created_by, corrects, correction_reason)
			VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			row.RecordID, row.Kind, row.ServiceDate, row.Doctor, row.InstitutionCode, row.ReferralStatus, row.ToInstitutionCode,
			row.Programme, row.NextDate, string(row.Data), row.CreatedBy, old, reason)
		if ae, ok := apperr.As(translate(err)); ok && ae.Code == apperr.Invalid && len(ae.Fields) > 0 {
			return "", apperr.InvalidField("staff_code", "医生工号 "+row.Doctor+" 不存在")
		} else if err != nil {
			return "", err
		}
		return strconv.FormatInt(id, 10), settleFacts(ctx, tx, []string{row.RecordID}, false)
	})
	if err != nil {
		return nil, false, err
	}
	got, err := db.Entry(ctx, id)
	return got, created, err
}

// requireActiveRecordLocked is requireActiveRecord with the record locked
// for the write.
func requireActiveRecordLocked(ctx context.Context, tx *Tx, id string, on civil.Date) error {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM records WHERE record_id = $1 FOR NO KEY UPDATE`, id); err != nil {
		return err
	}
	return requireActiveRecord(ctx, tx, id, on)
}

// latestVersion is the current version of the entry a version belongs to.
func latestVersion(ctx context.Context, tx *Tx, id int64) (int64, error) {
	var latest int64
	err := tx.GetContext(ctx, &latest, `WITH RECURSIVE later AS (
			SELECT id FROM entries WHERE id = $1
			UNION ALL SELECT c.id FROM entries c JOIN later l ON c.corrects = l.id)
		SELECT max(id) FROM later`, id)
	return latest, err
}

// EntryHistory returns every version of the entry a version id belongs
// to, oldest first. Returns NotFound.
func (db *DB) EntryHistory(ctx context.Context, id string) ([]Version, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, apperr.NotFoundf("服务记录 %s 不存在", id)
	}
	var rows []struct {
		entryRow
		Corrects sql.NullInt64  `db:"corrects"`
		Reason   sql.NullString `db:"correction_reason"`
	}
	// Back to the first version, then forward along the corrections.
	err = db.SelectContext(ctx, &rows, `WITH RECURSIVE earlier AS (
			SELECT id, corrects FROM entries WHERE id = $1
			UNION ALL SELECT e.id, e.corrects FROM entries e JOIN earlier x ON e.id = x.corrects
		), chain AS (
			SELECT id FROM earlier WHERE corrects IS NULL
			UNION ALL SELECT e.id FROM entries e JOIN chain c ON e.corrects = c.id
		)
		SELECT `+entryColumns+`, corrects, correction_reason FROM entries WHERE id IN (SELECT id FROM chain) ORDER BY id`, n)
	if err != nil {
		return nil, translate(err)
	}
	if len(rows) == 0 {
		return nil, apperr.NotFoundf("服务记录 %s 不存在", id)
	}
	out := make([]Version, len(rows))
	for i, r := range rows {
		e, err := r.toEntry()
		if err != nil {
			return nil, err
		}
		v := Version{Version: i + 1, Current: i == len(rows)-1, At: r.CreatedAt, By: r.CreatedBy, Entry: e, Reason: r.Reason.String}
		if r.Corrects.Valid {
			c := r.Corrects.Int64
			v.Corrects = &c
		}
		out[i] = v
	}
	return out, nil
}
