// Command bench measures the accountability report at county scale (DESIGN
// §9): it generates a synthetic county — by default 1,000,000 residents, 300
// villages, 500 doctors and 10,000,000 dynamic records over three years, with
// about 8 % of records missing a field and 2 % with a bad identity number —
// writes it as the importer's CSV files, loads them into a throwaway
// PostgreSQL (or BENCH_DATABASE_URL) through importer.Run, the call
// `healthrec import` makes (as the owner, into the empty county: the bulk
// path of docs/import.md), and prints the load's steps, the time of a bare count(*) over the records, and
// the time of the full four-level report with sample=all and sample=300, each
// with its ratio to the bare scan.
//
//	go run ./cmd/bench                          # the county of DESIGN §9
//	go run ./cmd/bench -residents 100000 -entries 1000000   # a tenth, quicker
//
// It is not a test: `make test` never runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"healthrec/cmd/internal/benchtime"
	"healthrec/internal/civil"
	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
	"healthrec/internal/review"
)

func main() {
	var o options
	flag.IntVar(&o.residents, "residents", 1000000, "residents (records)")
	flag.IntVar(&o.villages, "villages", 300, "villages (15 per township and institution)")
	flag.IntVar(&o.doctors, "doctors", 500, "doctors")
	flag.IntVar(&o.entries, "entries", 10000000, "dynamic records (exams and service entries) over three years")
	flag.IntVar(&o.runs, "runs", 9, "timed runs of each query (after one warm-up)")
	flag.Int64Var(&o.seed, "seed", 1, "generator seed")
	flag.StringVar(&o.today, "today", "2026-06-30", "the generated data's last day and the report's as-of date")
	keep := flag.Bool("keep", false, "keep the throwaway cluster's directory (printed) instead of removing it")
	flag.StringVar(&o.dir, "dir", "", "load the county into a new cluster in this directory (new or empty) and keep it there, stopped (make bench's cmd/loadtest -cluster then measures the HTTP API on it)")
	flag.BoolVar(&o.reuse, "reuse", false, "with BENCH_DATABASE_URL: measure the county already loaded there")
	flag.BoolVar(&o.check, "check", false, "after the load, compare every record's facts and every counter with their definition (healthrec check-rates)")
	flag.BoolVar(&o.reindex, "reindex", false, "rebuild the report's indexes after the load (after an ordinary import's RefreshFacts; the bulk path builds them once)")
	flag.StringVar(&o.only, "only", "", "measure only these parts, comma-separated: report, sampled, drill, assessment, publish (default all)")
	flag.StringVar(&o.summary, "summary", "", "also start this file as the one summary table of make bench (cmd/loadtest adds its rows)")
	cpuProfile := flag.String("cpuprofile", "", "write the bench's own Go CPU profile here (the client side of each query)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(context.Background(), o, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

type options struct {
	residents, villages, doctors, entries, runs int
	seed                                        int64
	today                                       string
	reuse, reindex, check                       bool
	summary, only                               string
	// dir is where the county's cluster is made and kept (-dir).
	dir string
}

// part is whether -only asks for a part of the measurements.
func (o options) part(name string) bool {
	if o.only == "" {
		return true
	}
	for _, p := range strings.Split(o.only, ",") {
		if strings.TrimSpace(p) == name {
			return true
		}
	}
	return false
}

func run(ctx context.Context, o options, keep bool) error {
	// The load and the maintenance after it run as the owner; the
	// measurements as the app role, as the service serves (DML only). With
	// BENCH_DATABASE_URL both use it, unless BENCH_APP_DATABASE_URL names
	// the app role.
	url, appURL := os.Getenv("BENCH_DATABASE_URL"), os.Getenv("BENCH_APP_DATABASE_URL")
	if url == "" {
		dir, err := os.MkdirTemp("", "healthrec-bench-")
		if o.dir != "" {
			dir, keep = o.dir, true
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			return err
		}
		c, err := pgcluster.Start(ctx, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			return err
		}
		defer func() {
			_ = c.Stop()
			if keep {
				fmt.Println("cluster kept in", dir)
			} else {
				os.RemoveAll(dir)
			}
		}()
		if err := c.EnsureDatabase(ctx, "bench"); err != nil {
			return err
		}
		if err := postgres.Provision(ctx, c.OwnerURL("bench"), c.URL("bench"), pgcluster.App); err != nil {
			return err
		}
		url, appURL = c.OwnerURL("bench"), c.AppURL("bench")
	} else {
		owner, err := postgres.Open(ctx, url)
		if err != nil {
			return err
		}
		err = owner.Migrate(ctx)
		owner.Close()
		if err != nil {
			return err
		}
	}
	if appURL == "" {
		appURL = url
	}
	owner, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	defer owner.Close()
	db, err := postgres.Open(ctx, appURL)
	if err != nil {
		return err
	}
	defer db.Close()
	today := civil.MustParse(o.today)
	db.Now = func() time.Time { return today.Time().Add(12 * time.Hour) }
	owner.Now = db.Now

	var version string
	_ = db.GetContext(ctx, &version, `SHOW server_version`)
	fmt.Printf("machine: %d CPU cores (%s/%s), PostgreSQL %s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, version,
		time.Now().Format("2006-01-02"))
	fmt.Printf("county: %d residents, %d villages, %d doctors, %d dynamic records over 3 years ending %s\n\n",
		o.residents, o.villages, o.doctors, o.entries, o.today)

	sum := &summary{}
	g := newGenerator(o, today)
	if !o.reuse {
		load, err := g.load(ctx, db, owner)
		if err != nil {
			return err
		}
		fmt.Printf("files  %-60s %9s  (%s; not part of the load)\n", "generate the county's CSV files", load.generate.Round(time.Millisecond), load.files)
		fmt.Printf("load   importer.Run, as `healthrec import` (%s): %d residents, %d exams, %d entries\n",
			map[bool]string{true: "bulk: an empty county, as the owner", false: "the ordinary path"}[load.bulk], o.residents, load.exams, load.entries)
		fmt.Printf("load   %-60s %9s %9s %9s\n", "", "wall", "pg CPU", "Go CPU")
		for _, s := range load.steps {
			fmt.Printf("load   %-60s %9s %9s %9s\n", s.name, s.d.Round(time.Millisecond), s.pg.Round(10*time.Millisecond), s.goCPU.Round(10*time.Millisecond))
		}
		fmt.Printf("load   %-60s %9s\n", "whole import, counters folded", load.total.Round(time.Millisecond))
		for _, s := range load.after {
			fmt.Printf("after  %-60s %9s\n", s.name, s.d.Round(time.Millisecond))
		}
		for _, s := range load.floor.steps {
			fmt.Printf("floor  %-60s %9s\n", s.name, s.d.Round(time.Millisecond))
		}
		fmt.Printf("floor  %-60s %9s  the import %.1f× it\n", "the floor, the same files (issue #20)", load.floor.total.Round(time.Millisecond),
			float64(load.total)/float64(load.floor.total))
		total := load.total
		fmt.Println()
		if o.check {
			start := time.Now()
			drift, err := owner.CheckRates(ctx)
			if err != nil {
				return err
			}
			for _, d := range drift {
				fmt.Println("drift:", d)
			}
			fmt.Printf("check-rates after the load: %d differences (%s)\n\n", len(drift), time.Since(start).Round(time.Millisecond))
			if len(drift) > 0 {
				return fmt.Errorf("the load's facts or counters differ from their definition")
			}
		}
		sum.row(fmt.Sprintf("load of the county through the importer (%d residents, %d dynamic records; counters folded)", o.residents, o.entries),
			fmt.Sprintf("%s (%.0f residents/s)", total.Round(time.Second), float64(o.residents)/total.Seconds()),
			fmt.Sprintf("%.1f× the run's floor (%s: the files copied into text columns, one index)", float64(total)/float64(load.floor.total),
				load.floor.total.Round(time.Second)), "", "", "")
	}

	county := g.county
	bare, bareMin, err := measure(o.runs, func() error {
		var n int
		return db.GetContext(ctx, &n, `SELECT count(*) FROM records`)
	})
	if err != nil {
		return fmt.Errorf("count(*): %w", err)
	}
	// The same count on one core: a bare count(*) plans parallel workers,
	// whose start-up on this VM costs more than the scan at this size, while
	// a report runs serial (tuneReport); both are printed so a ratio can be
	// read against either.
	serial, serialMin, err := measure(o.runs, func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var n int
		if _, err := tx.ExecContext(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&n)
	})
	if err != nil {
		return fmt.Errorf("serial count(*): %w", err)
	}
	fmt.Printf("%-52s %9s %9s\n", "", "median", "fastest")
	fmt.Printf("%-52s %9s %9s\n", "bare SELECT count(*) FROM records", bare, bareMin)
	fmt.Printf("%-52s %9s %9s\n", "  the same, serial (no parallel workers)", serial, serialMin)
	sum.row("bare `SELECT count(*) FROM records` (median)", bare.String(), "1", "", "", "")
	sum.row("the same on one core (no parallel workers)", serial.String(), "", "", "", "")
	report := func(name string, p rates.Params) error {
		d, dMin, err := measure(o.runs, func() error {
			_, err := db.Report(ctx, county, p)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("%-52s %9s %9s  %5.1f× bare (median), %4.1f× (fastest); %4.1f× serial\n", name, d, dMin,
			float64(d)/float64(bare), float64(dMin)/float64(bareMin), float64(d)/float64(serial))
		sum.row(name+" (median)", d.String(), fmt.Sprintf("%.1f (%.1f× serial)", float64(d)/float64(bare), float64(d)/float64(serial)), "", "", "")
		return nil
	}
	asOf := today
	past := today.AddDays(-365)
	for _, c := range []struct {
		name string
		p    rates.Params
	}{
		{"report, 4 levels, sample=all, as of " + asOf.String(), rates.Params{AsOf: asOf, Sample: rates.All, Seed: 1}},
		{"report, 4 levels, sample=300, as of " + asOf.String(), rates.Params{AsOf: asOf, Sample: 300, Seed: 1}},
		{"report, 4 levels, sample=all, as of " + past.String(), rates.Params{AsOf: past, Sample: rates.All, Seed: 1}},
		{"report, 4 levels, sample=300, as of " + past.String(), rates.Params{AsOf: past, Sample: 300, Seed: 1}},
	} {
		if !o.part(map[bool]string{true: "report", false: "sampled"}[c.p.Sample == rates.All]) {
			continue
		}
		if err := report(c.name, c.p); err != nil {
			return err
		}
	}
	doc := g.doctorCodes[0]
	if o.part("drill") {
		d, dMin, err := measure(o.runs, func() error {
			_, _, err := db.RateRecords(ctx, county, rates.Params{AsOf: asOf, Sample: 300, Seed: 1},
				postgres.DrillFilter{Level: rates.Doctor, ScopeCode: doc, Page: postgres.Page{PerPage: 50}})
			return err
		})
		if err != nil {
			return fmt.Errorf("drill-down: %w", err)
		}
		fmt.Printf("%-52s %9s %9s\n", "drill-down (records only), one doctor, sample=300", d, dMin)
	}
	// My assessment (GET /assessment) of one doctor and of one institution:
	// the store's part of the answer, in the handler's order — the scope,
	// the whole-population report it ranks in, the trend, the first page of
	// records to fix.
	all := rates.Params{AsOf: asOf, Sample: rates.All, Seed: 1}
	assessment := func(l rates.Level, code string) (time.Duration, time.Duration, error) {
		return measure(o.runs, func() error {
			if _, err := db.RateScope(ctx, l, code); err != nil {
				return err
			}
			if _, err := db.Report(ctx, county, all); err != nil {
				return err
			}
			if _, err := db.Trends(ctx, county, l, code); err != nil {
				return err
			}
			_, _, err := db.RateRecords(ctx, county, all, postgres.DrillFilter{Level: l, ScopeCode: code, Page: postgres.Page{PerPage: 50}})
			return err
		})
	}
	if o.part("assessment") {
		// A records administrator's: the institution's ~50,000 records.
		d, dMin, err := assessment(rates.Institution, g.institutions[0])
		if err != nil {
			return fmt.Errorf("my assessment, one institution: %w", err)
		}
		fmt.Printf("%-52s %9s %9s\n", "my assessment, one institution (records admin)", d, dMin)
		if d, dMin, err = assessment(rates.Doctor, doc); err != nil {
			return fmt.Errorf("my assessment, one doctor: %w", err)
		}
		fmt.Printf("%-52s %9s %9s\n", "my assessment (GET /assessment), one doctor", d, dMin)
		sum.row("my assessment of one doctor (median; target ≤ 50 ms)", d.String(), fmt.Sprintf("%.1f", float64(d)/float64(bare)), "", "", "")
	}
	// Publishing writes a snapshot each time: timed once each.
	for _, n := range []rates.Sample{300, rates.All} {
		if !o.part("publish") {
			break
		}
		start := time.Now()
		// One pre-assessment per county and date: each run corrects the last.
		pub := postgres.Publication{Kind: review.KindPreAssessment, Title: "bench"}
		if prev, err := db.CurrentSnapshot(ctx, county, pub.Kind, asOf); err != nil {
			return err
		} else if prev != 0 {
			pub.Supersedes, pub.Reason = &prev, "bench rerun"
		}
		snap, err := db.PublishSnapshot(ctx, g.doctorCodes[0], county, pub, rates.Params{AsOf: asOf, Sample: n, Seed: 1})
		if err != nil {
			return err
		}
		fmt.Printf("%-52s %9s  (%d sampled records frozen)\n", "publish a snapshot, sample="+n.String()+" (once)",
			time.Since(start).Round(time.Millisecond), snap.Sampled)
	}
	if o.summary != "" {
		return sum.start(o.summary, fmt.Sprintf("%d CPU cores, PostgreSQL %s, %s", runtime.NumCPU(), version, time.Now().Format("2006-01-02")))
	}
	return nil
}

// summary collects the rows of make bench's one summary table; cmd/loadtest
// appends the HTTP rows to the same file.
type summary struct{ rows []string }

func (s *summary) row(what, value, ratio, p50, p95, p99 string) {
	s.rows = append(s.rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s |", what, value, ratio, p50, p95, p99))
}

// start writes the table's heading and this command's rows to path.
func (s *summary) start(path, machine string) error {
	head := []string{"", "make bench — " + machine, "",
		"| what | time or rate | × bare count | p50 | p95 | p99 |", "|---|---:|---:|---:|---:|---:|"}
	return os.WriteFile(path, []byte(strings.Join(append(head, s.rows...), "\n")+"\n"), 0o644)
}

// measure is benchtime.Measure to a tenth of a millisecond.
func measure(runs int, fn func() error) (median, fastest time.Duration, err error) {
	return benchtime.Measure(runs, 100*time.Microsecond, fn)
}
