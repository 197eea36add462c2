// Package pgtest gives tests a real, freshly migrated PostgreSQL database.
//
// `make test` starts one throwaway cluster for the whole run (cmd/testcluster)
// and passes its superuser's URL in TEST_DATABASE_URL. A plain `go test`
// without it starts a cluster for the package in a temporary directory. Each
// package migrates a template database once; each test gets its own copy of
// it, dropped at the end.
//
// Like the service, the tests run with two roles (docs/access.md): each
// package creates an owner and an app role of its own; the owner migrates,
// and every database handle a test gets connects as the app role, so a
// missing grant fails the tests that need it. Superuser gives the few tests
// that need more a superuser's handle on the same database.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
)

var (
	once      sync.Once
	adminURL  string
	template  string
	ownerRole string
	appRole   string
	ownerPass string
	appPass   string
	setupErr  error
	clusterMu sync.Mutex
	cluster   *pgcluster.Cluster
)

// Main wraps a package's TestMain so that a cluster started for the package is
// stopped when its tests end.
func Main(m *testing.M) {
	code := m.Run()
	if template != "" && setupErr == nil {
		// The roles are the cluster's, not the database's: drop them with
		// the template, for a server that outlives the run.
		if admin, err := sqlx.Open("postgres", adminURL); err == nil {
			_, _ = admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, template))
			_, _ = admin.Exec(fmt.Sprintf(`DROP ROLE IF EXISTS %s`, appRole))
			_, _ = admin.Exec(fmt.Sprintf(`DROP ROLE IF EXISTS %s`, ownerRole))
			admin.Close()
		}
	}
	clusterMu.Lock()
	if cluster != nil {
		_ = cluster.Stop()
		_ = os.RemoveAll(cluster.Dir)
	}
	clusterMu.Unlock()
	os.Exit(code)
}

// NewDB returns an open, migrated database that only this test uses.
func NewDB(t testing.TB) *postgres.DB {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("test database: %v", setupErr)
	}
	name := "t_" + randomHex(8)
	admin, err := sqlx.Open("postgres", adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// A database's own privileges do not come with the template: as
	// grant_app_role does, no temporary tables.
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s OWNER %s TEMPLATE %s`, name, ownerRole, template)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	if _, err := admin.Exec(fmt.Sprintf(`REVOKE TEMPORARY ON DATABASE %s FROM PUBLIC`, name)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	db, err := postgres.Open(context.Background(), withUser(withDB(adminURL, name), appRole, appPass))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if a, err := sqlx.Open("postgres", adminURL); err == nil {
			_, _ = a.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
			a.Close()
		}
	})
	return db
}

// URL returns the app role's connection URL of a fresh migrated database,
// for tests that start a whole server process.
func URL(t testing.TB) string {
	return withUser(withDB(adminURL, dbName(t, NewDB(t))), appRole, appPass)
}

// AppURL returns the app role's connection URL of db's database.
func AppURL(t testing.TB, db *postgres.DB) string {
	return withUser(withDB(adminURL, dbName(t, db)), appRole, appPass)
}

// OwnerURL returns the owner role's connection URL of db's database.
func OwnerURL(t testing.TB, db *postgres.DB) string {
	return withUser(withDB(adminURL, dbName(t, db)), ownerRole, ownerPass)
}

// Owner returns the tables' owner's handle on db's database, closed when
// the test ends, for the tests of what only the owner may do: a bulk load's
// DDL, a temporary table.
func Owner(t testing.TB, db *postgres.DB) *postgres.DB {
	t.Helper()
	owner, err := postgres.Open(context.Background(), OwnerURL(t, db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	return owner
}

// SuperuserURL returns a superuser's connection URL of db's database.
func SuperuserURL(t testing.TB, db *postgres.DB) string {
	return withDB(adminURL, dbName(t, db))
}

// Superuser returns a superuser's handle on db's database, closed when the
// test ends, for the tests that change what the app role may not: the
// schema, the owner of a table, a TRUNCATE.
func Superuser(t testing.TB, db *postgres.DB) *sqlx.DB {
	t.Helper()
	s, err := sqlx.Open("postgres", withDB(adminURL, dbName(t, db)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// AppRole returns the app role the package's databases are served with.
func AppRole() string { return appRole }

func dbName(t testing.TB, db *postgres.DB) string {
	t.Helper()
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	return name
}

func setup() {
	adminURL = os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		dir, err := os.MkdirTemp("", "healthrec-pgtest-")
		if err != nil {
			setupErr = err
			return
		}
		c, err := pgcluster.Start(context.Background(), dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			setupErr = err
			return
		}
		clusterMu.Lock()
		cluster = c
		clusterMu.Unlock()
		adminURL = c.URL("postgres")
	}
	suffix := randomHex(6)
	template = "tmpl_" + suffix
	ownerRole, appRole = "t_owner_"+suffix, "t_app_"+suffix
	ownerPass, appPass = randomHex(16), randomHex(16)
	admin, err := sqlx.Open("postgres", adminURL)
	if err != nil {
		setupErr = err
		return
	}
	defer admin.Close()
	for _, r := range [][2]string{{ownerRole, ownerPass}, {appRole, appPass}} {
		if _, err := admin.Exec(fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, r[0], r[1])); err != nil {
			setupErr = fmt.Errorf("create role: %w", err)
			return
		}
	}
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, template, ownerRole)); err != nil {
		setupErr = fmt.Errorf("create template: %w", err)
		return
	}
	setupErr = postgres.Provision(context.Background(), withUser(withDB(adminURL, template), ownerRole, ownerPass),
		withDB(adminURL, template), appRole)
}

func withUser(raw, user, password string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

func withDB(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
