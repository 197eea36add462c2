// Command provincebench measures the province report (DESIGN §9, "a province
// view ... whose report over 100 counties stays fast"): it fills a province
// database with what 100 synthetic counties would have published to it —
// regions, institutions, populations, heartbeats and the village counters
// (rate_counts, kind 'v': day rows over three years, with their month and
// year rows) — and times the province report against a serial count(*) of
// the province's counter rows, in the same run, with the machine's load.
//
//	go run ./cmd/provincebench                        # 100 counties × 300 villages
//	go run ./cmd/provincebench -counties 10 -days 200 # quicker
//
// It runs in a throwaway cluster (-keep leaves it running), or in
// PROVINCEBENCH_DATABASE_URL (a superuser; a province loaded before is
// measured again). It is not a test: `make test` never runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"healthrec/cmd/internal/benchtime"
	"healthrec/internal/civil"
	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
)

type options struct {
	counties, villages, days, runs int
	asOf                           string
	keep                           bool
}

func main() {
	var o options
	flag.IntVar(&o.counties, "counties", 100, "counties in the province")
	flag.IntVar(&o.villages, "villages", 300, "villages per county (15 per township and institution)")
	flag.IntVar(&o.days, "days", 1000, "days with a change per village, spread over the three years to the as-of date")
	flag.IntVar(&o.runs, "runs", 7, "timed runs of each query (after one warm-up)")
	flag.StringVar(&o.asOf, "as-of", "2026-06-30", "the report's as-of date, the last day of the generated changes")
	flag.BoolVar(&o.keep, "keep", false, "keep the throwaway cluster running and its directory (printed), to measure again with PROVINCEBENCH_DATABASE_URL")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "provincebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.counties < 1 || o.counties > 9900 || o.villages < 1 || o.villages > 999*15 || o.days < 1 || o.runs < 1 {
		return fmt.Errorf("counties 1–9900, villages 1–14985, days and runs at least 1")
	}
	asOf, err := civil.Parse(o.asOf)
	if err != nil {
		return fmt.Errorf("-as-of: %w", err)
	}
	url := os.Getenv("PROVINCEBENCH_DATABASE_URL")
	if url == "" {
		dir, err := os.MkdirTemp("", "healthrec-provincebench-")
		if err != nil {
			return err
		}
		_ = os.Chmod(dir, 0o755) // the cluster runs as postgres when we are root
		c, err := pgcluster.Start(ctx, dir+"/pg", slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			return err
		}
		if err := c.EnsureDatabase(ctx, "province"); err != nil {
			return err
		}
		url = c.URL("province")
		if o.keep {
			defer fmt.Printf("\ncluster kept running in %s:\nPROVINCEBENCH_DATABASE_URL='%s'\n", dir, url)
		} else {
			defer os.RemoveAll(dir)
			defer c.Stop()
		}
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	db.Now = func() time.Time { return asOf.Time().Add(12 * time.Hour) }

	var version string
	_ = db.GetContext(ctx, &version, `SHOW server_version`)
	fmt.Printf("machine: %d CPU cores (%s/%s), PostgreSQL %s, %s, load average %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		version, time.Now().UTC().Format("2006-01-02 15:04 UTC"), loadAverage())
	fmt.Printf("province: %d counties × %d villages, %d change days per village over three years to %s\n\n",
		o.counties, o.villages, o.days, asOf)

	start := time.Now()
	var loaded bool
	if err := db.GetContext(ctx, &loaded, `SELECT EXISTS (SELECT 1 FROM regions WHERE level = 'county' AND code LIKE '33%')`); err != nil {
		return err
	}
	if loaded {
		fmt.Println("reusing the province already loaded")
	} else if err := load(ctx, db, o, asOf); err != nil {
		return err
	}
	var rows int64
	if err := db.GetContext(ctx, &rows, `SELECT count(*) FROM rate_counts`); err != nil {
		return err
	}
	fmt.Printf("load: %d counter rows in %s\n\n", rows, time.Since(start).Round(time.Second))

	serial, serialMin := measure(o.runs, func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var n int64
		if _, err := tx.ExecContext(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM rate_counts`).Scan(&n)
	})
	fmt.Printf("%-56s %9s %9s\n", "", "median", "fastest")
	fmt.Printf("%-56s %9s %9s  1\n", fmt.Sprintf("serial count(*) of the %d counter rows", rows), serial, serialMin)
	for _, at := range []civil.Date{asOf, asOf.AddDays(-365)} {
		p := rates.Params{AsOf: at, Sample: rates.All}
		var last *rates.Report
		d, dMin := measure(o.runs, func() error {
			r, _, err := db.ProvinceReport(ctx, "33", p, 0)
			last = r
			return err
		})
		name := fmt.Sprintf("province report as of %s (%d rows)", at, len(last.Rows))
		fmt.Printf("%-56s %9s %9s  %.2f× serial count (median), %.2f× (fastest)\n", name, d, dMin,
			float64(d)/float64(serial), float64(dMin)/float64(serialMin))
		// The way the first version read: each county's report on its own.
		d, dMin = measure(o.runs, func() error {
			var reports []*rates.Report
			for i := 0; i < o.counties; i++ {
				r, err := db.Report(ctx, countyCode(i), p)
				if err != nil {
					return err
				}
				reports = append(reports, r)
			}
			rates.Province("33", "", p, reports, time.Now())
			return nil
		})
		fmt.Printf("%-56s %9s %9s  %.2f× serial count (median), %.2f× (fastest)\n", "  the same, county by county (db.Report each)", d, dMin,
			float64(d)/float64(serial), float64(dMin)/float64(serialMin))
	}
	fmt.Printf("\nload average after: %s\n", loadAverage())
	return nil
}

// load writes what the counties would have published, county by county.
// Codes: county 33CCNN (city CC, county NN), township county+3 digits,
// village township+3 digits; one institution per township.
func load(ctx context.Context, db *postgres.DB, o options, asOf civil.Date) error {
	townships := (o.villages + 14) / 15
	from := asOf.AddDays(-3 * 365)
	step := float64(3*365) / float64(o.days)
	for i := 0; i < o.counties; i++ {
		county := countyCode(i)
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		steps := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO regions (code, level, name) VALUES ($1, 'county', '县' || $1)`, []any{county}},
			{`INSERT INTO regions (code, level, parent_code, name)
				SELECT $1 || (100 + t), 'township', $1, '镇' || $1 || (100 + t) FROM generate_series(0, $2 - 1) t`, []any{county, townships}},
			{`INSERT INTO institutions (code, name, county_code)
				SELECT 'I' || $1 || (100 + t), '卫生院' || $1 || (100 + t), $1 FROM generate_series(0, $2 - 1) t`, []any{county, townships}},
			{`INSERT INTO regions (code, level, parent_code, name, institution_code)
				SELECT $1 || (100 + v / 15) || (100 + v % 15), 'village', $1 || (100 + v / 15), '村' || v, 'I' || $1 || (100 + v / 15)
				FROM generate_series(0, $2 - 1) v`, []any{county, o.villages}},
			{`INSERT INTO village_populations (village_code, year, population)
				SELECT code, $2, 1000 + abs(hashtext(code)) % 4000 FROM regions WHERE parent_code LIKE $1 || '%' AND level = 'village'`,
				[]any{county, asOf.Year()}},
			// Day rows: a village's records come in (+active), pass the rules
			// and are used, spread over its change days; a county's hash
			// makes the rates differ between counties.
			{`INSERT INTO rate_counts (county, grain, starts, kind, code, active, qualified, used)
				SELECT $1, 'd', $2::date + floor(k * $3::float8)::int, 'v', v.code,
					a, a - (h + k) % 2 * (1 + h % 2), (a * (40 + h % 50)) / 100
				FROM regions v CROSS JOIN generate_series(0, $4 - 1) k
				CROSS JOIN LATERAL (SELECT abs(hashtext(v.code)) % 97 AS h) x
				CROSS JOIN LATERAL (SELECT 1 + (x.h + k) % 3 AS a) y
				WHERE v.level = 'village' AND v.parent_code LIKE $1 || '%'`, []any{county, from, step, o.days}},
			{`INSERT INTO rate_counts (county, grain, starts, kind, code, active, qualified, used)
				SELECT county, 'm', date_trunc('month', starts)::date, kind, code, sum(active), sum(qualified), sum(used)
				FROM rate_counts WHERE county = $1 AND grain = 'd' GROUP BY 1, 2, 3, 4, 5`, []any{county}},
			{`INSERT INTO rate_counts (county, grain, starts, kind, code, active, qualified, used)
				SELECT county, 'y', date_trunc('year', starts)::date, kind, code, sum(active), sum(qualified), sum(used)
				FROM rate_counts WHERE county = $1 AND grain = 'd' GROUP BY 1, 2, 3, 4, 5`, []any{county}},
			{`INSERT INTO counter_heartbeats (county, beat_at) VALUES ($1, now())`, []any{county}},
		}
		for _, s := range steps {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				tx.Rollback()
				return fmt.Errorf("county %s: %w\n%s", county, err, s.q)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		if (i+1)%10 == 0 || i+1 == o.counties {
			fmt.Fprintf(os.Stderr, "\rloaded %d/%d counties", i+1, o.counties)
		}
	}
	fmt.Fprintln(os.Stderr)
	for _, q := range []string{`VACUUM ANALYZE rate_counts`, `ANALYZE regions`, `ANALYZE institutions`, `ANALYZE village_populations`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// countyCode is the code of the i-th county (from 0).
func countyCode(i int) string { return fmt.Sprintf("33%02d%02d", 1+i/99, 1+i%99) }

// measure is benchtime.Measure to 10 µs; a failed run ends the command.
func measure(runs int, fn func() error) (median, fastest time.Duration) {
	median, fastest, err := benchtime.Measure(runs, 10*time.Microsecond, fn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "provincebench:", err)
		os.Exit(1)
	}
	return median, fastest
}

// loadAverage is /proc/loadavg's first three figures: the machine is shared.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
