package postgres_test

import (
	"context"
	"io/fs"
	"net/url"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"healthrec/internal/postgres/pgtest"
	sqlfiles "healthrec/sql"
)

// oldSchema is a database of its own migrated up to one version, for the
// tests of a data migration: they fill it as an earlier version of the
// service left it, then run the rest.
type oldSchema struct {
	t  *testing.T
	DB *sqlx.DB
	p  *goose.Provider
	// URL is the database's, as the superuser.
	URL string
}

// migratedTo makes the database, named after prefix, and migrates it to
// version — as the superuser: the app role may not create databases.
func migratedTo(t *testing.T, prefix string, version int64) *oldSchema {
	t.Helper()
	u, err := url.Parse(pgtest.SuperuserURL(t, pgtest.NewDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := prefix + "_" + u.Path[1:]
	if _, err := admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE template0`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	u.Path = "/" + name
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // registered last: closed before the drop
	migrations, _ := fs.Sub(sqlfiles.Migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB, migrations, goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return &oldSchema{t: t, DB: db, p: p, URL: u.String()}
}

// must runs a statement or fails the test.
func (s *oldSchema) must(q string, args ...any) {
	s.t.Helper()
	if _, err := s.DB.Exec(q, args...); err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
}

// up runs the remaining migrations.
func (s *oldSchema) up() {
	s.t.Helper()
	if _, err := s.p.Up(context.Background()); err != nil {
		s.t.Fatalf("migrate: %v", err)
	}
}
