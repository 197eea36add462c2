package importer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/staff"
)

// Options says how to import and for whom.
type Options struct {
	// DryRun checks every row and writes nothing.
	DryRun bool
	// Actor is recorded as the creator of what is imported and in the
	// records' history: the staff code of the caller, or "import" from the
	// command line.
	Actor string
	// Admin may import anything. Otherwise the import reaches only
	// Institutions: their villages, staff and records; rows outside are bad
	// rows.
	Admin        bool
	Institutions []string
	// Today bounds service, filing and status dates.
	Today civil.Date
	// Audit names the caller in the access log: one allowed write per
	// record and section imported (its basic info, its exams, each kind of
	// its entries, its programmes), and the look-ups of records already on
	// file (a duplicate identity number). StaffCode defaults to Actor.
	Audit access.LogEntry
	// Reader is the caller: a bad row names a record already on file only
	// when Reader may read it. Nil is the command line's operator, who
	// holds the database itself.
	Reader *staff.Staff
	// Owner, when set, connects as the tables' owner: a real run into an
	// empty county (no records, exams, entries or enrolments yet) with a
	// residents.csv then loads in bulk on it (postgres.BeginBulkImport),
	// holding the tables' exclusive locks to its commit; anything else
	// imports the ordinary way on db. The command line sets it when it
	// knows the owner (docs/import.md); the server's upload does not.
	Owner *postgres.DB
	// Progress, when set, is called every ProgressEvery rows of a file on
	// its checking pass, and once when each present file is done (a
	// million rows take a minute; the command line shows where it is).
	Progress func(file string, rows int)
	// Timing, when set, is told how long each step of a real run took
	// (cmd/bench prints them).
	Timing func(step string, d time.Duration)
}

// importer is one run.
type importer struct {
	ctx     context.Context
	tx      *postgres.ImportTx
	src     Source
	opt     Options
	rep     *Report
	reg     *registry
	present map[string]bool
	serials map[string]*serials
	// enrolments are the active follow-up enrolments by record, for
	// entries.csv's follow-ups.
	enrolments map[string][]postgres.ImportEnrolment
	// authors remembers the attribution rule's answers (mayAuthor).
	authors map[authorKey]string
	// lookups are the access-log rows of records on file that rows named.
	lookups []access.LogEntry

	recordsWritten, examsWritten, entriesWritten, enrolmentsWritten int
}

// Run imports the files of src in one transaction and reports every bad
// row. Nothing is written on a dry run or when any row is bad. The error is
// for failures other than bad rows: the database, reading the files.
func Run(ctx context.Context, db *postgres.DB, src Source, opt Options) (*Report, error) {
	if opt.Actor == "" {
		return nil, fmt.Errorf("import: no actor")
	}
	if opt.Today.IsZero() {
		opt.Today = civil.Of(db.Today())
	}
	if opt.Audit.StaffCode == "" {
		opt.Audit.StaffCode = opt.Actor
	}
	im := &importer{ctx: ctx, src: src, opt: opt, rep: newReport(opt.DryRun), present: map[string]bool{}, serials: map[string]*serials{},
		authors: map[authorKey]string{}}
	names, err := src.Names()
	if err != nil {
		return nil, fmt.Errorf("import: list files: %w", err)
	}
	if len(names) == 0 {
		return nil, apperr.Errorf(apperr.Invalid, "没有可导入的文件：文件名应为 %s 之一", strings.Join(Files, "、"))
	}
	for _, n := range names {
		if knownFile(n) {
			im.present[n] = true
		} else {
			im.failFile(n, 0, "", "未知的导入文件；文件名应为 "+strings.Join(Files, "、")+" 之一")
		}
	}
	if !opt.DryRun && opt.Owner != nil && im.present[ResidentsFile] {
		if im.tx, err = opt.Owner.BeginBulkImport(ctx); err != nil {
			return nil, err
		}
		im.rep.Bulk = im.tx != nil
	}
	if im.tx == nil {
		if im.tx, err = db.BeginImport(ctx, opt.DryRun); err != nil {
			return nil, err
		}
	}
	defer im.tx.Rollback()
	reg, err := im.tx.Registry(ctx)
	if err != nil {
		return nil, err
	}
	im.reg = newRegistry(reg)

	steps := []struct {
		files []string
		fn    func() error
	}{{[]string{RegionsFile, InstitutionsFile}, im.readRegistryFiles}, {[]string{StaffFile}, im.readStaff},
		{[]string{PopulationsFile}, im.readPopulations}, {[]string{ResponsibilitiesFile}, im.readResponsibilities},
		{[]string{ResidentsFile}, im.readResidents}, {[]string{ProgrammesFile}, im.readProgrammes}, {[]string{EntriesFile}, im.readEntries}}
	for _, step := range steps {
		if err := im.timed(strings.Join(step.files, ", "), step.fn); err != nil {
			return nil, err
		}
		for _, f := range step.files {
			if c := im.rep.Counts[f]; c != nil && opt.Progress != nil {
				opt.Progress(f, c.Rows)
			}
		}
	}
	// The look-ups are logged whatever becomes of the import (a dry run,
	// bad rows): outside its transaction, and before the report goes out.
	if err := db.AppendAccess(ctx, im.lookups...); err != nil {
		return nil, err
	}
	im.rep.OK = im.rep.problems == 0
	if !im.writing() {
		return im.rep, nil
	}
	if err := im.finish(); err != nil {
		return nil, err
	}
	return im.rep, nil
}

// timed runs a step and tells Options.Timing how long it took.
func (im *importer) timed(step string, fn func() error) error {
	start := time.Now()
	err := fn()
	if im.opt.Timing != nil && err == nil {
		im.opt.Timing(step, time.Since(start))
	}
	return err
}

// writing reports whether rows are still being written: on a real run, until
// the first problem.
func (im *importer) writing() bool { return !im.opt.DryRun && im.rep.problems == 0 }

func (im *importer) inReach(inst string) bool {
	return im.opt.Admin || inst != "" && slices.Contains(im.opt.Institutions, inst)
}

// finish moves the village counters past every serial now in use,
// recomputes the records' write-time facts and commits.
func (im *importer) finish() error {
	last := map[string]int{}
	for v, s := range im.serials {
		if h := s.highest(); h > s.last {
			last[v] = h
		}
	}
	if len(last) > 0 {
		if err := im.tx.SetSerials(im.ctx, last); err != nil {
			return err
		}
	}
	// A bulk import files its records, history and enrolments now, before
	// they are audited (and the access log's indexes, when it had no rows,
	// are built after its rows are in).
	if im.tx.Bulk() {
		if err := im.timed("file the records, their history, the enrolments", func() error {
			return im.tx.FileBulk(im.ctx, im.opt.Timing)
		}); err != nil {
			return err
		}
	}
	if err := im.timed("audit rows", func() error {
		// The access log's rows commit with what they log.
		_, err := im.tx.AuditImport(im.ctx, im.opt.Audit)
		return err
	}); err != nil {
		return err
	}
	if im.tx.Bulk() {
		// The checks deferred for the load, and the schedules.
		if err := im.timed("rebuild the checks, the schedules", func() error { return im.tx.FinishBulk(im.ctx, im.opt.Timing) }); err != nil {
			return err
		}
	} else if im.recordsWritten+im.examsWritten+im.entriesWritten+im.enrolmentsWritten > 0 {
		if err := im.timed("RefreshFacts", func() error { return im.tx.RefreshFacts(im.ctx) }); err != nil {
			return err
		}
	}
	if err := im.timed("commit", func() error { return im.tx.CommitOnly(im.ctx) }); err != nil {
		return err
	}
	return im.timed("fold the rate changes into the counters", func() error { im.tx.Fold(im.ctx); return nil })
}
