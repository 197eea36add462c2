package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

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
	bin := filepath.Join(t.TempDir(), "healthrec")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
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
