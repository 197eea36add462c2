package app

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"

	"healthrec/internal/postgres"
)

// CheckRatesUsage is the help text of `healthrec check-rates`.
const CheckRatesUsage = `usage: healthrec check-rates [--repair]

  Lists every record whose stored rate facts differ from its exams and entries,
  and every rate counter that differs from its records; exits 1 when any does.
  --repair   make them equal, in one transaction (safe beside the server); exits 1
             only when differences remain afterwards
`

// RunCheckRates is `healthrec check-rates`: the consistency check of
// docs/rates.md, one line per difference on stdout. It returns an error
// when anything differs (after the repair, with --repair), so the command
// exits non-zero.
func RunCheckRates(ctx context.Context, db *postgres.DB, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("check-rates", flag.ContinueOnError)
	var flagOut bytes.Buffer
	fs.SetOutput(&flagOut)
	repair := fs.Bool("repair", false, "")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v\n%s", err, CheckRatesUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), CheckRatesUsage)
	}
	check := db.CheckRates
	if *repair {
		check = db.RepairRates
	}
	found, err := check(ctx)
	if err != nil {
		return err
	}
	for _, d := range found {
		fmt.Fprintln(stdout, d)
	}
	if !*repair {
		if len(found) > 0 {
			return fmt.Errorf("check-rates: %d differences", len(found))
		}
		fmt.Fprintln(stdout, "check-rates: every record's facts and every counter agree with their definitions")
		return nil
	}
	left, err := db.CheckRates(ctx)
	if err != nil {
		return err
	}
	for _, d := range left {
		fmt.Fprintln(stdout, "still:", d)
	}
	if len(left) > 0 {
		return fmt.Errorf("check-rates: %d differences left after the repair", len(left))
	}
	fmt.Fprintf(stdout, "check-rates: %d differences repaired; every record's facts and every counter agree\n", len(found))
	return nil
}
