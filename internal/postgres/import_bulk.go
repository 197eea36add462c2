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
	// restore recreates the foreign keys and indexes DeferChecks dropped.
	restore func() error
	// actor writes the records' history once they are filed.
	actor string
	// enrolments wait for their records (InsertEnrolments).
	enrolments      []ImportEnrolment
	enrolmentsActor string
	filed           bool
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
//     commit (DeferChecks);
//   - the records wait in a temporary table while their exams and entries
//     load, and are then filed with their write-time facts in one statement
//     (InsertStagedRecords), so that no record is updated afterwards;
//   - their history rows and programmes.csv's enrolments (which refer to
//     the records) are written after them, and the enrolments' follow-up
//     schedules computed once (FileBulk).
//
// What is written is the same as the ordinary path writes, row for row.
func (db *DB) BeginBulkImport(ctx context.Context) (*ImportTx, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, translate(err)
	}
	fail := func(err error) (*ImportTx, error) {
		tx.Rollback()
		return nil, translate(err)
	}
	var hasEntries bool
	if err := tx.GetContext(ctx, &hasEntries, `SELECT to_regclass('entries') IS NOT NULL`); err != nil {
		return fail(err)
	}
	tables := []string{"records", "exams", "enrolments"}
	if hasEntries {
		tables = append(tables, "entries")
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
		tx.Rollback()
		return nil, nil
	}
	restore, err := DeferChecks(ctx, tx, deferred...)
	if err != nil {
		return fail(err)
	}
	// The access log's indexes too, when it has no rows yet (a new
	// installation's): a county's import writes a row per record, exam and
	// entry. Its foreign key stays (the append-only guard refuses to drop
	// it; the import's rows name no grant).
	restoreLog, err := deferLogIndexes(ctx, tx)
	if err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE `+stagedRecords+` ON COMMIT DROP AS SELECT `+
		strings.Join(recordCopyColumns, ", ")+` FROM records WITH NO DATA`); err != nil {
		return fail(err)
	}
	both := func() error {
		if err := restore(); err != nil {
			return err
		}
		return restoreLog()
	}
	return &ImportTx{db: db, tx: &Tx{Tx: tx}, served: map[string]struct{}{}, bulk: &bulkImport{restore: both}}, nil
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
// the programmes that have them), before the import's audit rows are
// written; FinishBulk then rebuilds the checks. The ordinary path has
// nothing to do here. timing, when not nil, is told how long each part
// took.
func (t *ImportTx) FileBulk(ctx context.Context, timing func(step string, d time.Duration)) error {
	b := t.bulk
	if b == nil {
		return nil
	}
	lap := lapper(timing)
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
	if len(b.enrolments) > 0 {
		if _, err := t.insertEnrolments(ctx, b.enrolmentsActor, b.enrolments); err != nil {
			return err
		}
	}
	lap("history rows, enrolments")
	return nil
}

// FinishBulk rebuilds the foreign keys and indexes a bulk import dropped,
// each key checked by one join (a service of no record fails here), and
// settles the follow-up schedules of its enrolments, as RefreshFacts does
// on the ordinary path (which a bulk import skips: its records were filed
// with their facts). After it the import may commit.
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
	if len(b.enrolments) > 0 {
		// Every enrolment is this import's.
		if err := refreshSchedules(ctx, t.tx, "e.id > $1", t.enrolmentMark); err != nil {
			return translate(err)
		}
		lap("the follow-up schedules")
	}
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
