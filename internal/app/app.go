// Package app wires the service together for the command line: configuration
// from the environment, the database (a given server or the embedded
// cluster), the first admin account, and the HTTP server.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/httpapi"
	"healthrec/internal/notify"
	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
	"healthrec/internal/staff"
)

// Config is read from the environment.
type Config struct {
	DatabaseURL     string // DATABASE_URL (the app role); empty means the embedded cluster
	OwnerURL        string // DATABASE_OWNER_URL: the owner role, for migrations
	AppRole         string // HEALTHREC_APP_ROLE: the role migrate grants to (default: DATABASE_URL's user)
	AllowSuperuser  bool   // HEALTHREC_ALLOW_SUPERUSER=1: serve even as a superuser or the tables' owner
	DataDir         string // HEALTHREC_DATA, default ./data
	AdminPassword   string // HEALTHREC_ADMIN_PASSWORD
	InsecureCookies bool   // HEALTHREC_INSECURE_COOKIES=1
	// SMS gateway (docs/review.md): messages are POSTed to SMSURL with the
	// bearer token SMSToken. Empty: inbox only.
	SMSURL   string // HEALTHREC_SMS_URL
	SMSToken string // HEALTHREC_SMS_TOKEN (or _FILE)
	// TrustedProxies: HEALTHREC_TRUSTED_PROXIES, comma-separated addresses
	// or CIDRs of reverse proxies; empty trusts none.
	TrustedProxies []string
	// Backup: HEALTHREC_BACKUP, _DIR, _EVERY, _RETAIN (backup.go);
	// BackupErr is a setting that did not parse.
	Backup    BackupConfig
	BackupErr error
	// Postmaster reports the supervised embedded cluster to the probes;
	// set from Database.PostmasterStatus.
	Postmaster func() httpapi.PostmasterStatus
	// Collectors are the operations gauges of /metrics (metrics.go).
	Collectors []prometheus.Collector
	// ReplicaURL is DATABASE_REPLICA_URL: a streaming replica (the app
	// role) for the reads that tolerate lag (docs/operations.md).
	ReplicaURL string
	// Province: HEALTHREC_PUBLISH_COUNTERS, HEALTHREC_PROVINCE_COUNTIES,
	// DATABASE_SUPERUSER_URL (province.go).
	Province ProvinceConfig
}

// ConfigFromEnv reads the configuration. Secrets may come from a file named
// by the variable with a _FILE suffix.
func ConfigFromEnv() Config {
	c := Config{
		DatabaseURL:     env("DATABASE_URL"),
		OwnerURL:        env("DATABASE_OWNER_URL"),
		ReplicaURL:      env("DATABASE_REPLICA_URL"),
		AppRole:         os.Getenv("HEALTHREC_APP_ROLE"),
		AllowSuperuser:  os.Getenv("HEALTHREC_ALLOW_SUPERUSER") == "1",
		DataDir:         env("HEALTHREC_DATA"),
		AdminPassword:   env("HEALTHREC_ADMIN_PASSWORD"),
		InsecureCookies: os.Getenv("HEALTHREC_INSECURE_COOKIES") == "1",
		SMSURL:          env("HEALTHREC_SMS_URL"),
		SMSToken:        env("HEALTHREC_SMS_TOKEN"),
	}
	for _, p := range strings.Split(os.Getenv("HEALTHREC_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	c.Backup, c.BackupErr = backupConfigFromEnv(c.DataDir)
	c.Province = provinceConfigFromEnv()
	return c
}

func env(name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	if f := os.Getenv(name + "_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			return string(trimNewline(b))
		}
	}
	return ""
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Database is an open, migrated database, connected as the app role, and
// what it runs on.
type Database struct {
	*postgres.DB
	cluster *pgcluster.Cluster
}

// OwnerURL is the tables' owner's URL: DATABASE_OWNER_URL, or the embedded
// cluster's owner; "" when neither is known.
func (d *Database) OwnerURL(cfg Config) string {
	if cfg.OwnerURL != "" || d.cluster == nil {
		return cfg.OwnerURL
	}
	return d.cluster.OwnerURL("healthrec")
}

// Close closes the connections and stops an embedded cluster.
func (d *Database) Close() error {
	err := d.DB.Close()
	return errors.Join(err, d.cluster.Stop())
}

// Supervise watches the embedded cluster's postmaster and restarts it when
// it dies (pgcluster.Supervise); with DATABASE_URL there is nothing to watch.
func (d *Database) Supervise(ctx context.Context) {
	if d.cluster != nil {
		d.cluster.Supervise(ctx)
	}
}

// PostmasterStatus returns the embedded cluster's supervisor state for the
// probes, or nil with DATABASE_URL.
func (d *Database) PostmasterStatus() func() httpapi.PostmasterStatus {
	if d.cluster == nil {
		return nil
	}
	return func() httpapi.PostmasterStatus {
		st := d.cluster.Status()
		return httpapi.PostmasterStatus{State: st.State, Restarts: st.Restarts, LastError: st.LastError, Since: st.Since}
	}
}

// CheckServingRole refuses to serve as a superuser or as the tables' owner,
// unless HEALTHREC_ALLOW_SUPERUSER=1 says so.
func (d *Database) CheckServingRole(ctx context.Context, cfg Config, log *slog.Logger) error {
	err := d.DB.CheckServingRole(ctx)
	if errors.Is(err, postgres.ErrPrivilegedRole) {
		if cfg.AllowSuperuser {
			log.Warn("serving with a privileged database role because HEALTHREC_ALLOW_SUPERUSER=1: it can erase the access log", "reason", err)
			return nil
		}
		return fmt.Errorf("%w. Serve as the app role, which owns nothing and may only append to the audit tables "+
			"(sql/roles.sql, docs/access.md), or set HEALTHREC_ALLOW_SUPERUSER=1 to accept the risk", err)
	}
	return err
}

// OpenDatabase connects as the app role and makes sure the schema is
// current. Without DATABASE_URL it starts the embedded cluster in the data
// directory, migrates as its owner role and connects as its app role. With
// DATABASE_URL it migrates first when DATABASE_OWNER_URL is given; without,
// a DATABASE_URL role that owns the schema (a single-role set-up of earlier
// versions) migrates itself, and any other must find the schema current.
func OpenDatabase(ctx context.Context, cfg Config, log *slog.Logger) (*Database, error) {
	if cfg.DatabaseURL == "" {
		return openEmbedded(ctx, cfg, log)
	}
	if cfg.OwnerURL != "" {
		if err := migrateExternal(ctx, cfg, log); err != nil {
			return nil, err
		}
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.SchemaCurrent(ctx); err != nil {
		if cfg.OwnerURL != "" || !errors.Is(db.CheckServingRole(ctx), postgres.ErrPrivilegedRole) {
			db.Close()
			return nil, err
		}
		log.Warn("migrating with DATABASE_URL's role, which owns the schema; set up the two roles of docs/access.md")
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &Database{DB: db}, nil
}

func openEmbedded(ctx context.Context, cfg Config, log *slog.Logger) (*Database, error) {
	if cfg.BackupErr != nil {
		return nil, cfg.BackupErr
	}
	cluster, err := pgcluster.StartWith(ctx, cfg.DataDir+"/postgres", log, cfg.clusterOptions())
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Database, error) {
		cluster.Stop()
		return nil, err
	}
	if err := cluster.EnsureDatabase(ctx, "healthrec"); err != nil {
		return fail(err)
	}
	if err := postgres.Provision(ctx, cluster.OwnerURL("healthrec"), cluster.URL("healthrec"), pgcluster.App); err != nil {
		return fail(err)
	}
	db, err := postgres.Open(ctx, cluster.AppURL("healthrec"))
	if err != nil {
		return fail(err)
	}
	return &Database{DB: db, cluster: cluster}, nil
}

// Migrate applies the migrations as the owner role and grants the app role
// its privileges: `healthrec migrate`. With DATABASE_URL the owner is
// DATABASE_OWNER_URL (or, for a single-role set-up, DATABASE_URL itself).
func Migrate(ctx context.Context, cfg Config, log *slog.Logger) error {
	if cfg.DatabaseURL == "" && cfg.OwnerURL == "" {
		db, err := openEmbedded(ctx, cfg, log)
		if err != nil {
			return err
		}
		log.Info("migrations applied", "app_role", pgcluster.App)
		reportUnmapped(ctx, db.DB, log)
		return db.Close()
	}
	return migrateExternal(ctx, cfg, log)
}

// reportUnmapped logs what migration 00024 could not carry from the old
// free-form details into the basic information table (kept, never dropped).
func reportUnmapped(ctx context.Context, db *postgres.DB, log *slog.Logger) {
	s, err := db.UnmappedSummary(ctx)
	switch {
	case err != nil:
		log.Warn("count the unmapped details", "err", err)
	case s != "":
		log.Warn(s)
	}
}

func migrateExternal(ctx context.Context, cfg Config, log *slog.Logger) error {
	ownerURL, appRole := cfg.OwnerURL, cfg.AppRole
	if ownerURL == "" {
		ownerURL = cfg.DatabaseURL
	} else if appRole == "" && cfg.DatabaseURL != "" {
		u, err := url.Parse(cfg.DatabaseURL)
		if err != nil {
			return fmt.Errorf("DATABASE_URL: %w", err)
		}
		appRole = u.User.Username()
	}
	if appRole == "" {
		log.Warn("no app role to grant: set DATABASE_URL (the app role's URL) or HEALTHREC_APP_ROLE along with DATABASE_OWNER_URL")
	}
	if err := postgres.Provision(ctx, ownerURL, "", appRole); err != nil {
		return err
	}
	log.Info("migrations applied", "app_role", appRole)
	if db, err := postgres.Open(ctx, ownerURL); err == nil {
		reportUnmapped(ctx, db, log)
		db.Close()
	}
	return nil
}

// EnsureAdmin creates the first admin account ("admin") when there is none,
// with HEALTHREC_ADMIN_PASSWORD, which must pass the password policy, or a
// random password printed once to the log.
func EnsureAdmin(ctx context.Context, db *postgres.DB, password string, log *slog.Logger) error {
	return ensureAdmin(ctx, db, password, false, log)
}

// EnsureDemoAdmin is EnsureAdmin for the demo county (serve --demo,
// healthrec demo): the password need not pass the policy, since make run
// gives the admin the demo accounts' published password.
func EnsureDemoAdmin(ctx context.Context, db *postgres.DB, password string, log *slog.Logger) error {
	return ensureAdmin(ctx, db, password, true, log)
}

func ensureAdmin(ctx context.Context, db *postgres.DB, password string, demo bool, log *slog.Logger) error {
	ok, err := db.HasAdmin(ctx)
	if err != nil || ok {
		return err
	}
	generated := password == ""
	if generated {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	admin := &staff.Staff{Code: "admin", Name: "系统管理员", Grants: []staff.Grant{{Role: staff.Admin, Domain: staff.SystemDomain}}}
	create := db.CreateStaff
	if demo {
		create = db.CreateDemoStaff
	}
	if err := create(ctx, admin, password); err != nil {
		if e, ok := apperr.As(err); ok && len(e.Fields) == 1 && e.Fields[0].Field == "password" {
			return fmt.Errorf("HEALTHREC_ADMIN_PASSWORD refused: %s (docs/access.md, the password policy)", e.Fields[0].Reason)
		}
		return fmt.Errorf("create admin: %w", err)
	}
	if generated {
		log.Warn("created the first admin account; this password is shown only once", "staff_code", "admin", "password", password)
	} else {
		log.Info("created the first admin account from HEALTHREC_ADMIN_PASSWORD", "staff_code", "admin")
	}
	return nil
}

// Serve runs the HTTP server until ctx is cancelled, then shuts down
// gracefully.
func Serve(ctx context.Context, db *postgres.DB, addr string, cfg Config, log *slog.Logger) error {
	TuneGC()
	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		return err
	}
	hcfg := httpapi.Config{InsecureCookies: cfg.InsecureCookies, TrustedProxies: cfg.TrustedProxies, Postmaster: cfg.Postmaster, Collectors: cfg.Collectors}
	if cfg.ReplicaURL != "" {
		replica, err := postgres.Open(ctx, cfg.ReplicaURL)
		if err != nil {
			return fmt.Errorf("DATABASE_REPLICA_URL: %w", err)
		}
		defer replica.Close()
		hcfg.Replica = replica
		log.Info("reports, drill-downs and work lists read the replica", "replica", redact(cfg.ReplicaURL))
	}
	if err := hcfg.Validate(); err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           httpapi.New(db, gate, log, hcfg).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	if cfg.SMSURL != "" {
		db.SMS = true
		go RunDeliveries(ctx, db, &notify.Gateway{URL: cfg.SMSURL, Token: cfg.SMSToken}, log, DeliveryInterval)
	}
	go RunReminders(ctx, db, log, ReminderInterval)
	go RunRateFolds(ctx, db, log, FoldInterval)
	log.Info("serving", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// redact drops the password from a connection URL for the log.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return "(unparsed)"
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// TuneGC lets the heap grow to five times what is live between collections
// (GOGC=400) unless GOGC is set. The server's live heap is a few tens of
// megabytes, so the memory is cheap, and collecting a quarter as often took
// the record page from about 1,100 to 1,200 requests a second with a lower
// p99 on two cores (docs/benchmarks.md).
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
