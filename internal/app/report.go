package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
)

// ReportUsage is the help text of `healthrec report`.
const ReportUsage = `usage: healthrec report [--as-of YYYY-MM-DD] [--sample all|N] [--seed N] [--format csv|json|pdf] [--out FILE] [--county CODE]

  --as-of    the period's last day (default: today)
  --sample   records drawn per responsible doctor, or all (default: all)
  --seed     the draw's seed; required with a numeric --sample so the draw can be repeated
  --format   csv (default), json or pdf
  --out      write to FILE instead of standard output
  --county   the county, when the database holds several
`

// RunReport is `healthrec report`: the rates report of DESIGN §5 for a
// county, written to stdout or --out. With --out, stdout gets a one-line
// summary instead.
func RunReport(ctx context.Context, db *postgres.DB, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	var flagOut bytes.Buffer
	fs.SetOutput(&flagOut)
	asOf := fs.String("as-of", "", "")
	sample := fs.String("sample", "all", "")
	seed := fs.String("seed", "", "")
	format := fs.String("format", "csv", "")
	out := fs.String("out", "", "")
	county := fs.String("county", "", "")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v\n%s", err, ReportUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), ReportUsage)
	}
	p := rates.Params{AsOf: civil.Of(db.Today())}
	if *asOf != "" {
		d, err := civil.Parse(*asOf)
		if err != nil {
			return fmt.Errorf("--as-of: %v", err)
		}
		p.AsOf = d
	}
	n, err := rates.ParseSample(*sample)
	if err != nil {
		return fmt.Errorf("--sample: want all or 1–%d", rates.MaxSample)
	}
	p.Sample = n
	switch {
	case *seed != "":
		if p.Seed, err = rates.ParseSeed(*seed); err != nil {
			return fmt.Errorf("--seed: want an integer")
		}
	case p.Sample != rates.All:
		return fmt.Errorf("--seed is required with --sample %s, so that the draw can be repeated", p.Sample)
	}
	switch *format {
	case "csv", "json", "pdf":
	default:
		return fmt.Errorf("--format: want csv, json or pdf")
	}
	code, err := pickCountyFlag(ctx, db, *county)
	if err != nil {
		return err
	}
	r, err := db.Report(ctx, code, p)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	switch *format {
	case "csv":
		err = rates.WriteCSV(&b, r)
	case "json":
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	case "pdf":
		var pdf []byte
		if pdf, err = rates.PDF(r); err == nil {
			b.Write(pdf)
		}
	}
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(b.Bytes())
		return err
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: %s %s as of %s, sample %s, seed %d, %d rows, %d warnings\n",
		*out, r.CountyCode, r.CountyName, r.AsOf, r.Sample, r.Seed, len(r.Rows), len(r.Warnings))
	return err
}

// pickCountyFlag returns --county, or the only county of the database.
func pickCountyFlag(ctx context.Context, db *postgres.DB, want string) (string, error) {
	counties, err := db.Counties(ctx)
	if err != nil {
		return "", err
	}
	var codes []string
	for _, c := range counties {
		if want == "" || c.Code == want {
			codes = append(codes, c.Code)
		}
	}
	switch {
	case len(codes) == 1:
		return codes[0], nil
	case want != "":
		return "", fmt.Errorf("--county %s is not registered", want)
	case len(codes) == 0:
		return "", fmt.Errorf("no county is registered")
	}
	return "", fmt.Errorf("the database holds several counties (%s): choose one with --county", strings.Join(codes, ", "))
}
