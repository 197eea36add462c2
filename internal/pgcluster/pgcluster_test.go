package pgcluster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// clusterDir returns a directory for a cluster that the postgres user can
// reach when the tests run as root.
func clusterDir(t *testing.T) string {
	t.Helper()
	if _, err := FindBinaries(); err != nil {
		t.Fatal(err) // make deps installs the server binaries
	}
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "pg")
}

func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	c, err := Start(context.Background(), dir, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func ping(url string) error {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

// authFailed reports whether err is PostgreSQL refusing the login (28P01
// password authentication failed, 28000 no pg_hba entry).
func authFailed(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000")
}

// TestPasswordRequired: every role needs its password, the secrets are 0600
// in the data directory, and pg_hba.conf trusts nobody (issue 15: any local
// account got a superuser session from the port).
func TestPasswordRequired(t *testing.T) {
	c := start(t, clusterDir(t))
	for _, u := range []struct{ name, url string }{{Superuser, c.URL("postgres")}, {Owner, c.OwnerURL("postgres")}, {App, c.AppURL("postgres")}} {
		if err := ping(u.url); err != nil {
			t.Errorf("%s with its password: %v", u.name, err)
		}
		for _, bad := range []string{
			fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", u.name, c.Port),
			fmt.Sprintf("postgres://%s:wrong@127.0.0.1:%d/postgres?sslmode=disable", u.name, c.Port),
		} {
			if err := ping(bad); !authFailed(err) {
				t.Errorf("%s without its password: %v, want an authentication failure", u.name, err)
			}
		}
	}
	checkSecured(t, c)
}

func checkSecured(t *testing.T, c *Cluster) {
	t.Helper()
	st, err := os.Stat(filepath.Join(c.Dir, SecretsFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", SecretsFile, st.Mode().Perm())
	}
	if c.cred != nil && st.Sys().(*syscall.Stat_t).Uid != c.cred.Uid {
		t.Errorf("%s not owned by the cluster's user", SecretsFile)
	}
	if trusts, err := hbaTrusts(c.Dir); err != nil || trusts {
		t.Errorf("pg_hba.conf trusts: %v %v", trusts, err)
	}
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the server's hba rules trust %d lines (%v)", n, err)
	}
	var walSize string
	if err := db.QueryRow(`SHOW max_wal_size`).Scan(&walSize); err != nil || walSize != MaxWALSize {
		t.Errorf("max_wal_size %q (%v), want %s: a county's import would checkpoint every few seconds", walSize, err, MaxWALSize)
	}
	var buffers string
	if err := db.QueryRow(`SELECT setting::bigint * 8 / 1024 || 'MB' FROM pg_settings WHERE name = 'shared_buffers'`).Scan(&buffers); err != nil ||
		buffers != SharedBuffers() {
		t.Errorf("shared_buffers %s (%v), want %s: PostgreSQL's 128 MB holds little of a county", buffers, err, SharedBuffers())
	}
	var super bool
	if err := db.QueryRow(`SELECT bool_or(rolsuper) FROM pg_roles WHERE rolname IN ($1, $2)`, Owner, App).Scan(&super); err != nil || super {
		t.Errorf("owner or app role is a superuser (%v)", err)
	}
}

// TestCollation: a new cluster sorts text byte by byte (no call into the C
// library per comparison, and no upgrade of it reorders an index) and keeps
// C.UTF-8's character classes.
func TestCollation(t *testing.T) {
	c := start(t, clusterDir(t))
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var collate, ctype string
	if err := db.QueryRow(`SELECT datcollate, datctype FROM pg_database WHERE datname = 'postgres'`).Scan(&collate, &ctype); err != nil {
		t.Fatal(err)
	}
	if collate != "C" || ctype != "C.UTF-8" {
		t.Errorf("collation %q, character classes %q, want C and C.UTF-8", collate, ctype)
	}
	// Byte order is code point order: the same as C.UTF-8's, names included.
	var sorted string
	if err := db.QueryRow(`SELECT string_agg(n, ',' ORDER BY n) FROM unnest(ARRAY['赵', '张', 'b', 'A', '李', 'a']) n`).Scan(&sorted); err != nil {
		t.Fatal(err)
	}
	if want := "A,a,b,张,李,赵"; sorted != want {
		t.Errorf("sorted %s, want %s", sorted, want)
	}
	var upper string
	if err := db.QueryRow(`SELECT upper('ä')`).Scan(&upper); err != nil || upper != "Ä" {
		t.Errorf("upper('ä') = %q (%v), want Ä: character classes are C.UTF-8's", upper, err)
	}
}

// TestSecuresTrustCluster: a data directory of an earlier version, initdb'd
// with trust and with tables the bootstrap superuser owns, is secured in
// place on start, and its database handed to the owner role.
func TestSecuresTrustCluster(t *testing.T) {
	dir := clusterDir(t)
	old := &Cluster{Dir: dir, log: testLog(t)}
	var err error
	if old.bin, err = FindBinaries(); err != nil {
		t.Fatal(err) // make deps installs the server binaries
	}
	if os.Geteuid() == 0 {
		if old.cred, err = unprivilegedCredential(); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.prepareDir(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if out, err := old.run(ctx, "initdb", "-D", dir, "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	old.realDir, _ = filepath.EvalSymlinks(dir)
	if err := old.startServer(ctx); err != nil {
		t.Fatal(err)
	}
	port := &old.Port
	trustURL := func(db string) string {
		return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, *port, db)
	}
	sdb, err := sql.Open("postgres", trustURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`CREATE DATABASE healthrec`); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	hdb, err := sql.Open("postgres", trustURL("healthrec"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hdb.Exec(`CREATE TABLE access_log (id bigserial PRIMARY KEY); CREATE VIEW v AS SELECT id FROM access_log;
		CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'`); err != nil {
		t.Fatal(err)
	}
	hdb.Close()
	if err := old.Stop(); err != nil {
		t.Fatal(err)
	}

	c := start(t, dir)
	port = &c.Port
	if err := ping(trustURL("postgres")); !authFailed(err) {
		t.Errorf("the superuser without a password after the upgrade: %v", err)
	}
	checkSecured(t, c)
	if err := c.EnsureDatabase(ctx, "healthrec"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", c.OwnerURL("healthrec"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relowner <> current_user::regrole`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d relations not handed to the owner (%v)", n, err)
	}
	if _, err := db.Exec(`ALTER FUNCTION f() RENAME TO g`); err != nil {
		t.Errorf("the owner does not own the function: %v", err)
	}
	// A second start finds nothing left to do.
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, dir)
	checkSecured(t, c2)
}

// TestStalePidKilled: after kill -9 of the postmaster, a start a moment
// later succeeds (issue 15: it attached to the dead server, then "connection
// refused").
func TestStalePidKilled(t *testing.T) {
	dir := clusterDir(t)
	c := start(t, dir)
	pid := c.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	c2 := start(t, dir)
	if c2.PID() == pid {
		t.Fatalf("attached to the killed postmaster %d", pid)
	}
	if err := ping(c2.URL("postgres")); err != nil {
		t.Fatal(err)
	}
}

// TestStalePidLiveProcess: a postmaster.pid naming a live process that is
// not a postmaster of this directory does not block the start.
func TestStalePidLiveProcess(t *testing.T) {
	dir := clusterDir(t)
	c := start(t, dir)
	pidFile, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	for _, pid := range []int{sleeper.Process.Pid, os.Getpid()} {
		lines := bytes.SplitN(pidFile, []byte("\n"), 2)
		stale := append([]byte(strconv.Itoa(pid)+"\n"), lines[1]...)
		if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), stale, 0o600); err != nil {
			t.Fatal(err)
		}
		c2, err := Start(context.Background(), dir, testLog(t))
		if err != nil {
			t.Fatalf("pid file naming live process %d: %v", pid, err)
		}
		if err := ping(c2.URL("postgres")); err != nil {
			t.Fatal(err)
		}
		if err := c2.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSuperviseRestarts: the supervisor starts a killed postmaster again on
// the same port, and reports it.
func TestSuperviseRestarts(t *testing.T) {
	c := start(t, clusterDir(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Supervise(ctx)
	for round := 1; round <= 2; round++ {
		pid := c.PID()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			st := c.Status()
			if st.State == StateRunning && st.Restarts == round && ping(c.URL("postgres")) == nil {
				break
			}
			if st.State == StateFailed || time.Now().After(deadline) {
				t.Fatalf("round %d: not restarted: %+v", round, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
