package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/record"
)

const recordColumns = `record_id, village_code, name, COALESCE(sex, '') AS sex, birth_date, COALESCE(id_number, '') AS id_number,
	residence_type, ethnicity, phone, contact_name, contact_phone, COALESCE(responsible_doctor, '') AS responsible_doctor,
	filed_on, COALESCE(filed_by, '') AS filed_by, COALESCE(filing_institution, '') AS filing_institution,
	status, status_date, destination, basic_info, details_unmapped, version, created_at, updated_at`

// recordRow is a records row read with recordColumns: the table's jsonb
// into the record's embedded BasicInfo (record.StoredBasicInfo).
type recordRow struct {
	record.Record
	Basic record.StoredBasicInfo `db:"basic_info"`
}

// getRecord reads one row into r.
func getRecord(ctx context.Context, q sqlx.QueryerContext, r *record.Record, query string, args ...any) error {
	var row recordRow
	if err := sqlx.GetContext(ctx, q, &row, query, args...); err != nil {
		return err
	}
	row.Record.BasicInfo = record.BasicInfo(row.Basic)
	*r = row.Record
	return nil
}

// FileRecord files a new record: it validates the basic information, allocates
// the next serial of the village, and keeps the filing in the history.
// Returns Conflict with existing_record_id when the identity number already
// has an active record, and Conflict naming the village when its serials are
// exhausted.
func (db *DB) FileRecord(ctx context.Context, actor string, r *record.Record) error {
	today := db.Today()
	if r.FiledOn.IsZero() {
		r.FiledOn = civil.Of(today)
	}
	if err := r.Validate(civil.Of(today)); err != nil {
		return err
	}
	if r.FiledOn.After(civil.Of(today)) {
		return apperr.InvalidField("filed_on", "建档日期不能晚于今天")
	}
	r.FiledBy, r.Status = actor, record.Active
	err := db.inWriteTx(ctx, func(tx *Tx) error {
		inst, err := villageInstitution(ctx, tx, r.VillageCode)
		if err != nil {
			return err
		}
		r.FilingInstitution = inst
		if err := checkResponsibleDoctor(ctx, tx, r, inst); err != nil {
			return err
		}
		if err := checkUniqueIDNumber(ctx, tx, r.IDNumber, ""); err != nil {
			return err
		}
		var serial int
		err = tx.GetContext(ctx, &serial, `UPDATE village_serials SET last_serial = last_serial + 1
			WHERE village_code = $1 AND last_serial < $2 RETURNING last_serial`, r.VillageCode, ident.MaxSerial)
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
			return apperr.Conflictf("村居 %s 的档案编号已用尽（最多 %d 份），无法再建档", r.VillageCode, ident.MaxSerial).With("village_code", r.VillageCode)
		} else if err != nil {
			return err
		}
		id, err := ident.NewRecordID(r.VillageCode, serial)
		if err != nil {
			return err
		}
		r.RecordID = id.String()
		if db.pending != nil {
			db.pending.Entry.RecordID = r.RecordID // the filing's audit row (Audited)
		}
		err = getRecord(ctx, tx, r, `INSERT INTO records (record_id, village_code, name, sex, birth_date, id_number, residence_type,
			ethnicity, phone, contact_name, contact_phone, responsible_doctor, filed_on, filed_by, filing_institution, basic_info)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5, NULLIF($6, ''), $7, $8, $9, $10, $11, NULLIF($12, ''), $13, $14, $15, $16)
			RETURNING `+recordColumns,
			r.RecordID, r.VillageCode, r.Name, r.Sex, r.BirthDate, r.IDNumber, r.ResidenceType, r.Ethnicity, r.Phone,
			r.ContactName, r.ContactPhone, r.ResponsibleDoctor, r.FiledOn, r.FiledBy, r.FilingInstitution, record.StoredBasicInfo(r.BasicInfo))
		if err != nil {
			return err
		}
		return addHistory(ctx, tx, r.RecordID, actor, "file", record.Diff(&record.Record{}, r))
	})
	if err != nil && db.pending != nil {
		db.pending.Entry.RecordID = "" // the ID was never the record's: the attempt names none
	}
	return db.explainDuplicate(ctx, err, r.IDNumber)
}

// explainDuplicate turns a unique violation on the identity number, which a
// concurrent filing can cause past the check, into the contract's 409.
func (db *DB) explainDuplicate(ctx context.Context, err error, idNumber string) error {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Conflict || !strings.Contains(e.Message, "records_active_id_number") {
		return err
	}
	var existing string
	if db.GetContext(ctx, &existing, `SELECT record_id FROM records WHERE id_number = $1 AND status = 'active'`, idNumber) == nil {
		return duplicateIDNumber(existing)
	}
	return err
}

func duplicateIDNumber(existing string) error {
	e := apperr.Conflictf("该身份证号已有在档记录 %s", existing).With("existing_record_id", existing)
	e.Fields = []apperr.FieldError{{Field: "id_number", Reason: "已有在档记录 " + existing}}
	return e
}

func checkUniqueIDNumber(ctx context.Context, tx *Tx, idNumber, self string) error {
	if idNumber == "" {
		return nil
	}
	var existing string
	err := tx.GetContext(ctx, &existing, `SELECT record_id FROM records WHERE id_number = $1 AND status = 'active' AND record_id <> $2`, idNumber, self)
	if err == nil {
		return duplicateIDNumber(existing)
	}
	if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
		return nil
	}
	return err
}

func villageInstitution(ctx context.Context, q sqlx.QueryerContext, village string) (string, error) {
	var inst string
	err := sqlx.GetContext(ctx, q, &inst, `SELECT institution_code FROM regions WHERE code = $1 AND level = 'village'`, village)
	if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
		return "", apperr.InvalidField("village_code", "村居 "+village+" 未登记")
	}
	return inst, err
}

// checkResponsibleDoctor defaults the responsible doctor to the village's and
// checks a given one is a doctor of the village's institution.
func checkResponsibleDoctor(ctx context.Context, tx *Tx, r *record.Record, inst string) error {
	if r.ResponsibleDoctor == "" {
		err := tx.GetContext(ctx, &r.ResponsibleDoctor, `SELECT staff_code FROM responsibilities
			WHERE village_code = $1 AND from_date <= $2 ORDER BY from_date DESC LIMIT 1`, r.VillageCode, r.FiledOn)
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
			return nil
		}
		return err
	}
	var ok bool
	err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM staff s JOIN staff_roles sr ON sr.staff_code = s.code AND sr.role = 'doctor'
		WHERE s.code = $1 AND s.institution_code = $2)`, r.ResponsibleDoctor, inst)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.InvalidField("responsible_doctor", "应为本机构的责任医生工号")
	}
	return nil
}

// Record returns a record. Returns NotFound.
func (db *DB) Record(ctx context.Context, id string) (*record.Record, error) {
	var r record.Record
	if err := getRecord(ctx, db, &r, `SELECT `+recordColumns+` FROM records WHERE record_id = $1`, id); err != nil {
		return nil, notFound(err, "档案 %s 不存在", id)
	}
	return &r, nil
}

// RecordScope returns the village, institution and county of a record, or
// of where a missing record's ID places it (Missing set; the gate decides
// on it as on a record, so that only who could see it learns it is not
// there). Returns NotFound when the ID names no village.
func (db *DB) RecordScope(ctx context.Context, id string) (*access.RecordScope, error) {
	var s access.RecordScope
	// A record's village is its ID's first 12 digits (a CHECK holds it).
	err := db.GetContext(ctx, &s, `SELECT $1::text AS record_id, v.code AS village_code, COALESCE(v.institution_code, '') AS institution_code,
			substr(v.code, 1, 6) AS county_code, NOT EXISTS (SELECT 1 FROM records WHERE record_id = $1) AS missing
		FROM regions v WHERE v.code = substr($1, 1, 12) AND v.level = 'village'`, id)
	if err != nil {
		return nil, notFound(err, "档案 %s 不存在", id)
	}
	return &s, nil
}

// RecordFilter selects records in a search. The caller's reach bounds it:
// records of the villages of Institutions, or of Villages.
type RecordFilter struct {
	Query        string
	VillageCode  string
	IDNumber     string
	Institutions []string
	Villages     []string
	Page         Page
}

// SearchRecords finds records by name prefix, identity number or record ID
// (prefix). Identity numbers come back as stored: the caller masks them.
func (db *DB) SearchRecords(ctx context.Context, f RecordFilter) ([]record.Summary, int, error) {
	where := []string{"true"}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q := strings.TrimSpace(f.Query); q != "" {
		if isDigits(strings.TrimSuffix(strings.ToUpper(q), "X")) {
			where = append(where, "(r.record_id LIKE "+arg(escapeLike(q)+"%")+" OR r.id_number = "+arg(strings.ToUpper(q))+")")
		} else {
			where = append(where, "r.name LIKE "+arg(escapeLike(q)+"%"))
		}
	}
	if f.VillageCode != "" {
		where = append(where, "r.village_code = "+arg(f.VillageCode))
	}
	if f.IDNumber != "" {
		where = append(where, "r.id_number = "+arg(strings.ToUpper(f.IDNumber)))
	}
	// The reach as a list of villages, so that a name prefix is one range
	// of records_village_name per village.
	where = append(where, "r.village_code IN (SELECT code FROM regions WHERE level = 'village' AND institution_code = ANY("+arg(pq.Array(f.Institutions))+
		") UNION SELECT unnest("+arg(pq.Array(f.Villages))+"::text[]))")
	cond := strings.Join(where, " AND ")
	filterArgs := args
	var rows []struct {
		record.Summary
		Total int `db:"total"`
	}
	// One statement, the total riding along.
	err := db.SelectContext(ctx, &rows, `SELECT r.record_id, r.village_code, v.name AS village_name, r.name, COALESCE(r.sex, '') AS sex,
		r.birth_date, COALESCE(r.id_number, '') AS id_number, COALESCE(r.responsible_doctor, '') AS responsible_doctor, r.status,
		count(*) OVER () AS total
		FROM records r JOIN regions v ON v.code = r.village_code WHERE `+cond+`
		ORDER BY r.status = 'active' DESC, r.name, r.record_id LIMIT `+arg(f.Page.Limit())+` OFFSET `+arg(f.Page.Offset()), args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	out := make([]record.Summary, len(rows))
	carried := 0
	for i, r := range rows {
		out[i], carried = r.Summary, r.Total
	}
	total, err := db.listTotal(ctx, f.Page, len(rows), carried,
		`SELECT count(*) FROM records r JOIN regions v ON v.code = r.village_code WHERE `+cond, filterArgs...)
	return out, total, err
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// UpdateRecord applies a PATCH of basic information, keeping before → after in
// the history. Only the patched fields (and the identity number, birth date and
// sex, which must agree) are validated, so a legacy record with gaps elsewhere
// can still be corrected field by field.
func (db *DB) UpdateRecord(ctx context.Context, actor, id string, patch map[string]json.RawMessage) (*record.Record, error) {
	var out *record.Record
	var idNumber string
	err := db.inWriteTx(ctx, func(tx *Tx) error {
		var cur record.Record
		if err := getRecord(ctx, tx, &cur, `SELECT `+recordColumns+` FROM records WHERE record_id = $1 FOR NO KEY UPDATE`, id); err != nil {
			return notFound(err, "档案 %s 不存在", id)
		}
		next := cur
		next.DetailsUnmapped = cloneDetails(cur.DetailsUnmapped)
		next.BasicInfo = cloneBasic(cur.BasicInfo)
		if err := record.ApplyPatch(&next, patch); err != nil {
			return err
		}
		if err := onlyPatchedFields(next.Validate(civil.Of(db.Today())), patch); err != nil {
			return err
		}
		idNumber = next.IDNumber
		changes := record.Diff(&cur, &next)
		if len(changes) == 0 {
			out = &cur
			return nil
		}
		if _, ok := changes["responsible_doctor"]; ok && next.ResponsibleDoctor != "" {
			inst, err := villageInstitution(ctx, tx, next.VillageCode)
			if err != nil {
				return err
			}
			if err := checkResponsibleDoctor(ctx, tx, &next, inst); err != nil {
				return err
			}
		}
		if _, ok := changes["id_number"]; ok && cur.Status == record.Active {
			if err := checkUniqueIDNumber(ctx, tx, next.IDNumber, id); err != nil {
				return err
			}
		}
		out = &record.Record{}
		// A handover (a new responsible doctor) takes effect today: the
		// outgoing doctor stays the record's for every date before it
		// (handover, migration 00015). A write that moves the version stamps
		// changed_xid for the delta sync itself (migration 00034).
		err := getRecord(ctx, tx, out, `UPDATE records SET name = $2, sex = NULLIF($3, ''), birth_date = $4, id_number = NULLIF($5, ''),
			residence_type = $6, ethnicity = $7, phone = $8, contact_name = $9, contact_phone = $10,
			responsible_doctor = NULLIF($11, ''), basic_info = $12, details_unmapped = $14, version = version + 1, changed_xid = pg_current_xact_id(),
			updated_at = now(), `+handover+`
			WHERE record_id = $1 RETURNING `+recordColumns,
			id, next.Name, next.Sex, next.BirthDate, next.IDNumber, next.ResidenceType, next.Ethnicity, next.Phone,
			next.ContactName, next.ContactPhone, next.ResponsibleDoctor, record.StoredBasicInfo(next.BasicInfo), civil.Of(db.Today()), next.DetailsUnmapped)
		if err != nil {
			return err
		}
		return addHistory(ctx, tx, id, actor, "update", changes)
	})
	return out, db.explainDuplicate(ctx, err, idNumber)
}

// handover is the SET clause of UpdateRecord that keeps the record's
// responsible doctors with their dates (migration 00015) when the doctor
// changes to $11 on the date $13: the outgoing doctor's time ends the day
// before. A change on the day the current doctor's time began (or on the
// filing day) only replaces the doctor: there is no earlier day to give
// the outgoing one.
const handover = `doctor_before = CASE WHEN responsible_doctor IS DISTINCT FROM NULLIF($11, '')
		AND $13::date > COALESCE(record_doctor_since(doctor_until), filed_on)
		THEN array_append(doctor_before, responsible_doctor) ELSE doctor_before END,
	doctor_until = CASE WHEN responsible_doctor IS DISTINCT FROM NULLIF($11, '')
		AND $13::date > COALESCE(record_doctor_since(doctor_until), filed_on)
		THEN array_append(doctor_until, $13::date) ELSE doctor_until END`

func onlyPatchedFields(err error, patch map[string]json.RawMessage) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	_, triad := patch["id_number"]
	for _, k := range []string{"birth_date", "sex"} {
		if _, ok := patch[k]; ok {
			triad = true
		}
	}
	var keep apperr.FieldErrors
	for _, f := range e.Fields {
		_, patched := patch[f.Field]
		if patched || triad && (f.Field == "id_number" || f.Field == "birth_date" || f.Field == "sex") {
			keep = append(keep, f)
		}
	}
	return keep.Err()
}

// cloneBasic copies a table deeply: a patch replaces its lists, and the
// current record's must stay as they were for the diff.
func cloneBasic(b record.BasicInfo) record.BasicInfo {
	j, _ := json.Marshal(b)
	var out record.BasicInfo
	_ = json.Unmarshal(j, &out)
	return out
}

func cloneDetails(d record.Details) record.Details {
	b, _ := json.Marshal(d)
	out := record.Details{}
	_ = json.Unmarshal(b, &out)
	return out
}

// StatusChange moves an active record out or marks the resident deceased.
type StatusChange struct {
	Status      record.Status `json:"status"`
	StatusDate  civil.Date    `json:"status_date"`
	Destination string        `json:"destination"`
}

// ChangeStatus applies a status change. Returns Conflict with the current
// state when the record is not active.
func (db *DB) ChangeStatus(ctx context.Context, actor, id string, c StatusChange) (*record.Record, error) {
	var fe apperr.FieldErrors
	if c.Status != record.MovedOut && c.Status != record.Deceased {
		fe.Add("status", "状态应为 moved_out（迁出）或 deceased（死亡）")
	}
	if c.StatusDate.IsZero() {
		fe.Add("status_date", "日期不能为空")
	} else if c.StatusDate.After(civil.Of(db.Today())) {
		fe.Add("status_date", "日期不能晚于今天")
	}
	c.Destination = strings.TrimSpace(c.Destination)
	if c.Status == record.MovedOut && c.Destination == "" {
		fe.Add("destination", "迁出须填写迁往地")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out record.Record
	err := db.inWriteTx(ctx, func(tx *Tx) error {
		var cur record.Record
		if err := getRecord(ctx, tx, &cur, `SELECT `+recordColumns+` FROM records WHERE record_id = $1 FOR NO KEY UPDATE`, id); err != nil {
			return notFound(err, "档案 %s 不存在", id)
		}
		if cur.Status != record.Active {
			return apperr.Conflictf("档案状态为 %s，不能再变更", cur.Status).With("state", string(cur.Status))
		}
		if c.StatusDate.Before(cur.FiledOn) {
			return apperr.InvalidField("status_date", "日期不能早于建档日期 "+cur.FiledOn.String())
		}
		err := getRecord(ctx, tx, &out, `UPDATE records SET status = $2, status_date = $3, destination = $4, version = version + 1,
			changed_xid = pg_current_xact_id(), updated_at = now()
			WHERE record_id = $1 RETURNING `+recordColumns, id, c.Status, c.StatusDate, c.Destination)
		if err != nil {
			return err
		}
		// A resident who died or moved away leaves every programme on that
		// day (or on enrolment, if recorded as later): the programme lists
		// and counts must not keep them in management. The status is final.
		if _, err := tx.ExecContext(ctx, `UPDATE enrolments SET status = 'ended', ended_on = GREATEST(enrolled_on, $2), end_reason = $3
			WHERE record_id = $1 AND status = 'active'`, id, c.StatusDate, statusEndReason(c.Status)); err != nil {
			return err
		}
		return addHistory(ctx, tx, id, actor, "status", map[string]record.Change{
			"status":      {Before: cur.Status, After: c.Status},
			"status_date": {Before: nil, After: c.StatusDate.String()},
			"destination": {Before: cur.Destination, After: c.Destination},
		})
	})
	return &out, err
}

// statusEndReason is the end reason of the enrolments a status change ends.
func statusEndReason(s record.Status) string {
	if s == record.Deceased {
		return "死亡"
	}
	return "迁出"
}

// HistoryEntry is one change to a record.
type HistoryEntry struct {
	ID        int64                    `json:"id" db:"id"`
	ChangedAt string                   `json:"changed_at" db:"changed_at"`
	ChangedBy string                   `json:"changed_by" db:"changed_by"`
	Action    string                   `json:"action" db:"action"`
	Changes   map[string]record.Change `json:"changes" db:"-"`
	Raw       []byte                   `json:"-" db:"changes"`
}

func addHistory(ctx context.Context, tx *Tx, id, actor, action string, changes map[string]record.Change) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO record_history (record_id, changed_by, action, changes) VALUES ($1, $2, $3, $4)`, id, actor, action, string(b))
	return err
}

// History lists a record's changes, newest first.
func (db *DB) History(ctx context.Context, id string, page Page) ([]HistoryEntry, int, error) {
	out := []HistoryEntry{}
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM record_history WHERE record_id = $1`, id); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, `SELECT id, to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS changed_at,
			changed_by, action, changes FROM record_history WHERE record_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`,
			id, page.Limit(), page.Offset())
	})
	for i := range out {
		_ = json.Unmarshal(out[i].Raw, &out[i].Changes)
	}
	return out, total, err
}
