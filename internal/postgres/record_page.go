package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	gojson "github.com/goccy/go-json"

	"healthrec/internal/access"
	"healthrec/internal/entry"
	"healthrec/internal/record"
)

// RecordPage is what GET /records/{id} shows of a record, read at once.
type RecordPage struct {
	// Scope is where the record belongs, for the gate; a missing record's
	// (Missing set) is all there is of its page.
	Scope  *access.RecordScope
	Record *record.Record
	// Names name the basic section's codes: village_code,
	// filing_institution, responsible_doctor and filed_by, where they name
	// something.
	Names map[string]string
	// Exams are the latest examinations (ExamsPerPage of them), newest first.
	Exams []record.Exam
	// Enrolments are the resident's programmes, active first, each with
	// its schedule when the programme has one.
	Enrolments []entry.Enrolment
	// StaffNames name the staff of the record's exams and entries.
	StaffNames map[string]string
}

// RecordPageExams is how many examinations the record page shows.
const RecordPageExams = 20

// recordPageSQL reads the record, the names of its codes, its latest exams,
// its enrolments with their schedules and the names of its exams' and
// entries' staff in one statement: each was a round trip of its own (eight
// with the names, two of them transactions), and on this kind of machine a
// round trip costs more CPU than the index probe it carries. The lists
// come as JSON arrays of rows whose keys are the columns the lists' own
// queries read (Exams, Enrolments, withSchedules), decoded by jsonRows.
// The staff names are looked up one by one (a record has a few doctors)
// rather than by hashing the whole staff table, as the planner chose for
// RecordStaffNames' IN.
const recordPageSQL = `SELECT r.*, COALESCE(v.institution_code, '') AS page_institution_code, v.name AS page_village_name,
	COALESCE((SELECT i.name FROM institutions i WHERE i.code = r.filing_institution), '') AS page_institution_name,
	COALESCE((SELECT s.name FROM staff s WHERE s.code = r.responsible_doctor), '') AS page_doctor_name,
	COALESCE((SELECT s.name FROM staff s WHERE s.code = r.filed_by), '') AS page_filed_by_name,
	COALESCE((SELECT json_agg(x ORDER BY x.exam_date DESC, x.id DESC) FROM (SELECT ` + examColumns + ` FROM exams WHERE record_id = $1
		ORDER BY exam_date DESC, id DESC LIMIT $2) x), '[]') AS page_exams,
	COALESCE((SELECT json_agg(x ORDER BY x.status = 'active' DESC, x.enrolled_on DESC, x.id DESC) FROM (SELECT ` + enrolmentColumns + ` FROM enrolments WHERE record_id = $1
		ORDER BY status = 'active' DESC, enrolled_on DESC, id DESC LIMIT $3) x), '[]') AS page_enrolments,
	COALESCE((SELECT json_agg(x) FROM (SELECT ` + scheduleColumns + ` FROM schedule_items
		WHERE enrolment_id IN (SELECT id FROM enrolments WHERE record_id = $1) ORDER BY enrolment_id, window_start, id) x), '[]') AS page_schedules,
	COALESCE((SELECT json_object_agg(d.doctor, (SELECT s.name FROM staff s WHERE s.code = d.doctor)) FROM (
		SELECT doctor FROM exams WHERE record_id = $1 UNION SELECT doctor FROM entries WHERE record_id = $1) d
		WHERE d.doctor IS NOT NULL), '{}') AS page_staff_names
	FROM (SELECT ` + recordColumns + ` FROM records WHERE record_id = $1) r
	JOIN regions v ON v.code = r.village_code AND v.level = 'village'`

// RecordPage reads a record's page and its scope (RecordScope) in one
// statement. For a missing record it returns only the scope, Missing set;
// NotFound when the ID names no village.
func (db *DB) RecordPage(ctx context.Context, id string) (*RecordPage, error) {
	var row struct {
		recordRow
		InstitutionCode string `db:"page_institution_code"`
		Village         string `db:"page_village_name"`
		Institution     string `db:"page_institution_name"`
		Doctor          string `db:"page_doctor_name"`
		FiledBy         string `db:"page_filed_by_name"`
		Exams           []byte `db:"page_exams"`
		Enrolments      []byte `db:"page_enrolments"`
		Schedules       []byte `db:"page_schedules"`
		StaffNames      []byte `db:"page_staff_names"`
	}
	err := db.GetContext(ctx, &row, recordPageSQL, id, RecordPageExams, MaxPerPage)
	if errors.Is(err, sql.ErrNoRows) {
		// Rare: who may see where the record would be learns it is missing.
		scope, err := db.RecordScope(ctx, id)
		if err != nil {
			return nil, err
		}
		return &RecordPage{Scope: scope}, nil
	}
	if err != nil {
		return nil, translate(err)
	}
	row.recordRow.Record.BasicInfo = record.BasicInfo(row.Basic)
	p := &RecordPage{Record: &row.recordRow.Record, Names: map[string]string{},
		Scope: &access.RecordScope{RecordID: id, VillageCode: row.VillageCode, InstitutionCode: row.InstitutionCode, CountyCode: row.VillageCode[:6]}}
	for key, name := range map[string]string{"village_code": row.Village, "filing_institution": row.Institution,
		"responsible_doctor": row.Doctor, "filed_by": row.FiledBy} {
		if name != "" {
			p.Names[key] = name
		}
	}
	exams, err := jsonRows[record.Exam](row.Exams)
	if err != nil {
		return nil, fmt.Errorf("record page exams: %w", err)
	}
	for i := range exams {
		exams[i].DeriveBMI()
	}
	p.Exams = exams
	enrolments, err := jsonRows[enrolmentRow](row.Enrolments)
	if err != nil {
		return nil, fmt.Errorf("record page enrolments: %w", err)
	}
	p.Enrolments = make([]entry.Enrolment, len(enrolments))
	at := map[int64]int{}
	for i, e := range enrolments {
		p.Enrolments[i] = *e.toEnrolment()
		if p.Enrolments[i].Programme.Scheduled() {
			at[e.ID] = i
			p.Enrolments[i].Schedule = []entry.ScheduleItem{}
		}
	}
	schedules, err := jsonRows[scheduleRow](row.Schedules)
	if err != nil {
		return nil, fmt.Errorf("record page schedules: %w", err)
	}
	attachSchedules(p.Enrolments, at, schedules)
	if err := json.Unmarshal(row.StaffNames, &p.StaffNames); err != nil {
		return nil, fmt.Errorf("record page staff names: %w", err)
	}
	return p, nil
}

// jsonRows decodes a JSON array of rows (json_agg of a query's rows) into
// T by T's db tags, as sqlx scans the same query's rows. It decodes into a
// twin of T whose json tags are T's db tags, in one pass, and converts each
// element (a conversion ignores tags). For the rows read here this is what
// scanning gives: their jsonb columns are NOT NULL, so a type that scans
// itself from JSON (record.Details, examform.Sections) decodes from the
// same text. goccy/go-json decodes as encoding/json does, in a third of its
// CPU: the decoding was a tenth of the server's CPU of a record page.
func jsonRows[T any](b []byte) ([]T, error) {
	t := reflect.TypeFor[T]()
	twin := reflect.New(reflect.SliceOf(jsonTwin(t)))
	if err := gojson.Unmarshal(b, twin.Interface()); err != nil {
		return nil, err
	}
	rows := twin.Elem()
	out := make([]T, rows.Len())
	for i := range out {
		out[i] = rows.Index(i).Convert(t).Interface().(T)
	}
	return out, nil
}

var jsonTwins sync.Map // reflect.Type → reflect.Type

// jsonTwin is t with each field's json tag set to its db tag (or "-").
func jsonTwin(t reflect.Type) reflect.Type {
	if tw, ok := jsonTwins.Load(t); ok {
		return tw.(reflect.Type)
	}
	fields := make([]reflect.StructField, t.NumField())
	for i := range fields {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("db"), ",")
		if name == "" {
			name = "-"
		}
		f.Tag = reflect.StructTag(`json:"` + name + `"`)
		fields[i] = f
	}
	tw := reflect.StructOf(fields)
	jsonTwins.Store(t, tw)
	return tw
}
