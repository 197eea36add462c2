package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/httpapi/openapitest"
	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// TestDatabaseOutage stops PostgreSQL under a write load: requests fail with
// 503 and a clear body (never 500, never a hang), /readyz goes unready, every
// write acknowledged before the outage is there afterwards, and once
// PostgreSQL is back the same server recovers without a restart.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "healthrec-fault-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755) // the cluster runs as postgres when we are root
	t.Cleanup(func() { os.RemoveAll(dir) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cluster, err := pgcluster.Start(ctx, dir+"/pg", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	if err := cluster.EnsureDatabase(ctx, "fault"); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, cluster.URL("fault"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := pgtest.NewFixture(t, db)
	var logBuf syncBuffer
	srvLog := slog.New(slog.NewTextHandler(&logBuf, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logBuf.String())
		}
	})
	gate, _ := access.NewGate(db, db.Now, srvLog)
	srv := httptest.NewServer(openapitest.Wrap(t, httpapi.New(db, gate, srvLog, httpapi.Config{}).Handler()))
	defer srv.Close()
	e := &env{t: t, db: db, f: f, srv: srv, now: time.Now()}
	doc := e.login(f.DoctorA)

	// A write load from four workers; each remembers what was acknowledged.
	var mu sync.Mutex
	acked := map[string]bool{}
	statuses := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				r := doc.req("POST", "/api/v1/records", map[string]any{"village_code": f.VillageA1, "name": fmt.Sprintf("负载%d-%d", w, i),
					"sex": "M", "birth_date": "1970-01-01"})
				if d := time.Since(start); d > 15*time.Second {
					t.Errorf("a request hung for %s", d)
				}
				mu.Lock()
				statuses[r.Status]++
				if r.Status == 201 {
					acked[r.Body["record_id"].(string)] = true
				} else if r.Status != 503 {
					t.Errorf("status %d during outage: %s", r.Status, r.Raw)
				} else if r.errCode() != "unavailable" {
					t.Errorf("503 without a clear body: %s", r.Raw)
				}
				mu.Unlock()
			}
		}(w)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 20 })
	if err := cluster.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return statuses[503] >= 10 })
	if r := e.anon().req("GET", "/readyz", nil); r.Status != 503 {
		t.Fatalf("readyz during outage: %d", r.Status)
	}
	if err := cluster.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= before+20 })
	close(stop)
	wg.Wait()
	if r := e.anon().req("GET", "/readyz", nil); r.Status != 200 {
		t.Fatalf("readyz after recovery: %d", r.Status)
	}
	// Every acknowledged filing is there, and nothing half-written: the
	// village counter equals the number of records.
	var ids []string
	if err := db.Select(&ids, `SELECT record_id FROM records`); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, id := range ids {
		have[id] = true
	}
	for id := range acked {
		if !have[id] {
			t.Errorf("acknowledged record %s lost", id)
		}
	}
	var last, count, hist int
	_ = db.Get(&last, `SELECT last_serial FROM village_serials WHERE village_code = $1`, f.VillageA1)
	_ = db.Get(&count, `SELECT count(*) FROM records WHERE village_code = $1`, f.VillageA1)
	_ = db.Get(&hist, `SELECT count(DISTINCT record_id) FROM record_history`)
	if last != count || hist != count {
		t.Fatalf("serial counter %d, records %d, records with history %d: a write was half done", last, count, hist)
	}
	t.Logf("statuses %v, %d acknowledged", statuses, len(acked))
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
