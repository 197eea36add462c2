// Command healthrec is the community health-record service: one binary that
// serves the API and web pages, migrates, loads the demo county, imports and
// reports. Every subcommand reads DATABASE_URL; without it they share the
// embedded PostgreSQL cluster in HEALTHREC_DATA (default ./data).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"healthrec/internal/app"
	"healthrec/internal/demo"
	"healthrec/internal/importer"
	"healthrec/internal/postgres"
)

const usage = `usage: healthrec COMMAND [flags]

commands:
  serve [--addr :8080] [--demo]   serve the API and web pages (--demo: load the demo county into an empty database)
  migrate                         apply database migrations as the owner role (DATABASE_OWNER_URL) and grant the app role
  demo [--seed N]                 load the synthetic demo county
  import [--dry-run] [--json] DIR  import the CSV files of DIR (all or nothing)
  report --as-of D --sample all|N --seed N --format csv|json|pdf [--out FILE]
                                  the coverage, quality and usage report
  check-rates [--repair]          check the rates' stored facts and counters against the records (exit 1 on a difference)
  passwd STAFF_CODE               set a password, read from standard input (the password policy applies)
  probe [--url URL]               exit 0 when the server answers /readyz (container health checks)
  backup [--type full|diff]       take a backup of the embedded cluster now (pgBackRest, into HEALTHREC_BACKUP_DIR)
  backup --info [--json]          list the backups; exit 1 when the last good one is older than 2 × HEALTHREC_BACKUP_EVERY
  province publish --county C [--reader NAME] < password
                                  publish a county's counters to its province (a superuser: DATABASE_SUPERUSER_URL or the embedded cluster's)
  province subscribe --county C --conninfo '…'
                                  subscribe a province database to a county's counters
  province status --province PP   each county's data age in a province database (JSON)
  restore --to TIME               restore the embedded cluster to TIME (RFC 3339, or "YYYY-MM-DD HH:MM:SS" local); stop the service first

environment: DATABASE_URL (the app role), DATABASE_OWNER_URL (the owner role, for migrate),
  HEALTHREC_APP_ROLE, HEALTHREC_ALLOW_SUPERUSER=1, HEALTHREC_DATA (default ./data), HEALTHREC_ADMIN_PASSWORD,
  HEALTHREC_TRUSTED_PROXIES (CIDRs of reverse proxies whose X-Forwarded-For is believed; default none),
  HEALTHREC_BACKUP=off, HEALTHREC_BACKUP_DIR (default $HEALTHREC_DATA/backups), HEALTHREC_BACKUP_EVERY (default 24h),
  HEALTHREC_BACKUP_RETAIN (full backups kept, default 2),
  HEALTHREC_PUBLISH_COUNTERS=1 (embedded: wal_level = logical), HEALTHREC_PROVINCE_COUNTIES=N (embedded province: workers), DATABASE_SUPERUSER_URL
`

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1], os.Args[2:], log); err != nil {
		log.Error(os.Args[1]+" failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string, log *slog.Logger) error {
	cfg := app.ConfigFromEnv()
	switch cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		addr := fs.String("addr", envOr("HEALTHREC_ADDR", ":8080"), "listen address")
		withDemo := fs.Bool("demo", false, "load the demo county when the database has no regions")
		seed := fs.Int64("seed", 1, "demo seed")
		fs.Parse(args)
		return withDB(ctx, cfg, log, func(db *app.Database) error {
			if err := db.CheckServingRole(ctx, cfg, log); err != nil {
				return err
			}
			db.Supervise(ctx)
			db.ScheduleBackups(ctx, cfg)
			cfg.Postmaster = db.PostmasterStatus()
			cfg.Collectors = db.Collectors(cfg, log)
			ensureAdmin := app.EnsureAdmin
			if *withDemo {
				ensureAdmin = app.EnsureDemoAdmin // the demo's published password
			}
			if err := ensureAdmin(ctx, db.DB, cfg.AdminPassword, log); err != nil {
				return err
			}
			if *withDemo {
				if err := loadDemo(ctx, db, *seed, true, log); err != nil {
					return err
				}
			}
			return app.Serve(ctx, db.DB, *addr, cfg, log)
		})
	case "migrate":
		return app.Migrate(ctx, cfg, log)
	case "demo":
		fs := flag.NewFlagSet("demo", flag.ExitOnError)
		seed := fs.Int64("seed", 1, "random seed: the same seed loads the same county")
		fs.Parse(args)
		return withDB(ctx, cfg, log, func(db *app.Database) error {
			if err := app.EnsureDemoAdmin(ctx, db.DB, cfg.AdminPassword, log); err != nil {
				return err
			}
			return loadDemo(ctx, db, *seed, false, log)
		})
	case "import":
		return withDB(ctx, cfg, log, func(db *app.Database) error {
			var progress io.Writer
			if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				progress = os.Stderr // a terminal: show the rows checked so far
			}
			// As the tables' owner, an import into an empty county loads
			// in bulk (docs/import.md); without one, the ordinary way.
			var owner *postgres.DB
			if u := db.OwnerURL(cfg); u != "" {
				o, err := postgres.Open(ctx, u)
				if err != nil {
					return err
				}
				defer o.Close()
				owner = o
			}
			return importer.RunImport(ctx, db.DB, owner, args, os.Stdout, progress)
		})
	case "report":
		return withDB(ctx, cfg, log, func(db *app.Database) error {
			return app.RunReport(ctx, db.DB, args, os.Stdout)
		})
	case "check-rates":
		return withDB(ctx, cfg, log, func(db *app.Database) error {
			return app.RunCheckRates(ctx, db.DB, args, os.Stdout)
		})
	case "passwd":
		if len(args) != 1 {
			return fmt.Errorf("usage: healthrec passwd STAFF_CODE < password")
		}
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password from standard input: %w", err)
		}
		return withDB(ctx, cfg, log, func(db *app.Database) error {
			return db.SetPassword(ctx, args[0], strings.TrimRight(line, "\r\n"))
		})
	case "probe":
		fs := flag.NewFlagSet("probe", flag.ExitOnError)
		url := fs.String("url", "http://127.0.0.1"+envOr("HEALTHREC_ADDR", ":8080")+"/readyz", "readiness URL")
		fs.Parse(args)
		return probe(ctx, *url)
	case "backup":
		fs := flag.NewFlagSet("backup", flag.ExitOnError)
		kind := fs.String("type", "full", "full or diff (the files changed since the last full backup)")
		info := fs.Bool("info", false, "list the repository's backups instead of taking one")
		asJSON := fs.Bool("json", false, "with --info: JSON")
		fs.Parse(args)
		if *info {
			return app.BackupInfo(ctx, cfg, *asJSON, os.Stdout)
		}
		if *kind != "full" && *kind != "diff" {
			return fmt.Errorf("--type %q: full or diff", *kind)
		}
		return app.Backup(ctx, cfg, *kind, log)
	case "restore":
		fs := flag.NewFlagSet("restore", flag.ExitOnError)
		to := fs.String("to", "", "the point in time to restore to")
		fs.Parse(args)
		target, err := app.ParseRestoreTarget(*to)
		if err != nil {
			return err
		}
		return app.Restore(ctx, cfg, target, log)
	case "province":
		return app.RunProvince(ctx, cfg, args, os.Stdin, os.Stdout, log)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func withDB(ctx context.Context, cfg app.Config, log *slog.Logger, fn func(*app.Database) error) error {
	db, err := app.OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func loadDemo(ctx context.Context, db *app.Database, seed int64, onlyIfEmpty bool, log *slog.Logger) error {
	if onlyIfEmpty {
		empty, err := demo.Empty(ctx, db.DB)
		if err != nil || !empty {
			return err
		}
	}
	res, err := demo.Load(ctx, db.DB, demo.Options{Seed: seed})
	if err != nil {
		return err
	}
	fmt.Fprint(os.Stderr, res.Summary())
	return nil
}

func probe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
