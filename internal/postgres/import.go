package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/examform"
	"healthrec/internal/ident"
	"healthrec/internal/record"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// ImportTx is the one transaction of a CSV import (DESIGN §8): the importer
// reads the registry through it, writes the small reference files with plain
// statements and streams residents and service entries with COPY. Nothing is
// visible to others until Commit, so a run with a bad row changes nothing.
type ImportTx struct {
	db *DB
	// conn is the connection tx runs on, which its COPYs write to directly
	// (copier).
	conn *sqlx.Conn
	tx   *Tx
	// enrolmentMark is the highest enrolment ID before programmes.csv's.
	enrolmentMark int64
	// bulk is set for an import into an empty county (BeginBulkImport).
	bulk *bulkImport
	// written is what the COPYs wrote, for the audit rows (AuditImport)
	// and the records whose facts are settled before the commit
	// (RefreshFacts).
	written *importWrites
}

// BeginImport opens the import transaction. A dry run's is read-only.
func (db *DB) BeginImport(ctx context.Context, readOnly bool) (*ImportTx, error) {
	conn, tx, err := db.beginOnConn(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	return &ImportTx{db: db, conn: conn, tx: &Tx{Tx: tx}, written: newImportWrites()}, nil
}

// beginOnConn opens a transaction on a connection of its own, which the
// caller gives back to the pool (Close) when the transaction ends.
func (db *DB) beginOnConn(ctx context.Context, opts *sql.TxOptions) (*sqlx.Conn, *sqlx.Tx, error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return nil, nil, translate(err)
	}
	tx, err := conn.BeginTxx(ctx, opts)
	if err != nil {
		conn.Close()
		return nil, nil, translate(err)
	}
	return conn, tx, nil
}

// Commit makes the import visible, then folds its rate changes into the
// report's counters — a county's worth at once, rather than leaving them to
// the server's next fold (or to every report, when no server runs). A failed
// fold leaves them pending, counted all the same.
func (t *ImportTx) Commit(ctx context.Context) error {
	if err := t.CommitOnly(ctx); err != nil {
		return err
	}
	t.Fold(ctx)
	return nil
}

// CommitOnly makes the import visible; Fold then folds its rate changes
// (Commit does both).
func (t *ImportTx) CommitOnly(ctx context.Context) error {
	if err := t.checkBulkFiled(); err != nil {
		return err
	}
	err := t.tx.Commit()
	t.conn.Close()
	return translate(err)
}

// Fold folds the committed import's rate changes into the counters.
func (t *ImportTx) Fold(ctx context.Context) { _, _ = t.db.FoldRateChanges(ctx) }

// Rollback discards the import; after Commit it does nothing.
func (t *ImportTx) Rollback() error {
	err := t.tx.Rollback()
	t.conn.Close() // (closed already after a commit)
	if err == sql.ErrTxDone {
		return nil
	}
	return err
}

// ImportRegistry is what is registered before an import: the importer checks
// every reference in the files against it plus what the files add.
type ImportRegistry struct {
	Institutions []region.Institution
	Regions      []region.Region
	Staff        []staff.Staff
	// EntriesTable is whether the service entries table exists yet.
	EntriesTable bool
}

// Registry reads institutions, regions and staff with their roles.
func (t *ImportTx) Registry(ctx context.Context) (*ImportRegistry, error) {
	r := &ImportRegistry{}
	if err := t.tx.SelectContext(ctx, &r.Institutions, `SELECT code, name, county_code FROM institutions`); err != nil {
		return nil, translate(err)
	}
	if err := t.tx.SelectContext(ctx, &r.Regions, `SELECT `+regionColumns+` FROM regions`); err != nil {
		return nil, translate(err)
	}
	if err := t.tx.SelectContext(ctx, &r.Staff, `SELECT `+staffColumns+` FROM staff`); err != nil {
		return nil, translate(err)
	}
	var grants []struct {
		StaffCode string `db:"staff_code"`
		staff.Grant
	}
	if err := t.tx.SelectContext(ctx, &grants, `SELECT staff_code, role, domain FROM staff_roles ORDER BY staff_code, domain, role`); err != nil {
		return nil, translate(err)
	}
	byCode := make(map[string]*staff.Staff, len(r.Staff))
	for i := range r.Staff {
		byCode[r.Staff[i].Code] = &r.Staff[i]
	}
	for _, g := range grants {
		if s := byCode[g.StaffCode]; s != nil {
			s.Grants = append(s.Grants, g.Grant)
		}
	}
	// A home-visit worker's villages, for the attribution rule.
	var villages []struct {
		StaffCode   string `db:"staff_code"`
		VillageCode string `db:"village_code"`
	}
	if err := t.tx.SelectContext(ctx, &villages, `SELECT staff_code, village_code FROM staff_villages ORDER BY staff_code, village_code`); err != nil {
		return nil, translate(err)
	}
	for _, v := range villages {
		if s := byCode[v.StaffCode]; s != nil {
			s.Villages = append(s.Villages, v.VillageCode)
		}
	}
	if err := t.tx.GetContext(ctx, &r.EntriesTable, `SELECT to_regclass('entries') IS NOT NULL`); err != nil {
		return nil, translate(err)
	}
	return r, nil
}

// LockSerials takes the serial counters of the villages for the rest of the
// transaction, so that no filing in them runs alongside the import, and
// returns their last serials. Villages without a counter are left out.
func (t *ImportTx) LockSerials(ctx context.Context, villages []string) (map[string]int, error) {
	var rows []struct {
		Village string `db:"village_code"`
		Last    int    `db:"last_serial"`
	}
	err := t.tx.SelectContext(ctx, &rows, `SELECT village_code, last_serial FROM village_serials
		WHERE village_code = ANY($1) ORDER BY village_code FOR UPDATE`, pq.Array(villages))
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Village] = r.Last
	}
	return out, nil
}

// SerialCounters returns the last serials of the villages without locking
// them, for a dry run.
func (t *ImportTx) SerialCounters(ctx context.Context, villages []string) (map[string]int, error) {
	var rows []struct {
		Village string `db:"village_code"`
		Last    int    `db:"last_serial"`
	}
	err := t.tx.SelectContext(ctx, &rows, `SELECT village_code, last_serial FROM village_serials WHERE village_code = ANY($1)`, pq.Array(villages))
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Village] = r.Last
	}
	return out, nil
}

// RecordIDs calls fn with every record ID filed in the villages.
func (t *ImportTx) RecordIDs(ctx context.Context, villages []string, fn func(id string)) error {
	rows, err := t.tx.QueryContext(ctx, `SELECT record_id FROM records WHERE village_code = ANY($1)`, pq.Array(villages))
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var id string
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return translate(err)
		}
		fn(id)
	}
	return translate(rows.Err())
}

// ActiveIDNumbers returns, of the given identity numbers, those an active
// record already holds, with that record's ID.
func (t *ImportTx) ActiveIDNumbers(ctx context.Context, numbers []string) (map[string]string, error) {
	out := map[string]string{}
	if t.bulk != nil {
		// No record was on file (BeginBulkImport), and the import's own
		// wait staged: a county's million numbers need not be sent to be
		// found nowhere.
		return out, nil
	}
	const batch = 20000
	for i := 0; i < len(numbers); i += batch {
		rows, err := t.tx.QueryContext(ctx, `SELECT id_number, record_id FROM records
			WHERE status = 'active' AND id_number = ANY($1)`, pq.Array(numbers[i:min(i+batch, len(numbers))]))
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() {
			var n, id string
			if err := rows.Scan(&n, &id); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			out[n] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
	}
	return out, nil
}

// InsertRegions registers regions, parents first, with a serial counter for
// each village.
func (t *ImportTx) InsertRegions(ctx context.Context, regions []region.Region) error {
	for _, r := range regions {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO regions (code, level, parent_code, name, institution_code)
			VALUES ($1, $2, NULLIF($3, ''), $4, NULLIF($5, ''))`, r.Code, r.Level, r.ParentCode, r.Name, r.InstitutionCode)
		if err != nil {
			return translate(err)
		}
		if r.Level == ident.LevelVillage {
			if _, err := t.tx.ExecContext(ctx, `INSERT INTO village_serials (village_code) VALUES ($1)`, r.Code); err != nil {
				return translate(err)
			}
		}
	}
	return nil
}

// InsertInstitutions registers institutions.
func (t *ImportTx) InsertInstitutions(ctx context.Context, ins []region.Institution) error {
	for _, in := range ins {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO institutions (code, name, county_code) VALUES ($1, $2, $3)`,
			in.Code, in.Name, in.CountyCode); err != nil {
			return translate(err)
		}
	}
	return nil
}

// InsertStaff creates staff members with their roles and no password: each
// gets one from the administrator (healthrec passwd or the API) before
// signing in.
func (t *ImportTx) InsertStaff(ctx context.Context, list []staff.Staff) error {
	for i := range list {
		s := &list[i]
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO staff (code, name, institution_code, phone) VALUES ($1, $2, NULLIF($3, ''), $4)`,
			s.Code, s.Name, s.InstitutionCode, s.Phone); err != nil {
			return translate(err)
		}
		if err := setGrants(ctx, t.tx, s.Code, s.Grants); err != nil {
			return translate(err)
		}
	}
	return nil
}

// UpsertPopulations sets village populations, replacing a year already set,
// as PUT does.
func (t *ImportTx) UpsertPopulations(ctx context.Context, actor string, ps []region.Population) error {
	// In key order, as every writer of several rows takes them (docs/rates.md).
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b region.Population) int {
		return cmp.Or(cmp.Compare(a.VillageCode, b.VillageCode), cmp.Compare(a.Year, b.Year))
	})
	for _, p := range ps {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO village_populations (village_code, year, population, updated_by)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (village_code, year) DO UPDATE SET population = EXCLUDED.population, updated_at = now(), updated_by = EXCLUDED.updated_by`,
			p.VillageCode, p.Year, p.Population, actor)
		if err != nil {
			return translate(err)
		}
	}
	return nil
}

// UpsertResponsibilities sets responsible doctors from dates, replacing the
// doctor of a date already set, as the API does.
func (t *ImportTx) UpsertResponsibilities(ctx context.Context, actor string, rs []region.Responsibility) error {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b region.Responsibility) int {
		return cmp.Or(cmp.Compare(a.VillageCode, b.VillageCode), a.FromDate.Time().Compare(b.FromDate.Time()))
	})
	for _, r := range rs {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO responsibilities (village_code, from_date, staff_code, created_by)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (village_code, from_date) DO UPDATE SET staff_code = EXCLUDED.staff_code, created_by = EXCLUDED.created_by, created_at = now()`,
			r.VillageCode, r.FromDate, r.StaffCode, actor)
		if err != nil {
			return translate(err)
		}
	}
	return nil
}

// RecordCopy streams records into the records table.
type RecordCopy struct {
	c       *copier
	written *importWrites
}

// CopyRecords starts the records COPY: into the records table, or for a
// bulk import into the table they wait in until FileBulk files them.
func (t *ImportTx) CopyRecords(ctx context.Context) (*RecordCopy, error) {
	table := "records"
	if t.bulk != nil {
		table = stagedRecords
	}
	c, err := t.copyInto(ctx, table, recordCopyColumns...)
	if err != nil {
		return nil, err
	}
	return &RecordCopy{c: c, written: t.written}, nil
}

// Write adds one record. Errors may surface a few rows late, or at Close.
func (rc *RecordCopy) Write(r *record.Record) error {
	rc.written.note(r.RecordID, sectionBasic)
	w := &rc.c.copyText
	w.text(r.RecordID)
	w.text(r.VillageCode)
	w.text(r.Name)
	w.textOrNull(r.Sex)
	w.date(r.BirthDate)
	w.textOrNull(r.IDNumber)
	w.text(r.ResidenceType)
	w.text(r.Ethnicity)
	w.text(r.Phone)
	w.text(r.ContactName)
	w.text(r.ContactPhone)
	w.textOrNull(r.ResponsibleDoctor)
	w.date(r.FiledOn)
	w.textOrNull(r.FiledBy)
	w.textOrNull(r.FilingInstitution)
	w.text(string(r.Status))
	w.date(r.StatusDate)
	if err := w.value(record.StoredBasicInfo(r.BasicInfo)); err != nil {
		return err
	}
	return rc.c.endRow()
}

// Close ends the COPY and returns the number of records written.
func (rc *RecordCopy) Close() (int, error) { return rc.c.close() }

// AddImportHistory writes one history row per record this transaction
// inserted, set-based. It must run after the records COPY and before
// anything in the transaction updates records (RefreshFacts does): the rows
// are found by their xmin, which is this transaction's ID exactly for the
// row versions it created. The changes are left empty: the imported values
// are the record's first state, and every later change keeps its before.
// (Spelling each field out as a filing does costs more than the COPY itself
// at a million rows.) A bulk import writes them once its records are filed
// (FileBulk), and returns 0 here.
func (t *ImportTx) AddImportHistory(ctx context.Context, actor string) (int64, error) {
	if t.bulk != nil {
		t.bulk.actor = actor
		return 0, nil
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO record_history (record_id, changed_by, action, changes)
		SELECT record_id, $1, 'import', '{}' FROM records WHERE xmin = pg_current_xact_id()::xid`, actor)
	if err != nil {
		return 0, translate(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ExamCopy streams health examinations into the exams table, or keeps them
// in a spool until the connection is free for their COPY (SpoolExams).
type ExamCopy struct {
	c  *copier
	sp *spool
	// rows is where Write writes: the COPY's rows or the spool's.
	rows  *copyText
	t     *ImportTx
	ctx   context.Context
	actor string
	// written notes the exams' records.
	written *importWrites
}

// SpoolExams is CopyExams for exams read while another COPY is open: they
// wait in a temporary file, and Close copies them. (Reading entries.csv a
// second time for its exams costs more: it parses every row again.)
func (t *ImportTx) SpoolExams(ctx context.Context, actor string) (*ExamCopy, error) {
	sp, err := newSpool()
	if err != nil {
		return nil, err
	}
	return &ExamCopy{sp: sp, rows: &sp.copyText, t: t, ctx: ctx, actor: actor, written: t.written}, nil
}

// examCopyColumns are the columns of exams an import writes, in ExamCopy's
// order.
var examCopyColumns = []string{"record_id", "exam_date", "doctor", "institution_code", "systolic", "diastolic",
	"height_cm", "weight_kg", "created_by", "temperature", "pulse", "respiration", "systolic_right", "diastolic_right",
	"waist_cm", "fasting_glucose", "sections", "section_states", "state"}

// CopyExams starts the exams COPY; actor is recorded as their creator.
func (t *ImportTx) CopyExams(ctx context.Context, actor string) (*ExamCopy, error) {
	c, err := t.copyInto(ctx, "exams", examCopyColumns...)
	if err != nil {
		return nil, err
	}
	return &ExamCopy{c: c, rows: &c.copyText, actor: actor, written: t.written}, nil
}

// Write adds one exam.
func (ec *ExamCopy) Write(e *record.Exam) error {
	ec.written.note(e.RecordID, sectionExams)
	sections, err := e.Sections.Value()
	if err != nil {
		return err
	}
	states, err := e.SectionStates.Value()
	if err != nil {
		return err
	}
	state := e.State
	if state == "" {
		state = examform.Draft
	}
	w := ec.rows
	w.text(e.RecordID)
	w.date(e.ExamDate)
	w.text(e.Doctor)
	w.textOrNull(e.InstitutionCode)
	w.intOrNull(e.Systolic)
	w.intOrNull(e.Diastolic)
	w.floatOrNull(e.HeightCM)
	w.floatOrNull(e.WeightKG)
	w.text(ec.actor)
	w.floatOrNull(e.Temperature)
	w.intOrNull(e.Pulse)
	w.intOrNull(e.Respiration)
	w.intOrNull(e.SystolicRight)
	w.intOrNull(e.DiastolicRight)
	w.floatOrNull(e.WaistCM)
	w.floatOrNull(e.FastingGlucose)
	if err := w.value(sections); err != nil {
		return err
	}
	if err := w.value(states); err != nil {
		return err
	}
	w.text(string(state))
	return w.endRow()
}

// Close ends the COPY (a spool's: copies what it holds) and returns the
// number of exams written.
func (ec *ExamCopy) Close() (int, error) {
	if ec.sp == nil {
		return ec.c.close()
	}
	defer ec.sp.remove()
	if ec.sp.n == 0 {
		return 0, nil
	}
	c, err := ec.t.copyInto(ec.ctx, "exams", examCopyColumns...)
	if err != nil {
		return 0, err
	}
	if err := ec.sp.replay(c); err != nil {
		c.close()
		return 0, err
	}
	return c.close()
}

// Abandon discards what a spool holds; a COPY ends as Close ends it.
func (ec *ExamCopy) Abandon() {
	if ec.sp != nil {
		ec.sp.remove()
		return
	}
	ec.c.close()
}

// ImportEntry is a service entry of an import: the columns every kind has,
// the typed columns of referrals and follow-ups, and the kind's own fields
// as JSON (data).
type ImportEntry struct {
	RecordID        string
	Kind            string
	ServiceDate     civil.Date
	Doctor          string
	InstitutionCode string
	ReferralStatus  string
	Programme       string
	// NextDate is a follow-up's agreed next date, or zero.
	NextDate civil.Date
	Data     []byte
}

// EntryCopy streams service entries into the entries table.
type EntryCopy struct {
	c       *copier
	actor   string
	written *importWrites
}

// CopyEntries starts the entries COPY; actor is recorded as their creator.
// Legacy entries were filed on paper long ago: they wait in no doctor's
// filing queue (migration 00027's trigger skips them).
func (t *ImportTx) CopyEntries(ctx context.Context, actor string) (*EntryCopy, error) {
	if _, err := t.tx.ExecContext(ctx, `SET LOCAL healthrec.legacy_import = 'on'`); err != nil {
		return nil, translate(err)
	}
	c, err := t.copyInto(ctx, "entries", "record_id", "kind", "service_date", "doctor", "institution_code", "referral_status",
		"programme", "next_date", "data", "created_by")
	if err != nil {
		return nil, err
	}
	return &EntryCopy{c: c, actor: actor, written: t.written}, nil
}

// Write adds one entry.
func (ec *EntryCopy) Write(e *ImportEntry) error {
	ec.written.noteEntry(e.RecordID, e.Kind)
	w := &ec.c.copyText
	w.text(e.RecordID)
	w.text(e.Kind)
	w.date(e.ServiceDate)
	w.text(e.Doctor)
	w.textOrNull(e.InstitutionCode)
	w.textOrNull(e.ReferralStatus)
	w.textOrNull(e.Programme)
	w.date(e.NextDate)
	w.jsonOr(e.Data, "{}")
	w.text(ec.actor)
	return ec.c.endRow()
}

// Close ends the COPY and returns the number of entries written.
func (ec *EntryCopy) Close() (int, error) { return ec.c.close() }

// ImportEnrolment is an active enrolment with follow-ups (hypertension,
// type-2 diabetes).
type ImportEnrolment struct {
	RecordID   string     `db:"record_id"`
	Programme  string     `db:"programme"`
	EnrolledOn civil.Date `db:"enrolled_on"`
	Status     string     `db:"status"`
	EndedOn    civil.Date `db:"-"`
	EndReason  string     `db:"-"`
	// The dates a schedule counts from, when the file gives them.
	DischargedOn civil.Date `db:"-"`
	LMPDate      civil.Date `db:"-"`
	DeliveredOn  civil.Date `db:"-"`
}

// ActiveEnrolments lists the active enrolments of every programme of the
// villages' records: programmes.csv adds no second one.
func (t *ImportTx) ActiveEnrolments(ctx context.Context, villages []string) ([]ImportEnrolment, error) {
	var out []ImportEnrolment
	err := t.tx.SelectContext(ctx, &out, `SELECT record_id, programme, enrolled_on, status FROM enrolments
		WHERE status = 'active' AND village_code = ANY($1)`, pq.Array(villages))
	return out, translate(err)
}

// InsertEnrolments writes programmes.csv's enrolments and marks their
// records for RefreshFacts, which computes their follow-up schedules. It
// returns the number written. A bulk import's records are not filed yet:
// it keeps them for FileBulk, which writes them after the records.
func (t *ImportTx) InsertEnrolments(ctx context.Context, actor string, es []ImportEnrolment) (int, error) {
	if t.bulk != nil {
		if t.bulk.enrolments == nil {
			t.bulk.enrolments = es // not copied: a county's are 120 MB
		} else {
			t.bulk.enrolments = append(t.bulk.enrolments, es...)
		}
		t.bulk.enrolmentsActor = actor
		return len(es), nil
	}
	return t.insertEnrolments(ctx, actor, es)
}

func (t *ImportTx) insertEnrolments(ctx context.Context, actor string, es []ImportEnrolment) (int, error) {
	// Their schedules are computed for the enrolments past this mark.
	if err := t.tx.GetContext(ctx, &t.enrolmentMark, `SELECT COALESCE(max(id), 0) FROM enrolments`); err != nil {
		return 0, translate(err)
	}
	n, err := t.copyEnrolments(ctx, "enrolments", actor, es)
	if err != nil {
		return 0, err
	}
	return n, translate(scheduleNew(ctx, t.tx, t.enrolmentMark))
}

// enrolmentCopyColumns are the columns of enrolments an import writes.
var enrolmentCopyColumns = []string{"record_id", "programme", "enrolled_on", "status", "ended_on", "end_reason",
	"discharged_on", "lmp_date", "delivered_on", "created_by"}

// copyEnrolments copies es into table, which has enrolmentCopyColumns,
// each noted for the audit, and returns the number copied.
func (t *ImportTx) copyEnrolments(ctx context.Context, table, actor string, es []ImportEnrolment) (int, error) {
	c, err := t.copyInto(ctx, table, enrolmentCopyColumns...)
	if err != nil {
		return 0, err
	}
	for i := range es {
		e := &es[i]
		t.written.note(e.RecordID, sectionProgrammes)
		c.text(e.RecordID)
		c.text(e.Programme)
		c.date(e.EnrolledOn)
		c.text(e.Status)
		c.date(e.EndedOn)
		c.text(e.EndReason)
		c.date(e.DischargedOn)
		c.date(e.LMPDate)
		c.date(e.DeliveredOn)
		c.text(actor)
		if err := c.endRow(); err != nil {
			c.close()
			return 0, err
		}
	}
	return c.close()
}

// FollowupEnrolments lists the active hypertension and diabetes enrolments
// of the villages' records: an imported follow-up belongs to one.
func (t *ImportTx) FollowupEnrolments(ctx context.Context, villages []string) ([]ImportEnrolment, error) {
	var out []ImportEnrolment
	err := t.tx.SelectContext(ctx, &out, `SELECT record_id, programme, enrolled_on, status FROM enrolments
		WHERE status = 'active' AND programme IN ('hypertension', 'type2_diabetes') AND village_code = ANY($1)`, pq.Array(villages))
	return out, translate(err)
}

// SetSerials moves village counters forward to at least the given serials;
// a counter never goes back.
func (t *ImportTx) SetSerials(ctx context.Context, last map[string]int) error {
	villages := make([]string, 0, len(last))
	serials := make([]int64, 0, len(last))
	for v, s := range last {
		villages = append(villages, v)
		serials = append(serials, int64(s))
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE village_serials s SET last_serial = GREATEST(s.last_serial, n.serial)
		FROM unnest($1::text[], $2::int[]) AS n(village, serial) WHERE s.village_code = n.village`,
		pq.Array(villages), pq.Array(serials))
	return translate(err)
}

// RefreshFacts settles the write-time facts of the records the import added
// exams or entries to, and their follow-up schedules (settleFacts: locked in
// record ID order, then computed from what is committed, so that an exam or
// entry another transaction commits meanwhile is never lost). The records
// the import files without any are right as filed: no facts. A bulk
// import filed every record with its facts and settled the schedules
// (FileBulk): it has nothing to do here.
func (t *ImportTx) RefreshFacts(ctx context.Context) error {
	if t.bulk != nil {
		return nil
	}
	return translate(settleFacts(ctx, t.tx, t.written.served(), false))
}
