package postgres

import (
	"context"
	"strconv"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/record"
)

const enrolmentColumns = `id, record_id, programme, enrolled_on, status, ended_on, end_reason, last_followup_date,
	next_due_date, discharged_on, lmp_date, delivered_on, created_at, created_by`

// enrolmentRow is a row of the enrolments table.
type enrolmentRow struct {
	ID               int64      `db:"id"`
	RecordID         string     `db:"record_id"`
	Programme        string     `db:"programme"`
	EnrolledOn       civil.Date `db:"enrolled_on"`
	Status           string     `db:"status"`
	EndedOn          civil.Date `db:"ended_on"`
	EndReason        string     `db:"end_reason"`
	LastFollowupDate civil.Date `db:"last_followup_date"`
	NextDueDate      civil.Date `db:"next_due_date"`
	DischargedOn     civil.Date `db:"discharged_on"`
	LMPDate          civil.Date `db:"lmp_date"`
	DeliveredOn      civil.Date `db:"delivered_on"`
	CreatedAt        time.Time  `db:"created_at"`
	CreatedBy        string     `db:"created_by"`
}

func (r *enrolmentRow) toEnrolment() *entry.Enrolment {
	return &entry.Enrolment{ID: r.ID, RecordID: r.RecordID,
		EnrolmentForm: entry.EnrolmentForm{Programme: entry.Programme(r.Programme), EnrolledOn: r.EnrolledOn, Status: r.Status,
			EndedOn: r.EndedOn, EndReason: r.EndReason, DischargedOn: r.DischargedOn, LMPDate: r.LMPDate, DeliveredOn: r.DeliveredOn},
		LastFollowupDate: r.LastFollowupDate, NextFollowupDue: r.NextDueDate, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy}
}

// AddEnrolment enrols a record's resident in a programme. With an idempotency
// key, a replay returns the first enrolment and created is false. Returns
// Invalid for bad fields (checked against the resident's age and sex),
// NotFound for a missing record, and Conflict for a record that is not active
// (with state) or a programme the resident is already enrolled in (with
// existing_enrolment_id).
func (db *DB) AddEnrolment(ctx context.Context, actor, recordID string, f entry.EnrolmentForm, key Idempotency) (*entry.Enrolment, bool, error) {
	id, created, err := db.writeIdempotent(ctx, key, "enrolment", func(tx *Tx) (string, error) {
		var r struct {
			Status string     `db:"status"`
			Sex    *string    `db:"sex"`
			Birth  civil.Date `db:"birth_date"`
		}
		// The record's row lock queues concurrent enrolments of one resident,
		// so that the duplicate check below sees the winner. NO KEY UPDATE:
		// it does not wait for the foreign-key locks of an import's exams and
		// entries on the record.
		if err := tx.GetContext(ctx, &r, `SELECT status, sex, birth_date FROM records WHERE record_id = $1 FOR NO KEY UPDATE`, recordID); err != nil {
			return "", notFound(err, "档案 %s 不存在", recordID)
		}
		if r.Status != string(record.Active) {
			return "", apperr.Conflictf("档案状态为 %s，不能纳入项目管理", r.Status).With("state", r.Status)
		}
		res := entry.Resident{BirthDate: r.Birth}
		if r.Sex != nil {
			res.Sex = *r.Sex
		}
		if err := f.Validate(civil.Of(db.Today()), res); err != nil {
			return "", err
		}
		if f.Status == entry.EnrolmentActive {
			var existing int64
			err := tx.GetContext(ctx, &existing, `SELECT id FROM enrolments WHERE record_id = $1 AND programme = $2 AND status = 'active'`,
				recordID, f.Programme)
			if err == nil {
				return "", apperr.Conflictf("居民已在%s管理中（纳入记录 %d），同一项目只能有一条在管记录", f.Programme.Chinese(), existing).
					With("existing_enrolment_id", existing)
			} else if e, ok := apperr.As(translate(err)); !ok || e.Code != apperr.NotFound {
				return "", err
			}
		}
		var id int64
		err := tx.GetContext(ctx, &id, `INSERT INTO enrolments (record_id, programme, enrolled_on, status, ended_on, end_reason,
				discharged_on, lmp_date, delivered_on, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			recordID, f.Programme, f.EnrolledOn, f.Status, f.EndedOn, f.EndReason, f.DischargedOn, f.LMPDate, f.DeliveredOn, actor)
		if err != nil {
			return "", err
		}
		if f.Status == entry.EnrolmentActive {
			if err := putSchedule(ctx, tx, id, recordID, f.Programme, entry.Schedule(f.Programme, f.Anchors(r.Birth))); err != nil {
				return "", err
			}
		}
		if f.Programme.FollowedUp() {
			if err := refreshSchedules(ctx, tx, "e.id = $1", id); err != nil {
				return "", err
			}
		}
		return strconv.FormatInt(id, 10), nil
	})
	if err != nil {
		return nil, false, err
	}
	got, err := db.Enrolment(ctx, recordID, id)
	return got, created, err
}

// Enrolment returns one enrolment of a record. Returns NotFound, also when
// the enrolment is another record's.
func (db *DB) Enrolment(ctx context.Context, recordID, id string) (*entry.Enrolment, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, apperr.NotFoundf("档案 %s 没有项目管理记录 %s", recordID, id)
	}
	var r enrolmentRow
	if err := db.GetContext(ctx, &r, `SELECT `+enrolmentColumns+` FROM enrolments WHERE id = $1 AND record_id = $2`, n, recordID); err != nil {
		return nil, notFound(err, "档案 %s 没有项目管理记录 %s", recordID, id)
	}
	out := []entry.Enrolment{*r.toEnrolment()}
	if err := db.withSchedules(ctx, out); err != nil {
		return nil, err
	}
	return &out[0], nil
}

// Enrolments lists a record's enrolments: active ones first, then by
// enrolment date, newest first.
func (db *DB) Enrolments(ctx context.Context, recordID string, page Page) ([]entry.Enrolment, int, error) {
	var rows []struct {
		enrolmentRow
		Total int `db:"total"`
	}
	// One statement, the total riding along: the record page runs this on
	// every view.
	err := db.SelectContext(ctx, &rows, `SELECT `+enrolmentColumns+`, count(*) OVER () AS total FROM enrolments WHERE record_id = $1
		ORDER BY status = 'active' DESC, enrolled_on DESC, id DESC LIMIT $2 OFFSET $3`, recordID, page.Limit(), page.Offset())
	if err != nil {
		return nil, 0, translate(err)
	}
	out := make([]entry.Enrolment, len(rows))
	carried := 0
	for i, r := range rows {
		out[i], carried = *r.enrolmentRow.toEnrolment(), r.Total
	}
	if err := db.withSchedules(ctx, out); err != nil {
		return nil, 0, err
	}
	total, err := db.listTotal(ctx, page, len(rows), carried, `SELECT count(*) FROM enrolments WHERE record_id = $1`, recordID)
	return out, total, err
}

// EndEnrolment ends (结案) an active enrolment of a record. Returns NotFound
// when the enrolment is not the record's, and Conflict with state when it
// has already ended.
func (db *DB) EndEnrolment(ctx context.Context, recordID, id string, f entry.EndForm) (*entry.Enrolment, error) {
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return nil, apperr.NotFoundf("项目管理记录 %s 不存在", id)
	}
	var out *entry.Enrolment
	err := db.inWriteTx(ctx, func(tx *Tx) error {
		var r enrolmentRow
		if err := tx.GetContext(ctx, &r, `SELECT `+enrolmentColumns+` FROM enrolments WHERE id = $1 AND record_id = $2 FOR UPDATE`,
			id, recordID); err != nil {
			return notFound(err, "档案 %s 没有项目管理记录 %s", recordID, id)
		}
		e := r.toEnrolment()
		if err := e.End(f, civil.Of(db.Today())); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE enrolments SET status = $2, ended_on = $3, end_reason = $4 WHERE id = $1`,
			id, e.Status, e.EndedOn, e.EndReason); err != nil {
			return err
		}
		out = e
		return nil
	})
	return out, err
}

// enrolmentRefusal is why an entry cannot be recorded against its
// programme's enrolment (zero enrolledOn: none active), or nil: a
// follow-up, or a service of a key population's schedule.
func enrolmentRefusal(p entry.Programme, on, enrolledOn civil.Date) error {
	what, field := "服务", "service"
	if p.FollowedUp() {
		what, field = "随访", "programme"
	}
	if enrolledOn.IsZero() {
		return apperr.InvalidField(field, "居民未纳入"+p.Chinese()+"管理，请先登记纳入管理再"+what)
	}
	if on.Before(enrolledOn) {
		return apperr.InvalidField("service_date", what+"日期不能早于纳入"+p.Chinese()+"管理的日期 "+enrolledOn.String())
	}
	return nil
}

// refreshSchedules recomputes the follow-up schedule of the hypertension and
// diabetes enrolments matching cond (over enrolments e), set-based, from
// their latest follow-up between enrolment and end.
func refreshSchedules(ctx context.Context, tx *Tx, cond string, args ...any) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE enrolments t SET last_followup_date = l.service_date,
			next_due_date = followup_due(COALESCE(l.service_date, e.enrolled_on), l.next_date)
		FROM enrolments e LEFT JOIN LATERAL (
			SELECT f.service_date, f.next_date FROM entries f
			WHERE f.kind = 'followup' AND f.record_id = e.record_id AND f.programme = e.programme
				AND f.service_date >= e.enrolled_on AND (e.ended_on IS NULL OR f.service_date <= e.ended_on)
				AND NOT EXISTS (SELECT 1 FROM entries c WHERE c.corrects = f.id)
			ORDER BY f.service_date DESC, f.id DESC LIMIT 1
		) l ON true
		WHERE t.id = e.id AND e.programme IN ('hypertension', 'type2_diabetes') AND `+cond+`
			AND (t.last_followup_date, t.next_due_date)
				IS DISTINCT FROM (l.service_date, followup_due(COALESCE(l.service_date, e.enrolled_on), l.next_date))`, args...)
	return err
}
