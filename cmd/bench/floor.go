package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"healthrec/internal/importer"
	"healthrec/internal/postgres"
)

// floorResult is the load's floor in the same run (issue #20): the county's
// residents.csv and entries.csv copied as they are into tables of text
// columns, and the entries' index on record and date — what any load of
// these files does at the least, with none of the checks, facts, counters,
// audit rows and indexes the import writes.
type floorResult struct {
	steps []step
	total time.Duration
}

// floorIndex is the one index of the floor: the entries by record and date.
const floorIndex = "CREATE INDEX ON floor_entries (record_id, service_date)"

// measureFloor runs the floor in one transaction on owner, rolled back at
// the end: nothing of it stays in the database.
func measureFloor(ctx context.Context, owner *postgres.DB, dir string) (*floorResult, error) {
	conn, err := owner.Connx(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res := &floorResult{}
	timed := func(name string, fn func() (string, error)) error {
		start := time.Now()
		what, err := fn()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		d := time.Since(start)
		res.steps = append(res.steps, step{name: name + what, d: d})
		res.total += d
		return nil
	}
	for _, f := range []struct{ file, table string }{{importer.ResidentsFile, "floor_records"}, {importer.EntriesFile, "floor_entries"}} {
		if err := timed("COPY of "+f.file+" into a table of text columns", func() (string, error) {
			return copyAsText(ctx, conn, tx, filepath.Join(dir, f.file), f.table)
		}); err != nil {
			return nil, err
		}
	}
	if err := timed("the entries' index on (record_id, service_date)", func() (string, error) {
		_, err := tx.ExecContext(ctx, floorIndex)
		return "", err
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// copyAsText creates table with the columns named by path's header line,
// all text, copies the file into it and says how many rows it took.
func copyAsText(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, path, table string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	header, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return "", err
	}
	if _, err := f.Seek(0, 0); err != nil {
		return "", err
	}
	columns := strings.Split(strings.TrimSpace(header), ",")
	// The names are the generator's own header, never input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s (%s text)", table, strings.Join(columns, " text, "))); err != nil {
		return "", err
	}
	n, err := postgres.CopyCSV(ctx, conn, table, f)
	return fmt.Sprintf(" (%d rows)", n), err
}
