package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// bulkImport is the state of an import into an empty county (BeginBulkImport).
type bulkImport struct {
	// restore recreates the foreign keys and indexes DeferChecks dropped
	// and puts the id sequences back (cacheSequences).
	restore func() error
	// actor writes the records' history once they are filed.
	actor string
	// enrolments wait for their records (InsertEnrolments).
	enrolments      []ImportEnrolment
	enrolmentsActor string
	filed           bool
	// services are the tables of exams and entries (where the database
	// has the latter): empty when the import began, so PostgreSQL knows
	// nothing of their rows until FileBulk analyzes them.
	services []string
}

// stagedRecords is the temporary table a bulk import's records wait in.
const stagedRecords = "import_records"

// recordCopyColumns are the columns of records an import writes.
var recordCopyColumns = []string{"record_id", "village_code", "name", "sex", "birth_date", "id_number", "residence_type",
	"ethnicity", "phone", "contact_name", "contact_phone", "responsible_doctor", "filed_on", "filed_by", "filing_institution",
	"status", "status_date", "basic_info"}

// BeginBulkImport opens the transaction of an import into an empty county,
// on db, which must connect as the tables' owner; it returns nil (and no
// error) when the county is not empty, and the caller imports the ordinary
// way. Empty means that records, exams, entries and enrolments have no
// rows: then every record, exam, entry and enrolment is the import's own,
// and it loads them so:
//
//   - the tables' ACCESS EXCLUSIVE locks are taken first and held to the
//     commit, so they stay empty but for the import (a running server's
//     reads and writes of records wait for the import);
//   - the foreign keys and secondary indexes of records, exams, entries,
//     enrolments, their history and schedules (and the access log's
//     indexes, when it has no rows) are dropped and rebuilt once before the
//     commit (DeferChecks), and so is the entries' filing-queue trigger,
//     which an import's entries skip (dropTriggers);
//   - the tables' id sequences (and the access log's) give ids ten
//     thousand at a time, and are put back where row-by-row inserts leave
//     them (cacheSequences);
//   - the records wait in a temporary table while their exams and entries
//     load, and are then filed with their write-time facts in one statement
//     (InsertStagedRecords), so that no record is updated afterwards;
//   - their history rows and programmes.csv's enrolments (which refer to
//     the records) are written after them, the enrolments with their
//     follow-up schedules, computed by one join (FileBulk).
//
// What is written is the same as the ordinary path writes, row for row.
func (db *DB) BeginBulkImport(ctx context.Context) (*ImportTx, error) {
	conn, tx, err := db.beginOnConn(ctx, nil)
	if err != nil {
		return nil, err
	}
	release := func() {
		tx.Rollback()
		conn.Close()
	}
	fail := func(err error) (*ImportTx, error) {
		release()
		return nil, translate(err)
	}
	var hasEntries bool
	if err := tx.GetContext(ctx, &hasEntries, `SELECT to_regclass('entries') IS NOT NULL`); err != nil {
		return fail(err)
	}
	tables, services := []string{"records", "exams", "enrolments"}, []string{"exams"}
	if hasEntries {
		tables, services = append(tables, "entries"), append(services, "entries")
	}
	// Every table whose checks may be deferred, locked at once before
	// they are looked at: nobody adds a row between the look and the load,
	// and no lock is taken later that a server's request could hold while
	// it waits for one of these.
	deferred := append(slices.Clone(tables), "record_history", "schedule_items")
	if _, err := tx.ExecContext(ctx, `LOCK TABLE `+strings.Join(deferred, ", ")+`, access_log IN ACCESS EXCLUSIVE MODE`); err != nil {
		return fail(err)
	}
	var empty bool
	q := make([]string, len(tables))
	for i, t := range tables {
		q[i] = fmt.Sprintf(`NOT EXISTS (SELECT 1 FROM %s)`, t)
	}
	if err := tx.GetContext(ctx, &empty, `SELECT `+strings.Join(q, " AND ")); err != nil {
		return fail(err)
	}
	if !empty {
		release()
		return nil, nil
	}
	restore, err := DeferChecks(ctx, tx, deferred...)
	if err != nil {
		return fail(err)
	}
	// The entries' filing queue (entry_filings_queue) skips an import's
	// entries, filed on paper long ago, but its trigger's transition table
	// would still hold a copy of every entry the COPY writes: 0.45 s of 2M
	// entries copied, alternated in one transaction.
	restoreQueue := func() error { return nil }
	if hasEntries {
		if restoreQueue, err = dropTriggers(ctx, tx, "entries", "entries_filing_queued"); err != nil {
			return fail(err)
		}
	}
	// The access log's indexes too, when it has no rows yet (a new
	// installation's): a county's import writes a row per record, exam and
	// entry. Its foreign key stays (the append-only guard refuses to drop
	// it; the import's rows name no grant).
	restoreLog, err := deferLogIndexes(ctx, tx)
	if err != nil {
		return fail(err)
	}
	// The ids of the services, history rows, schedules and audit rows a
	// block at a time.
	restoreSequences, err := cacheSequences(ctx, tx, append(deferred, "access_log")...)
	if err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE `+stagedRecords+` ON COMMIT DROP AS SELECT `+
		strings.Join(recordCopyColumns, ", ")+` FROM records WITH NO DATA`); err != nil {
		return fail(err)
	}
	all := func() error {
		if err := restore(); err != nil {
			return err
		}
		if err := restoreQueue(); err != nil {
			return err
		}
		if err := restoreLog(); err != nil {
			return err
		}
		return restoreSequences()
	}
	return &ImportTx{db: db, conn: conn, tx: &Tx{Tx: tx}, written: newImportWrites(), bulk: &bulkImport{restore: all, services: services}}, nil
}

// deferLogIndexes drops the access log's indexes when it has no rows and
// returns what recreates them, under their names and definitions.
func deferLogIndexes(ctx context.Context, tx *sqlx.Tx) (func() error, error) {
	var empty bool
	if err := tx.GetContext(ctx, &empty, `SELECT NOT EXISTS (SELECT 1 FROM access_log)`); err != nil {
		return nil, translate(err)
	}
	var redo []string
	if empty {
		var err error
		if redo, err = dropIndexes(ctx, tx, "access_log"); err != nil {
			return nil, err
		}
	}
	return func() error { return replay(ctx, tx, redo) }, nil
}

// Bulk reports whether the import loads an empty county (BeginBulkImport).
func (t *ImportTx) Bulk() bool { return t.bulk != nil }

// FileBulk files a bulk import's staged records with their facts, then
// their history rows and the enrolments (with the scheduled services of
// the programmes that have them, and the follow-up schedules), before the
// import's audit rows are written; FinishBulk then rebuilds the checks.
// The ordinary path has nothing to do here. timing, when not nil, is told
// how long each part took.
func (t *ImportTx) FileBulk(ctx context.Context, timing func(step string, d time.Duration)) error {
	b := t.bulk
	if b == nil {
		return nil
	}
	lap := lapper(timing)
	// The tables were empty when the transaction began: without their
	// statistics the facts' plan sorts every service twice to anti-join
	// the corrections (there are none). The enrolments are analyzed once
	// they are staged (fileEnrolments).
	if _, err := t.tx.ExecContext(ctx, `ANALYZE `+strings.Join(append(b.services, stagedRecords), ", ")); err != nil {
		return translate(err)
	}
	lap("the services and staged records analyzed")
	if _, err := InsertStagedRecords(ctx, t.tx.Tx, stagedRecords, recordCopyColumns); err != nil {
		return err
	}
	lap("the records filed with their facts (InsertStagedRecords)")
	if b.actor != "" {
		// In the staged table's order, the records COPY's, as the ordinary
		// path writes them (in the records' order).
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO record_history (record_id, changed_by, action, changes)
			SELECT record_id, $1, 'import', '{}' FROM `+stagedRecords, b.actor); err != nil {
			return translate(err)
		}
	}
	lap("history rows")
	if len(b.enrolments) > 0 {
		if err := t.fileEnrolments(ctx, b.enrolmentsActor, b.enrolments); err != nil {
			return err
		}
		lap("the enrolments with their follow-up schedules")
	}
	return nil
}

// stagedEnrolments is the temporary table a bulk import's enrolments wait in.
const stagedEnrolments = "import_enrolments"

// fileEnrolments writes a bulk import's enrolments with their follow-up
// schedules (last follow-up, next due date) in one statement, then the
// scheduled programmes' items (scheduleNew): the enrolments are copied into
// a temporary table first, taking their ids there in the file's order as
// the ordinary path's COPY does, and inserted from it joined with their
// latest follow-ups. The rule is refreshSchedules', set-based (the same
// rows: TestBulkImportIsTheOrdinaryImport), but for corrections:
// refreshSchedules skips a follow-up another entry corrects, and a bulk
// import has none to skip — its entries table was empty, and an import's
// COPY of entries (CopyEntries) writes no correction.
//
// Inserted so rather than copied and then updated, the enrolments are
// written once: the update wrote every one of them again (with its
// changed_xid trigger). On the 1M county, alternated in one transaction:
// copy and update 12.1 and 14.1 s, this 7.0 and 9.8 s (2026-12-07).
func (t *ImportTx) fileEnrolments(ctx context.Context, actor string, es []ImportEnrolment) error {
	if _, err := t.tx.ExecContext(ctx, `CREATE TEMPORARY TABLE `+stagedEnrolments+` ON COMMIT DROP AS
		SELECT id, `+strings.Join(enrolmentCopyColumns, ", ")+` FROM enrolments WITH NO DATA;
		ALTER TABLE `+stagedEnrolments+` ALTER id SET DEFAULT nextval('enrolments_id_seq')`); err != nil {
		return translate(err)
	}
	if _, err := t.copyEnrolments(ctx, stagedEnrolments, actor, es); err != nil {
		return err
	}
	// Without statistics the staged table would be taken for a few rows
	// and joined in a nested loop over the entries.
	if _, err := t.tx.ExecContext(ctx, `ANALYZE `+stagedEnrolments); err != nil {
		return translate(err)
	}
	// The latest follow-up of each enrolment is a sort of millions.
	restore, err := bulkSettings(ctx, t.tx.Tx)
	if err != nil {
		return err
	}
	defer restore()
	cols := strings.Join(enrolmentCopyColumns, ", s.")
	if _, err := t.tx.ExecContext(ctx, `
		INSERT INTO enrolments (id, `+strings.Join(enrolmentCopyColumns, ", ")+`, last_followup_date, next_due_date)
		SELECT s.id, s.`+cols+`, l.service_date,
			CASE WHEN s.programme IN ('hypertension', 'type2_diabetes')
				THEN followup_due(COALESCE(l.service_date, s.enrolled_on), l.next_date) END
		FROM `+stagedEnrolments+` s LEFT JOIN (
			SELECT DISTINCT ON (s.id) s.id, f.service_date, f.next_date
			FROM `+stagedEnrolments+` s JOIN entries f ON f.kind = 'followup' AND f.record_id = s.record_id AND f.programme = s.programme
				AND f.service_date >= s.enrolled_on AND (s.ended_on IS NULL OR f.service_date <= s.ended_on)
			WHERE s.programme IN ('hypertension', 'type2_diabetes')
			ORDER BY s.id, f.service_date DESC, f.id DESC
		) l ON l.id = s.id`); err != nil {
		return translate(err)
	}
	// Every enrolment is this import's: the table was empty.
	return translate(scheduleNew(ctx, t.tx, 0))
}

// FinishBulk rebuilds the foreign keys and indexes a bulk import dropped,
// each key checked by one join (a service of no record fails here). The
// records were filed with their facts and the enrolments' follow-up
// schedules settled (FileBulk), which RefreshFacts does on the ordinary
// path. After it the import may commit.
func (t *ImportTx) FinishBulk(ctx context.Context, timing func(step string, d time.Duration)) error {
	b := t.bulk
	if b == nil {
		return nil
	}
	lap := lapper(timing)
	if err := b.restore(); err != nil {
		return err
	}
	lap("indexes and foreign keys built and checked once")
	b.filed = true
	return nil
}

// lapper returns a function that tells timing the time since its last call.
func lapper(timing func(step string, d time.Duration)) func(step string) {
	start := time.Now()
	return func(step string) {
		if timing != nil {
			timing("  "+step, time.Since(start))
		}
		start = time.Now()
	}
}

// checkBulkFiled refuses to commit a bulk import whose records are still
// staged and whose indexes are dropped.
func (t *ImportTx) checkBulkFiled() error {
	if t.bulk != nil && !t.bulk.filed {
		return fmt.Errorf("import: a bulk import commits only after FinishBulk")
	}
	return nil
}
