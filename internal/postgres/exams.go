package postgres

import (
	"context"
	"encoding/json"
	"strconv"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/examform"
	"healthrec/internal/record"
)

const examColumns = `id, record_id, exam_date, doctor, COALESCE(institution_code, '') AS institution_code, temperature, pulse,
	respiration, systolic, diastolic, systolic_right, diastolic_right, height_cm, weight_kg, waist_cm, fasting_glucose,
	details, sections, section_states, state, created_at, created_by, updated_at, COALESCE(updated_by, '') AS updated_by`

// AddExam stores a health examination of an active record. With an
// idempotency key, a replay returns the first exam and created is false.
// The gate's audit row of the attempt, when given (Audited), commits with
// it.
func (db *DB) AddExam(ctx context.Context, actor, institution string, e *record.Exam, key Idempotency) (created bool, err error) {
	if e.Doctor == "" {
		e.Doctor = actor
	}
	if err := e.Validate(civil.Of(db.Today())); err != nil {
		return false, err
	}
	e.CreatedBy, e.InstitutionCode = actor, institution
	e.UpdatedAt, e.UpdatedBy = nil, ""
	id, created, err := db.writeIdempotent(ctx, key, "exam", func(tx *Tx) (string, error) {
		if err := requireActiveRecord(ctx, tx, e.RecordID, e.ExamDate); err != nil {
			return "", err
		}
		var id int64
		err := tx.GetContext(ctx, &id, `INSERT INTO exams (record_id, exam_date, doctor, institution_code, temperature, pulse, respiration,
			systolic, diastolic, systolic_right, diastolic_right, height_cm, weight_kg, waist_cm, fasting_glucose, details, created_by,
			sections, section_states, state)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id`,
			e.RecordID, e.ExamDate, e.Doctor, e.InstitutionCode, e.Temperature, e.Pulse, e.Respiration, e.Systolic, e.Diastolic,
			e.SystolicRight, e.DiastolicRight, e.HeightCM, e.WeightKG, e.WaistCM, e.FastingGlucose, e.Details, actor,
			e.Sections, e.SectionStates, e.State)
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.Invalid && len(e.Fields) > 0 {
			return "", apperr.InvalidField("staff_code", "医生工号不存在")
		} else if err != nil {
			return "", err
		}
		return strconv.FormatInt(id, 10), noteExam(ctx, tx, e.RecordID, id, e.ExamDate, e.Complete())
	})
	if err != nil {
		return false, err
	}
	got, err := db.Exam(ctx, id)
	if err != nil {
		return false, err
	}
	*e = *got
	return created, nil
}

// requireActiveRecord checks a service can be recorded on a record on a date:
// the record exists and is active, and the date is not before birth. A date
// before filing is allowed: paper records are often filed after the first exam.
func requireActiveRecord(ctx context.Context, tx *Tx, id string, on civil.Date) error {
	var r struct {
		Status string     `db:"status"`
		Birth  civil.Date `db:"birth_date"`
	}
	if err := tx.GetContext(ctx, &r, `SELECT status, birth_date FROM records WHERE record_id = $1`, id); err != nil {
		return notFound(err, "档案 %s 不存在", id)
	}
	return serviceRefusal(r.Status, r.Birth, on)
}

// serviceRefusal is why a record with a status and birth date cannot take a
// service on a date, or nil.
func serviceRefusal(status string, birth, on civil.Date) error {
	if status != string(record.Active) {
		return apperr.Conflictf("档案状态为 %s，不能新增服务记录", status).With("state", status)
	}
	if !birth.IsZero() && on.Before(birth) {
		return apperr.InvalidField("service_date", "服务日期不能早于出生日期")
	}
	return nil
}

// Exam returns one exam. Returns NotFound.
func (db *DB) Exam(ctx context.Context, id string) (*record.Exam, error) {
	var e record.Exam
	if err := db.GetContext(ctx, &e, `SELECT `+examColumns+` FROM exams WHERE id = $1`, id); err != nil {
		return nil, notFound(err, "体检记录 %s 不存在", id)
	}
	e.DeriveBMI()
	return &e, nil
}

// Exams lists a record's examinations, newest first.
func (db *DB) Exams(ctx context.Context, recordID string, page Page) ([]record.Exam, int, error) {
	var rows []struct {
		record.Exam
		Total int `db:"total"`
	}
	// One statement, the total riding along: the record page runs this on
	// every view.
	err := db.SelectContext(ctx, &rows, `SELECT `+examColumns+`, count(*) OVER () AS total FROM exams WHERE record_id = $1
		ORDER BY exam_date DESC, id DESC LIMIT $2 OFFSET $3`, recordID, page.Limit(), page.Offset())
	if err != nil {
		return nil, 0, translate(err)
	}
	out := make([]record.Exam, len(rows))
	carried := 0
	for i, r := range rows {
		out[i], carried = r.Exam, r.Total
		out[i].DeriveBMI()
	}
	total, err := db.listTotal(ctx, page, len(rows), carried, `SELECT count(*) FROM exams WHERE record_id = $1`, recordID)
	return out, total, err
}

// RecordExam returns one exam of a record. Returns NotFound, also for an
// exam of another record.
func (db *DB) RecordExam(ctx context.Context, recordID string, id int64) (*record.Exam, error) {
	var e record.Exam
	if err := db.GetContext(ctx, &e, `SELECT `+examColumns+` FROM exams WHERE id = $1 AND record_id = $2`, id, recordID); err != nil {
		return nil, notFound(err, "档案 %s 没有体检记录 %d", recordID, id)
	}
	e.DeriveBMI()
	return &e, nil
}

// PatchExamSection saves one section of an exam (record.Exam.ApplySection):
// its answers merged, its state set (kept when state is empty). Each item
// that changed is kept in the record's history, before → after, under
// "exam <id> <section>.<item>". A change of the vital signs resets the
// record's quality facts (Q11) in the same transaction.
//
// Returns NotFound for a record, an exam or a section that does not exist,
// Conflict for a record that is not active, Invalid with the fields at
// fault.
func (db *DB) PatchExamSection(ctx context.Context, actor, recordID string, id int64, section string,
	patch map[string]json.RawMessage, state string) (*record.Exam, error) {
	var out *record.Exam
	err := db.inWriteTx(ctx, func(tx *Tx) error {
		// The record before the exam: the lock order of docs/rates.md.
		var r struct {
			Status string     `db:"status"`
			Birth  civil.Date `db:"birth_date"`
		}
		if err := tx.GetContext(ctx, &r, `SELECT status, birth_date FROM records WHERE record_id = $1 FOR NO KEY UPDATE`, recordID); err != nil {
			return notFound(err, "档案 %s 不存在", recordID)
		}
		var e record.Exam
		if err := tx.GetContext(ctx, &e, `SELECT `+examColumns+` FROM exams WHERE id = $1 AND record_id = $2 FOR UPDATE`, id, recordID); err != nil {
			return notFound(err, "档案 %s 没有体检记录 %d", recordID, id)
		}
		if err := serviceRefusal(r.Status, r.Birth, e.ExamDate); err != nil {
			return err
		}
		e.DeriveBMI()
		before := e.ColumnValues()
		beforeSection := e.Sections[section]
		beforeState := e.SectionStates[section]
		wasComplete := e.Complete()
		if err := e.ApplySection(section, patch, state, civil.Of(db.Today())); err != nil {
			return err
		}
		err := tx.GetContext(ctx, &e, `UPDATE exams SET temperature = $3, pulse = $4, respiration = $5, systolic = $6, diastolic = $7,
			systolic_right = $8, diastolic_right = $9, height_cm = $10, weight_kg = $11, waist_cm = $12, fasting_glucose = $13,
			sections = $14, section_states = $15, state = $16, updated_at = now(), updated_by = $17
			WHERE id = $1 AND record_id = $2 RETURNING `+examColumns,
			id, recordID, e.Temperature, e.Pulse, e.Respiration, e.Systolic, e.Diastolic, e.SystolicRight, e.DiastolicRight,
			e.HeightCM, e.WeightKG, e.WaistCM, e.FastingGlucose, e.Sections, e.SectionStates, e.State, actor)
		if err != nil {
			return err
		}
		e.DeriveBMI()
		changes := examChanges(id, section, before, e.ColumnValues(), beforeSection, e.Sections[section], beforeState, e.SectionStates[section])
		if len(changes) > 0 {
			if err := addHistory(ctx, tx, recordID, actor, "exam", changes); err != nil {
				return err
			}
		}
		if e.Complete() != wasComplete {
			if err := settleFacts(ctx, tx, []string{recordID}, false); err != nil {
				return err
			}
		}
		out = &e
		return nil
	})
	return out, err
}

// examChanges are the items of one exam section that differ, keyed for the
// record's history.
func examChanges(id int64, section string, colsBefore, colsAfter, before, after examform.Values, stateBefore, stateAfter string) map[string]record.Change {
	out := map[string]record.Change{}
	prefix := "exam " + strconv.FormatInt(id, 10) + " " + section + "."
	s, _ := examform.Lookup(section)
	for _, f := range s.Fields {
		a, b := before[f.Key], after[f.Key]
		if f.Column {
			if f.Kind == examform.Derived {
				continue
			}
			a, b = colsBefore[f.Key], colsAfter[f.Key]
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			out[prefix+f.Key] = record.Change{Before: a, After: b}
		}
	}
	if stateBefore != stateAfter {
		out[prefix+"state"] = record.Change{Before: nilIfEmpty(stateBefore), After: stateAfter}
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
