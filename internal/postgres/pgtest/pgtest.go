// Package pgtest gives tests a real, freshly migrated PostgreSQL database.
//
// `make test` starts one throwaway cluster for the whole run (cmd/testcluster)
// and passes its URL in TEST_DATABASE_URL. A plain `go test` without it starts
// a cluster for the package in a temporary directory. Each package migrates a
// template database once; each test gets its own copy of it, dropped at the end.
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
	setupErr  error
	clusterMu sync.Mutex
	cluster   *pgcluster.Cluster
)

// Main wraps a package's TestMain so that a cluster started for the package is
// stopped when its tests end.
func Main(m *testing.M) {
	code := m.Run()
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
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	db, err := postgres.Open(context.Background(), withDB(adminURL, name))
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

// URL returns the connection URL of a fresh migrated database, for tests that
// start a whole server process.
func URL(t testing.TB) string {
	db := NewDB(t)
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	return withDB(adminURL, name)
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
	template = "tmpl_" + randomHex(8)
	admin, err := sqlx.Open("postgres", adminURL)
	if err != nil {
		setupErr = err
		return
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + template); err != nil {
		setupErr = fmt.Errorf("create template: %w", err)
		return
	}
	db, err := postgres.Open(context.Background(), withDB(adminURL, template))
	if err != nil {
		setupErr = err
		return
	}
	defer db.Close()
	setupErr = db.Migrate(context.Background())
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
