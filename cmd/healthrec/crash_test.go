package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestKill9LosesNoAcknowledgedWrite runs the real binary, files records from
// several clients, kills the server with SIGKILL in the middle, and checks
// that every filing answered 201 is in the database; a new server then serves
// the same database.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dbURL := pgtest.URL(t)
	db, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := pgtest.NewFixture(t, db)

	start := func() (*exec.Cmd, string) {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--addr", addr)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "HEALTHREC_ADMIN_PASSWORD=admin-pass-1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := "http://" + addr
		deadline := time.Now().Add(30 * time.Second)
		for {
			if resp, err := http.Get(base + "/readyz"); err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				return cmd, base
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("server did not become ready")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	cmd, base := start()
	token := login(t, base, f.DoctorA)

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				body, _ := json.Marshal(map[string]any{"village_code": f.VillageA1, "name": fmt.Sprintf("崩溃%d-%d", w, i), "sex": "F", "birth_date": "1980-02-02"})
				req, _ := http.NewRequest("POST", base+"/api/v1/records", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server is gone
				}
				var out struct {
					RecordID string `json:"record_id"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if resp.StatusCode == 201 {
					mu.Lock()
					acked = append(acked, out.RecordID)
					n := len(acked)
					mu.Unlock()
					if n == 40 {
						_ = cmd.Process.Signal(syscall.SIGKILL)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	_ = cmd.Wait()
	if len(acked) < 40 {
		t.Fatalf("only %d filings acknowledged before the kill", len(acked))
	}
	for _, id := range acked {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM records WHERE record_id = $1`, id); err != nil || n != 1 {
			t.Errorf("acknowledged record %s missing after kill -9", id)
		}
	}
	var last, count int
	_ = db.Get(&last, `SELECT last_serial FROM village_serials WHERE village_code = $1`, f.VillageA1)
	_ = db.Get(&count, `SELECT count(*) FROM records WHERE village_code = $1`, f.VillageA1)
	if last != count {
		t.Fatalf("counter %d, records %d: a filing was half written", last, count)
	}
	cmd2, base2 := start()
	defer func() { cmd2.Process.Kill(); cmd2.Wait() }()
	if login(t, base2, f.DoctorA) == "" {
		t.Fatal("restarted server does not log in")
	}
}

func login(t *testing.T, base, code string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"staff_code": code, "password": pgtest.Password})
	resp, err := http.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.Token
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestPostmasterKill9Recovers runs the real binary on its embedded cluster,
// kills the postmaster with SIGKILL under a write load, and checks that the
// service starts it again by itself (no restart of the service), reports
// the restart in /healthz, and lost no acknowledged filing. Then both the
// server and PostgreSQL are killed, and a server started a second later
// comes up on the same data directory (the stale postmaster.pid of issue 15).
func TestPostmasterKill9Recovers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, data := buildBinary(t), dataDir(t, "healthrec-supervise-")
	pgDir := filepath.Join(data, "postgres")

	var servers []*exec.Cmd
	t.Cleanup(func() {
		for _, s := range servers {
			if s.ProcessState == nil {
				_ = s.Process.Signal(syscall.SIGTERM)
				_ = s.Wait()
			}
		}
	})
	start := func() string {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--addr", addr)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "DATABASE_OWNER_URL=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "HEALTHREC_DATA="+data, "HEALTHREC_ADMIN_PASSWORD=admin-pass-1")
		var logBuf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		servers = append(servers, cmd)
		base := "http://" + addr
		deadline := time.Now().Add(120 * time.Second)
		for {
			if resp, err := http.Get(base + "/readyz"); err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				return base
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("server did not become ready:\n%s", logBuf.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The fixture goes in first, as the service would set the cluster up.
	f := clusterWithFixture(t, pgDir, pgcluster.Options{})
	base := start()

	// The test reaches the embedded cluster as the service does: the app
	// role, with its password from the secrets file.
	appDB := func() *postgres.DB {
		var s struct{ App string }
		b, err := os.ReadFile(filepath.Join(pgDir, "healthrec-secrets.json"))
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(b, &s)
		pid, err := os.ReadFile(filepath.Join(pgDir, "postmaster.pid"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(pid), "\n")
		db, err := postgres.Open(context.Background(), fmt.Sprintf("postgres://healthrec_app:%s@127.0.0.1:%s/healthrec?sslmode=disable", s.App, strings.TrimSpace(lines[3])))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	postmaster := func() int {
		b, err := os.ReadFile(filepath.Join(pgDir, "postmaster.pid"))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
		return pid
	}
	token := login(t, base, f.DoctorA)

	var mu sync.Mutex
	var acked []string
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
				body, _ := json.Marshal(map[string]any{"village_code": f.VillageA1, "name": fmt.Sprintf("监护%d-%d", w, i), "sex": "F", "birth_date": "1980-02-02"})
				req, _ := http.NewRequest("POST", base+"/api/v1/records", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("the server itself must stay up: %v", err)
					return
				}
				var out struct {
					RecordID string `json:"record_id"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				if resp.StatusCode == 201 {
					acked = append(acked, out.RecordID)
				} else if resp.StatusCode != 503 {
					t.Errorf("status %d while PostgreSQL restarts", resp.StatusCode)
				}
				mu.Unlock()
				if resp.StatusCode == 503 {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitUntil := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitUntil("40 filings", 60*time.Second, func() bool { return count() >= 40 })
	killed := postmaster()
	if err := syscall.Kill(killed, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	before := count()
	waitUntil("filings after the restart", 120*time.Second, func() bool { return count() >= before+40 })
	close(stop)
	wg.Wait()
	if postmaster() == killed {
		t.Fatal("the postmaster was not replaced")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status     string
		Postmaster struct {
			State    string
			Restarts int
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health.Postmaster.State != "running" || health.Postmaster.Restarts != 1 {
		t.Fatalf("healthz after the restart: %d %+v", resp.StatusCode, health)
	}
	t.Logf("statuses during the test: %v", statuses)

	// Both die; the next server starts a second later.
	pm := postmaster()
	last := servers[len(servers)-1]
	_ = last.Process.Signal(syscall.SIGKILL)
	_ = last.Wait()
	_ = syscall.Kill(pm, syscall.SIGKILL)
	time.Sleep(time.Second)
	base = start()
	if login(t, base, f.DoctorA) == "" {
		t.Fatal("the server started after both died does not log in")
	}
	db := appDB()
	defer db.Close()
	for _, id := range acked {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM records WHERE record_id = $1`, id); err != nil || n != 1 {
			t.Errorf("acknowledged record %s missing after kill -9 of the postmaster", id)
		}
	}
}

// clusterWithFixture sets up the embedded cluster in pgDir as the service
// would (database, owner and app role, migrations), puts the test fixture in
// as the app role, and stops the cluster for the server under test to start.
func clusterWithFixture(t *testing.T, pgDir string, opts pgcluster.Options) *pgtest.Fixture {
	t.Helper()
	ctx := context.Background()
	c, err := pgcluster.StartWith(ctx, pgDir, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureDatabase(ctx, "healthrec"); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Provision(ctx, c.OwnerURL("healthrec"), c.URL("healthrec"), pgcluster.App); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, c.AppURL("healthrec"))
	if err != nil {
		t.Fatal(err)
	}
	f := pgtest.NewFixture(t, db)
	db.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	return f
}

// buildBinary builds the healthrec command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "healthrec")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// dataDir makes a data directory, removed when the test ends, that the
// cluster's user can enter: the cluster runs as postgres when we are root.
func dataDir(t *testing.T, prefix string) string {
	t.Helper()
	data, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(data, 0o755)
	t.Cleanup(func() { os.RemoveAll(data) })
	return data
}
