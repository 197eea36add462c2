package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/access"
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
	// Conforming is the stored column entry_conforms computed at write
	// (migration 00027); never written by the service.
	Conforming bool `db:"conforming"`
}

const entryColumns = `id, record_id, kind, service_date, doctor, COALESCE(institution_code, '') AS institution_code,
	referral_status, to_institution_code, programme, next_date, data, created_at, created_by, conforming`

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
	if p := m.Kind.Programme(); p != "" {
		r.Programme = sql.NullString{String: string(p), Valid: true}
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
	m.Conforming = r.Conforming
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
// Conflict (with state) for a record that is not active. The gate's audit
// row of the attempt, when given, is committed with it (and marked written)
// whether the checks let the entry in or not.
//
// Entries are the service's most frequent write (a county's follow-ups), so
// the checks, the insert, the record's facts, a follow-up's schedule, the
// idempotency key and the audit row are one statement (addEntrySQL): one
// round trip and one commit instead of eight round trips and two commits.
// When it inserts nothing, the checks' columns say why.
func (db *DB) AddEntry(ctx context.Context, actor, institution string, e entry.Entry, key Idempotency, audit *access.PendingAudit) (entry.Entry, bool, error) {
	return db.addEntry(ctx, actor, institution, nil, e, key, audit)
}

// ErrNotWithin is AddEntryWithin's answer for a record outside the caller's
// write reach, or missing: nothing was written or logged, and the gate is
// to decide the attempt as any other.
var ErrNotWithin = errors.New("the record is not within the caller's write reach")

// AddEntryWithin is AddEntry for a caller whose write reach (the gate's
// WriteReach, which casbin decided) the statement checks itself, against
// the record's village and institution, in place of the gate's lookup of
// the record's scope before it: one round trip fewer for every follow-up.
// The entry's institution is the record's. It returns ErrNotWithin, having
// written nothing, when the record is outside the reach or missing.
func (db *DB) AddEntryWithin(ctx context.Context, actor string, reach access.WriteReach, e entry.Entry, key Idempotency,
	audit *access.PendingAudit) (entry.Entry, bool, error) {
	return db.addEntry(ctx, actor, "", &reach, e, key, audit)
}

func (db *DB) addEntry(ctx context.Context, actor, institution string, reach *access.WriteReach, e entry.Entry, key Idempotency,
	audit *access.PendingAudit) (entry.Entry, bool, error) {
	m, b := e.Head(), e.Basics()
	if b.StaffCode == "" {
		b.StaffCode = actor
	}
	if err := e.Validate(civil.Of(db.Today())); err != nil {
		return nil, false, err
	}
	m.CreatedBy, m.InstitutionCode = actor, institution
	if r, ok := e.(*entry.Referral); ok {
		if err := db.checkReceivingInstitution(ctx, r, institution); err != nil {
			return nil, false, err
		}
	}
	row, err := toRow(e)
	if err != nil {
		return nil, false, err
	}
	auditRow, err := auditArg(audit)
	if err != nil {
		return nil, false, err
	}
	var res addedEntry
	// A NULL reach is no check: the gate has decided on the record. (A
	// nil slice would go as NULL too: a reach goes as arrays, empty or not.)
	var institutions, villageInstitutions, villages any
	if reach != nil {
		array := func(s []string) any { return pq.Array(append([]string{}, s...)) }
		institutions, villageInstitutions, villages = array(reach.Institutions), array(reach.VillageInstitutions),
			array(reach.Villages)
	}
	// One statement, its own transaction: run again after a deadlock like
	// any transaction (retry); its key makes a replay of a committed run.
	err = db.retry(ctx, func() error {
		res = addedEntry{}
		return db.GetContext(ctx, &res, addEntrySQL(row.Kind), row.RecordID, row.Kind, row.ServiceDate, row.Doctor, row.InstitutionCode,
			row.ReferralStatus, row.ToInstitutionCode, row.Programme, row.NextDate, string(row.Data), row.CreatedBy,
			key.StaffCode, key.Key, key.Hash, auditRow, institutions, villageInstitutions, villages)
	})
	if err != nil {
		if key.Key != "" && isConflictOn(err, "idempotency_keys_pkey") {
			// A concurrent create with the same key committed first: answer as its replay.
			return db.replayEntry(ctx, key, row.Kind)
		}
		return nil, false, translate(err)
	}
	if reach != nil && !res.Status.Valid {
		return nil, false, ErrNotWithin
	}
	if audit != nil {
		audit.Written()
	}
	if res.PrevID.Valid {
		if err := key.matches(res.PrevHash.String, res.PrevKind.String, row.Kind); err != nil {
			return nil, false, err
		}
		got, err := db.Entry(ctx, res.PrevID.String)
		return got, false, err
	}
	if res.ID == 0 {
		return nil, false, res.refusal(e, m.RecordID, b.ServiceDate)
	}
	got, err := res.toEntry()
	return got, true, err
}

// addEntrySQL inserts an entry ($1–$11, as entryRow) under an idempotency
// key ($12–$14; an empty key is no key) when the checks pass, appends the
// audit row $15 (auditArg) in any case, and returns the checks with the
// stored row. With a write reach ($16–$18, AddEntryWithin) it first checks
// that the record is within it (scope): when it is not, or the record is
// missing, rec is empty and nothing is written, the audit row neither;
// the entry's institution is then the record's. It locks the record first
// (rec), then a follow-up's ($8, its programme) enrolment — the lock order of docs/rates.md: the enrolment's
// condition on rec makes PostgreSQL lock the record before it scans the
// enrolments — and moves the schedule on, unless a later follow-up is recorded already (a tablet's
// backlog); every entry notes the service on its record (noteServiceSQL). A
// concurrent create with the same key fails on the key's primary key, after
// its first has committed.
//
// Each kind's text leaves out the steps of the schedule it never takes
// (addEntrySQLs): they would change nothing, and PostgreSQL initialises
// every step of a statement at every run.
func addEntrySQL(kind string) string {
	switch entry.Kind(kind) {
	case entry.KindFollowup:
		return addEntrySQLs[0]
	case entry.KindChildVisit, entry.KindMaternalVisit:
		return addEntrySQLs[1]
	case entry.KindElderlyCheck:
		return addEntrySQLs[2]
	}
	return addEntrySQLs[3]
}

var addEntrySQLs = [4]string{addEntryHead + scheduleStep + addEntryTail, addEntryHead + servedStep + addEntryTail,
	addEntryHead + annualStep + addEntryTail, addEntryHead + addEntryTail}

const addEntryHead = `
WITH scope AS (
	SELECT v.institution_code, $16::text[] IS NULL OR v.institution_code = ANY($16)
		OR (v.institution_code = ANY($17) AND v.code = ANY($18)) AS allowed
	FROM regions v WHERE v.code = substr($1, 1, 12) AND v.level = 'village'
), prev AS (
	SELECT request_hash, kind, resource_id FROM idempotency_keys WHERE staff_code = $12 AND key = $13
), rec AS (
	SELECT status, birth_date FROM records
	WHERE record_id = $1 AND ($16::text[] IS NULL OR EXISTS (SELECT 1 FROM scope WHERE allowed)) FOR NO KEY UPDATE
), doctor AS (
	SELECT EXISTS (SELECT 1 FROM staff WHERE code = $4) AS known
), enrolment AS (
	SELECT id, enrolled_on FROM enrolments
	WHERE $8::text IS NOT NULL AND record_id = $1 AND programme = $8 AND status = 'active' AND NOT EXISTS (SELECT 1 FROM prev)
		AND EXISTS (SELECT 1 FROM rec)
	FOR UPDATE
), stored AS (
	INSERT INTO entries (record_id, kind, service_date, doctor, institution_code, referral_status,
		to_institution_code, programme, next_date, data, created_by)
	SELECT $1, $2, $3, $4, COALESCE(NULLIF($5, ''), (SELECT institution_code FROM scope)), $6, $7, $8, $9, $10, $11 FROM rec, doctor
	WHERE NOT EXISTS (SELECT 1 FROM prev) AND rec.status = 'active' AND (rec.birth_date IS NULL OR rec.birth_date <= $3)
		AND doctor.known AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM enrolment WHERE enrolled_on <= $3))
	RETURNING ` + entryColumns + `
), facts AS (
	` + noteServiceSQL + `
), `

// The steps of the schedules: a follow-up's, a child's or maternal
// service's, the elderly's annual check.
const (
	scheduleStep = `schedule AS (
	UPDATE enrolments e SET last_followup_date = s.service_date, next_due_date = followup_due(s.service_date, s.next_date)
	FROM stored s, enrolment n WHERE s.kind = 'followup' AND e.id = n.id
		AND (e.last_followup_date IS NULL OR e.last_followup_date <= s.service_date)
), `
	servedStep = `served AS (
	` + serveScheduleSQL + `
), `
	annualStep = `annual AS (
	` + moveAnnualSQL + `
), `
)

const addEntryTail = `remembered AS (
	INSERT INTO idempotency_keys (staff_code, key, request_hash, kind, resource_id)
	SELECT $12, $13, $14, s.kind, s.id::text FROM stored s WHERE $13 <> ''
), audited AS (
	` + auditRowSQL + ` AND ($16::text[] IS NULL OR EXISTS (SELECT 1 FROM rec))
)
SELECT prev.request_hash AS prev_hash, prev.kind AS prev_kind, prev.resource_id AS prev_id,
	rec.status, rec.birth_date, doctor.known AS doctor_known, enrolment.enrolled_on,
	COALESCE(s.id, 0) AS id, COALESCE(s.record_id, '') AS record_id, COALESCE(s.kind, '') AS kind, s.service_date,
	COALESCE(s.doctor, '') AS doctor, COALESCE(s.institution_code, '') AS institution_code, s.referral_status,
	s.to_institution_code, s.programme, s.next_date, s.data, COALESCE(s.created_at, 'epoch') AS created_at,
	COALESCE(s.created_by, '') AS created_by, COALESCE(s.conforming, false) AS conforming
FROM doctor LEFT JOIN prev ON true LEFT JOIN rec ON true LEFT JOIN enrolment ON true LEFT JOIN stored s ON true`

// addedEntry is what addEntrySQL returns: an earlier create under the key,
// the checks, and the stored row (ID 0 when nothing was stored).
type addedEntry struct {
	PrevHash    sql.NullString `db:"prev_hash"`
	PrevKind    sql.NullString `db:"prev_kind"`
	PrevID      sql.NullString `db:"prev_id"`
	Status      sql.NullString `db:"status"`
	Birth       civil.Date     `db:"birth_date"`
	DoctorKnown bool           `db:"doctor_known"`
	EnrolledOn  civil.Date     `db:"enrolled_on"`
	entryRow
}

// refusal names the check that kept an entry out, in the order a clerk
// would fix them: the record, the date, the doctor, the programme.
func (r addedEntry) refusal(e entry.Entry, recordID string, on civil.Date) error {
	if !r.Status.Valid {
		return apperr.NotFoundf("档案 %s 不存在", recordID)
	}
	if err := serviceRefusal(r.Status.String, r.Birth, on); err != nil {
		return err
	}
	if !r.DoctorKnown {
		return apperr.InvalidField("staff_code", "医生工号 "+e.Basics().StaffCode+" 不存在")
	}
	if f, ok := e.(*entry.Followup); ok {
		return enrolmentRefusal(f.Programme, on, r.EnrolledOn)
	}
	if p := e.Head().Kind.Programme(); p != "" {
		return enrolmentRefusal(p, on, r.EnrolledOn)
	}
	return fmt.Errorf("entry for %s: not stored, no check failed", recordID)
}

// replayEntry answers a create whose key a concurrent create took first.
func (db *DB) replayEntry(ctx context.Context, key Idempotency, kind string) (entry.Entry, bool, error) {
	id, err := db.raceWinner(ctx, key, kind)
	if err != nil {
		return nil, false, err
	}
	if id == "" {
		return nil, false, apperr.Conflictf("幂等键 %s 正被另一条提交使用", key.Key)
	}
	got, err := db.Entry(ctx, id)
	return got, false, err
}

// checkReceivingInstitution checks a referral's receiving institution, when
// it is one of this service's, and names it on the slip when only its code
// was sent.
func (db *DB) checkReceivingInstitution(ctx context.Context, r *entry.Referral, from string) error {
	if r.ToInstitutionCode == "" {
		return nil
	}
	if r.ToInstitutionCode == from {
		return apperr.InvalidField("to_institution_code", "不能转诊到本机构")
	}
	var name string
	err := db.GetContext(ctx, &name, `SELECT name FROM institutions WHERE code = $1`, r.ToInstitutionCode)
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

// Entries lists a record's entries of one kind, newest first: their current
// versions (a corrected version is in its entry's history, EntryHistory).
func (db *DB) Entries(ctx context.Context, recordID string, kind entry.Kind, page Page) ([]entry.Entry, int, error) {
	var rows []entryRow
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM entries WHERE record_id = $1 AND kind = $2 AND `+currentVersion, recordID, kind); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, `SELECT `+entryColumns+` FROM entries WHERE record_id = $1 AND kind = $2 AND `+currentVersion+`
			ORDER BY service_date DESC, id DESC LIMIT $3 OFFSET $4`, recordID, kind, page.Limit(), page.Offset())
	})
	if err != nil {
		return nil, 0, err
	}
	out, err := toEntries(rows)
	return out, total, err
}
