package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

// entryRow is a row of the entries table: the common columns, the typed
// columns some kinds query, and the kind's own fields as JSON.
type entryRow struct {
	ID                int64          `db:"id"`
	RecordID          string         `db:"record_id"`
	Kind              string         `db:"kind"`
	ServiceDate       civil.Date     `db:"service_date"`
	Doctor            string         `db:"doctor"`
	InstitutionCode   string         `db:"institution_code"`
	ReferralStatus    sql.NullString `db:"referral_status"`
	ToInstitutionCode sql.NullString `db:"to_institution_code"`
	Programme         sql.NullString `db:"programme"`
	NextDate          civil.Date     `db:"next_date"`
	Data              []byte         `db:"data"`
	CreatedAt         time.Time      `db:"created_at"`
	CreatedBy         string         `db:"created_by"`
}

const entryColumns = `id, record_id, kind, service_date, doctor, COALESCE(institution_code, '') AS institution_code,
	referral_status, to_institution_code, programme, next_date, data, created_at, created_by`

// toRow flattens an entry into its row.
func toRow(e entry.Entry) (entryRow, error) {
	m, b := e.Head(), e.Basics()
	data, err := json.Marshal(e.Own())
	if err != nil {
		return entryRow{}, err
	}
	r := entryRow{ID: m.ID, RecordID: m.RecordID, Kind: string(m.Kind), ServiceDate: b.ServiceDate, Doctor: b.StaffCode,
		InstitutionCode: m.InstitutionCode, Data: data, CreatedBy: m.CreatedBy}
	switch v := e.(type) {
	case *entry.Referral:
		r.ReferralStatus = sql.NullString{String: string(v.Status), Valid: true}
		r.ToInstitutionCode = sql.NullString{String: v.ToInstitutionCode, Valid: v.ToInstitutionCode != ""}
	case *entry.Followup:
		r.Programme = sql.NullString{String: string(v.Programme), Valid: true}
		r.NextDate = v.NextDate
	}
	return r, nil
}

// toEntry builds the domain entry from its row.
func (r entryRow) toEntry() (entry.Entry, error) {
	e := entry.New(entry.Kind(r.Kind))
	if e == nil {
		return nil, fmt.Errorf("entry %d: unknown kind %q", r.ID, r.Kind)
	}
	if err := json.Unmarshal(r.Data, e.Own()); err != nil {
		return nil, fmt.Errorf("entry %d: data: %w", r.ID, err)
	}
	m, b := e.Head(), e.Basics()
	m.ID, m.RecordID, m.InstitutionCode, m.CreatedAt, m.CreatedBy = r.ID, r.RecordID, r.InstitutionCode, r.CreatedAt, r.CreatedBy
	b.ServiceDate, b.StaffCode = r.ServiceDate, r.Doctor
	switch v := e.(type) {
	case *entry.Referral:
		v.Status = entry.ReferralStatus(r.ReferralStatus.String)
		v.ToInstitutionCode = r.ToInstitutionCode.String
	case *entry.Followup:
		v.Programme = entry.Programme(r.Programme.String)
		v.NextDate = r.NextDate
	}
	return e, nil
}

func toEntries(rows []entryRow) ([]entry.Entry, error) {
	out := make([]entry.Entry, len(rows))
	for i, r := range rows {
		e, err := r.toEntry()
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// AddEntry stores a service entry of an active record for the record's
// institution. With an idempotency key, a replay returns the first entry and
// created is false. Returns Invalid for bad fields (a follow-up needs an
// active enrolment in its programme), NotFound for a missing record, and
// Conflict (with state) for a record that is not active.
func (db *DB) AddEntry(ctx context.Context, actor, institution string, e entry.Entry, key Idempotency) (entry.Entry, bool, error) {
	m, b := e.Head(), e.Basics()
	if b.StaffCode == "" {
		b.StaffCode = actor
	}
	if err := e.Validate(civil.Of(db.Today())); err != nil {
		return nil, false, err
	}
	m.CreatedBy, m.InstitutionCode = actor, institution
	var stored entryRow
	id, created, err := db.withIdempotency(ctx, key, string(m.Kind), func(tx *Tx) (string, error) {
		if err := requireActiveRecord(ctx, tx, m.RecordID, b.ServiceDate); err != nil {
			return "", err
		}
		if b.StaffCode != actor { // the signed-in actor exists
			if err := requireStaff(ctx, tx, b.StaffCode); err != nil {
				return "", err
			}
		}
		var enrolment int64
		switch v := e.(type) {
		case *entry.Referral:
			if err := checkReceivingInstitution(ctx, tx, v, institution); err != nil {
				return "", err
			}
		case *entry.Followup:
			var err error
			if enrolment, err = followedEnrolment(ctx, tx, v); err != nil {
				return "", err
			}
		}
		row, err := toRow(e)
		if err != nil {
			return "", err
		}
		err = tx.GetContext(ctx, &stored, `INSERT INTO entries (record_id, kind, service_date, doctor, institution_code, referral_status,
			to_institution_code, programme, next_date, data, created_by)
			VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11) RETURNING `+entryColumns,
			row.RecordID, row.Kind, row.ServiceDate, row.Doctor, row.InstitutionCode, row.ReferralStatus, row.ToInstitutionCode,
			row.Programme, row.NextDate, string(row.Data), row.CreatedBy)
		if err != nil {
			return "", err
		}
		if err := noteService(ctx, tx, m.RecordID, b.ServiceDate); err != nil {
			return "", err
		}
		if f, ok := e.(*entry.Followup); ok {
			if err := noteFollowup(ctx, tx, enrolment, f.ServiceDate, f.NextDate); err != nil {
				return "", err
			}
		}
		return strconv.FormatInt(stored.ID, 10), nil
	})
	if err != nil {
		return nil, false, err
	}
	if !created { // a replay: the entry stored the first time
		got, err := db.Entry(ctx, id)
		return got, false, err
	}
	got, err := stored.toEntry()
	return got, true, err
}

// requireStaff checks a doctor's staff code exists.
func requireStaff(ctx context.Context, tx *Tx, code string) error {
	var ok bool
	if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM staff WHERE code = $1)`, code); err != nil {
		return err
	}
	if !ok {
		return apperr.InvalidField("staff_code", "医生工号 "+code+" 不存在")
	}
	return nil
}

// checkReceivingInstitution checks a referral's receiving institution, when
// it is one of this service's, and names it on the slip when only its code
// was sent.
func checkReceivingInstitution(ctx context.Context, tx *Tx, r *entry.Referral, from string) error {
	if r.ToInstitutionCode == "" {
		return nil
	}
	if r.ToInstitutionCode == from {
		return apperr.InvalidField("to_institution_code", "不能转诊到本机构")
	}
	var name string
	err := tx.GetContext(ctx, &name, `SELECT name FROM institutions WHERE code = $1`, r.ToInstitutionCode)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.InvalidField("to_institution_code", "机构 "+r.ToInstitutionCode+" 不存在")
	} else if err != nil {
		return err
	}
	if r.ToInstitution == "" {
		r.ToInstitution = name
	}
	return nil
}

// Entry returns one entry. Returns NotFound.
func (db *DB) Entry(ctx context.Context, id string) (entry.Entry, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, apperr.NotFoundf("服务记录 %s 不存在", id)
	}
	var r entryRow
	if err := db.GetContext(ctx, &r, `SELECT `+entryColumns+` FROM entries WHERE id = $1`, n); err != nil {
		return nil, notFound(err, "服务记录 %s 不存在", id)
	}
	return r.toEntry()
}

// Entries lists a record's entries of one kind, newest first.
func (db *DB) Entries(ctx context.Context, recordID string, kind entry.Kind, page Page) ([]entry.Entry, int, error) {
	var rows []entryRow
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM entries WHERE record_id = $1 AND kind = $2`, recordID, kind); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, `SELECT `+entryColumns+` FROM entries WHERE record_id = $1 AND kind = $2
			ORDER BY service_date DESC, id DESC LIMIT $3 OFFSET $4`, recordID, kind, page.Limit(), page.Offset())
	})
	if err != nil {
		return nil, 0, err
	}
	out, err := toEntries(rows)
	return out, total, err
}
