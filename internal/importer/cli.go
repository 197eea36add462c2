package importer

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"healthrec/internal/access"
	"healthrec/internal/postgres"
)

// ErrBadRows is what the command returns when the files have bad rows, so
// that it exits non-zero; the rows are in its output.
var ErrBadRows = errors.New("import: the files have bad rows; nothing was written")

// CLIActor is recorded as the creator of what the command line imports.
const CLIActor = "import"

// RunImport is the command `healthrec import [--dry-run] [--json] DIR`: it
// imports the CSV files of DIR with the administrator's reach and prints
// the counts per file and every bad row. progress, when not nil (the
// command passes standard error when it is a terminal), shows the rows
// checked so far, overwritten in place. owner, when not nil, connects as
// the tables' owner: an import into an empty county loads in bulk on it
// (Options.Owner).
func RunImport(ctx context.Context, db, owner *postgres.DB, args []string, stdout, progress io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dry := fs.Bool("dry-run", false, "check every row and report the bad ones; write nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: healthrec import [--dry-run] [--json] DIR")
		fmt.Fprintln(stdout, "DIR holds any of: institutions.csv regions.csv staff.csv populations.csv responsibilities.csv residents.csv programmes.csv entries.csv")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import: want exactly one directory")
	}
	opt := CommandOptions(owner)
	opt.DryRun = *dry
	src := Dir(fs.Arg(0))
	if progress != nil {
		totals := map[string]int{}
		if names, err := src.Names(); err == nil {
			for _, n := range names {
				totals[n], _ = CountRows(src, n) // unreadable: Run reports it
			}
		}
		opt.Progress = func(file string, rows int) {
			fmt.Fprintf(progress, "\r%-22s %9d / %d rows checked", file, rows, totals[file])
		}
	}
	rep, err := Run(ctx, db, src, opt)
	if progress != nil {
		fmt.Fprint(progress, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if !rep.OK {
		return ErrBadRows
	}
	return nil
}

// CommandOptions are the options of `healthrec import`: the
// administrator's reach, "import" the actor, the command line in the access
// log; owner as RunImport's.
func CommandOptions(owner *postgres.DB) Options {
	return Options{Actor: CLIActor, Admin: true, Owner: owner,
		Audit: access.LogEntry{Roles: "admin@cli", Method: "CLI", Path: "healthrec import"}}
}

func printReport(w io.Writer, rep *Report) {
	for _, f := range Files {
		c := rep.Counts[f]
		if c == nil {
			continue
		}
		fmt.Fprintf(w, "%-22s %9d rows", f, c.Rows)
		if c.Unchanged > 0 {
			fmt.Fprintf(w, ", %d unchanged", c.Unchanged)
		}
		if c.Bad > 0 {
			fmt.Fprintf(w, ", %d bad", c.Bad)
		}
		fmt.Fprintln(w)
	}
	for _, p := range rep.Errors {
		field := p.Field
		if field == "" {
			field = "-"
		}
		fmt.Fprintf(w, "%s:%d: %s: %s\n", p.File, p.Line, field, p.Reason)
	}
	if rep.Truncated {
		fmt.Fprintf(w, "… only the first %d problems are listed\n", MaxProblems)
	}
	switch {
	case !rep.OK && rep.BadRows == 0:
		fmt.Fprintln(w, "the files have problems; nothing was written")
	case !rep.OK:
		fmt.Fprintf(w, "%d bad rows; nothing was written\n", rep.BadRows)
	case rep.DryRun:
		fmt.Fprintln(w, "dry run: no bad rows; nothing was written")
	case rep.Bulk:
		fmt.Fprintf(w, "imported in bulk into an empty county; %d new record IDs allocated\n", rep.AllocatedIDs)
	default:
		fmt.Fprintf(w, "imported; %d new record IDs allocated\n", rep.AllocatedIDs)
	}
}
