package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/httpapi/openapitest"
	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// TestReportsReadTheReplica runs a primary and a real streaming standby.
// With the standby as the replica, the rates report is read from it and
// says how current it is; while the standby's replay is paused, a new
// filing is not in the report, whose as-of time stays before the filing,
// and the record itself (a read for care) is read from the primary. When
// the replica is gone, the report falls back to the primary.
func TestReportsReadTheReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two clusters")
	}
	if _, err := pgcluster.FindBinaries(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	root, err := os.MkdirTemp("", "healthrec-replica-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(root, 0o755) // the clusters run as postgres when we are root
	t.Cleanup(func() { os.RemoveAll(root) })
	primary, err := pgcluster.Start(ctx, filepath.Join(root, "primary"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = primary.Stop() })
	if err := primary.EnsureDatabase(ctx, "healthrec"); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Provision(ctx, primary.OwnerURL("healthrec"), primary.URL("healthrec"), pgcluster.App); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, primary.AppURL("healthrec"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := pgtest.NewFixture(t, db)

	standby, err := pgcluster.StartStandby(ctx, primary, filepath.Join(root, "standby"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = standby.Stop() })
	replica, err := postgres.Open(ctx, standby.AppURL("healthrec"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { replica.Close() })
	standbySU, err := sql.Open("postgres", standby.URL("healthrec"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standbySU.Close() })

	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(openapitest.Wrap(t, httpapi.New(db, gate, log, httpapi.Config{Replica: replica}).Handler()))
	t.Cleanup(srv.Close)
	e := &env{t: t, db: db, f: f, srv: srv, now: time.Now()}
	doctor, bureau := e.login(f.DoctorA), e.login(f.Bureau)

	filed := func() int {
		t.Helper()
		var n int
		report := bureau.req("GET", "/api/v1/reports/rates?seed=1", nil)
		if report.Status != 200 {
			t.Fatalf("report: %d %s", report.Status, report.Raw)
		}
		var r struct {
			Rows []struct {
				Level, ScopeCode, Indicator string `json:"-"`
				L                           string `json:"level"`
				I                           string `json:"indicator"`
				Numerator                   int    `json:"numerator"`
			} `json:"rows"`
		}
		_ = json.Unmarshal(report.Raw, &r)
		for _, row := range r.Rows {
			if row.L == "county" && row.I == "coverage" {
				n = row.Numerator
			}
		}
		return n
	}
	file := func(name string) string {
		t.Helper()
		r := doctor.req("POST", "/api/v1/records", map[string]any{"village_code": f.VillageA1, "name": name, "sex": "F", "birth_date": "1980-02-02"})
		if r.Status != 201 {
			t.Fatalf("filing: %d %s", r.Status, r.Raw)
		}
		return r.Body["record_id"].(string)
	}

	file("副本甲")
	var want int
	if err := db.Get(&want, `SELECT count(*) FROM records`); err != nil {
		t.Fatal(err)
	}
	// The standby catches up within moments. Until it has replayed a
	// transaction it cannot tell how current it is, and the primary answers.
	deadline := time.Now().Add(60 * time.Second)
	for {
		src := bureau.req("GET", "/api/v1/reports/rates?seed=1", nil).Header.Get(httpapi.HeaderDataSource)
		if src == "replica" && filed() == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica's report never showed the filing: %d, want %d (source %s)", filed(), want, src)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := bureau.req("GET", "/api/v1/reports/rates?seed=1", nil)
	asOf, err := time.Parse(time.RFC3339Nano, r.Header.Get(httpapi.HeaderDataAsOf))
	if err != nil || r.Header.Get(httpapi.HeaderDataSource) != "replica" {
		t.Fatalf("report headers: %v %v", r.Header, err)
	}
	if time.Since(asOf) > 10*time.Second {
		t.Fatalf("a caught-up replica says its data is from %s", asOf)
	}

	// Replay paused: the replica falls behind.
	if _, err := standbySU.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	before := filed()
	filedAt := time.Now()
	time.Sleep(100 * time.Millisecond)
	id := file("副本乙")
	time.Sleep(500 * time.Millisecond)
	r = bureau.req("GET", "/api/v1/reports/rates?seed=1", nil)
	asOf, _ = time.Parse(time.RFC3339Nano, r.Header.Get(httpapi.HeaderDataAsOf))
	if got := filed(); got != before || !asOf.Before(filedAt) || r.Header.Get(httpapi.HeaderDataSource) != "replica" {
		t.Fatalf("paused replica: filed %d (before %d), as of %s (filing at %s), source %q", got, before, asOf, filedAt, r.Header.Get(httpapi.HeaderDataSource))
	}
	// The record itself, read for care, comes from the primary.
	if rec := doctor.req("GET", "/api/v1/records/"+id, nil); rec.Status != 200 {
		t.Fatalf("the new record read for care: %d", rec.Status)
	}
	if _, err := standbySU.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}

	// The drill-down and the follow-up work list read the replica too.
	for _, c := range []struct {
		who  *client
		path string
	}{{bureau, "/api/v1/reports/rates/records?level=county&scope_code=" + f.County + "&indicator=quality&seed=1"}, {doctor, "/api/v1/followups/due"}} {
		if r := c.who.req("GET", c.path, nil); r.Status != 200 || r.Header.Get(httpapi.HeaderDataSource) != "replica" || r.Header.Get(httpapi.HeaderDataAsOf) == "" {
			t.Errorf("%s: %d, source %q, as of %q", c.path, r.Status, r.Header.Get(httpapi.HeaderDataSource), r.Header.Get(httpapi.HeaderDataAsOf))
		}
	}

	checkTrendsAndExportsReadTheReplica(t, bureau, standbySU, f.County)

	// The replica gone: the report reads the primary and says so.
	if err := standby.Kill(); err != nil {
		t.Fatal(err)
	}
	r = bureau.req("GET", "/api/v1/reports/rates?seed=1", nil)
	if r.Status != 200 || r.Header.Get(httpapi.HeaderDataSource) != "primary" {
		t.Fatalf("report with the replica down: %d, source %q", r.Status, r.Header.Get(httpapi.HeaderDataSource))
	}
	if got := filed(); got != want+1 {
		t.Fatalf("the primary's report: filed %d, want %d", got, want+1)
	}
}
