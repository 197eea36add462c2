package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
)

// ProvinceConfig is a database's part in a province (docs/operations.md,
// "A province over its counties").
type ProvinceConfig struct {
	// Publish (HEALTHREC_PUBLISH_COUNTERS=1) runs the embedded cluster with
	// wal_level = logical, so that the county can publish its counters.
	Publish bool
	// Counties (HEALTHREC_PROVINCE_COUNTIES=N) sizes the embedded cluster of
	// a province database for N subscriptions: one apply worker each, and
	// room for the first copies.
	Counties int
	// SuperuserURL (DATABASE_SUPERUSER_URL) is a superuser of a server of
	// your own, for `healthrec province publish|subscribe`; the embedded
	// cluster's is used without it.
	SuperuserURL string
	Err          error
}

func provinceConfigFromEnv() ProvinceConfig {
	p := ProvinceConfig{Publish: os.Getenv("HEALTHREC_PUBLISH_COUNTERS") == "1", SuperuserURL: env("DATABASE_SUPERUSER_URL")}
	if v := os.Getenv("HEALTHREC_PROVINCE_COUNTIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			p.Err = fmt.Errorf("HEALTHREC_PROVINCE_COUNTIES=%q: the number of counties, 1–1000", v)
		}
		p.Counties = n
	}
	return p
}

// clusterOptions adds the province settings to the embedded cluster's.
func (c Config) clusterOptions() pgcluster.Options {
	o := c.Backup.options()
	o.Logical = c.Province.Publish
	if n := c.Province.Counties; n > 0 {
		o.Settings = append(o.Settings,
			fmt.Sprintf("max_logical_replication_workers = %d", n+4),
			fmt.Sprintf("max_worker_processes = %d", n+12),
			"max_sync_workers_per_subscription = 2")
	}
	return o
}

// superuser opens a superuser connection: DATABASE_SUPERUSER_URL, or the
// embedded cluster's bootstrap superuser.
func (d *Database) superuser(cfg Config) (*sql.DB, error) {
	url := cfg.Province.SuperuserURL
	if url == "" {
		if d.cluster == nil {
			return nil, errors.New("DATABASE_SUPERUSER_URL is needed with DATABASE_URL: publications and subscriptions are made by a superuser")
		}
		url = d.cluster.URL("healthrec")
	}
	return sql.Open("postgres", url)
}

// RunProvince is `healthrec province publish|subscribe|status`.
func RunProvince(ctx context.Context, cfg Config, args []string, stdin io.Reader, out io.Writer, log *slog.Logger) error {
	if cfg.Province.Err != nil {
		return cfg.Province.Err
	}
	if len(args) == 0 {
		return errors.New("usage: healthrec province publish|subscribe|status [flags]")
	}
	fs := flag.NewFlagSet("province "+args[0], flag.ContinueOnError)
	county := fs.String("county", "", "the county's code (6 digits)")
	reader := fs.String("reader", "healthrec_province", "publish: the replication role the province connects as")
	conninfo := fs.String("conninfo", "", "subscribe: how the province reaches the county's database, as the reader role")
	province := fs.String("province", "", "status: the province's code (2 digits)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	db, err := OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "publish", "subscribe":
		su, err := db.superuser(cfg)
		if err != nil {
			return err
		}
		defer su.Close()
		if args[0] == "subscribe" {
			if *conninfo == "" {
				return errors.New("province subscribe: --conninfo is required")
			}
			return postgres.SubscribeCounty(ctx, su, *county, *conninfo)
		}
		// The reader's password comes on standard input, never on the
		// command line.
		b, err := io.ReadAll(io.LimitReader(stdin, 1024))
		if err != nil {
			return err
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if len(pw) < 16 {
			return errors.New("province publish: give the reader's password (16 characters or more) on standard input")
		}
		if err := postgres.PublishCounters(ctx, su, *county, *reader, pw); err != nil {
			return err
		}
		fmt.Fprintf(out, "county %s publishes %s; subscribe the province with --conninfo 'host=… dbname=… user=%s password=…'\n",
			*county, postgres.PublicationName(*county), *reader)
		return nil
	case "status":
		feeds, err := db.CountyFeeds(ctx, *province, 0)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(feeds)
	}
	return fmt.Errorf("province %s: publish, subscribe or status", args[0])
}
