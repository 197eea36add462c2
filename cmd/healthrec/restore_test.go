package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
)

// TestRestoreDrill is the restore drill of docs/operations.md, with the
// real binary on its embedded cluster: the service takes its first backup
// by itself, records are filed, the time is noted, more are filed, and a
// backup is taken while it serves. After `healthrec restore --to` the noted
// time, every filing acknowledged before it is there with its access-log
// rows, and none after it.
func TestRestoreDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if _, err := exec.LookPath("pgbackrest"); err != nil {
		t.Fatal("pgbackrest is not installed (make deps installs it): the restore drill cannot run")
	}
	bin, data := buildBinary(t), dataDir(t, "healthrec-restore-")
	pgDir, repo := filepath.Join(data, "postgres"), filepath.Join(data, "backups")
	env := []string{"HEALTHREC_DATA=" + data, "HEALTHREC_ADMIN_PASSWORD=admin-pass-1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "DATABASE_OWNER_URL=") && !strings.HasPrefix(kv, "HEALTHREC_BACKUP") {
			env = append(env, kv)
		}
	}
	healthrec := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("healthrec %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	var server *exec.Cmd
	var logBuf bytes.Buffer
	serve := func() string {
		addr := freeAddr(t)
		server = exec.Command(bin, "serve", "--addr", addr)
		server.Env = env
		logBuf.Reset()
		server.Stdout, server.Stderr = &logBuf, &logBuf
		if err := server.Start(); err != nil {
			t.Fatal(err)
		}
		base := "http://" + addr
		deadline := time.Now().Add(120 * time.Second)
		for {
			if resp, err := http.Get(base + "/readyz"); err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				return base
			}
			if time.Now().After(deadline) {
				server.Process.Kill()
				t.Fatalf("server did not become ready:\n%s", logBuf.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	stop := func() {
		_ = server.Process.Signal(syscall.SIGTERM)
		_ = server.Wait()
	}
	t.Cleanup(func() {
		if server != nil && server.ProcessState == nil {
			stop()
		}
	})

	ctx := context.Background()
	f := clusterWithFixture(t, pgDir, pgcluster.Options{BackupRepo: repo})

	base := serve()
	// The service's schedule takes the first backup by itself.
	var first *pgcluster.BackupSet
	for deadline := time.Now().Add(90 * time.Second); ; {
		if info, err := pgcluster.Info(ctx, repo); err == nil && info.LastGood() != nil {
			first = info.LastGood()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service took no backup:\n%s", logBuf.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// pgBackRest keeps a backup's end in whole seconds; the drill's time
	// comes after it.
	time.Sleep(time.Until(first.Stop.Add(1100 * time.Millisecond)))

	// /metrics shows the backup's age and the archiver's work.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"healthrec_backup_last_good_age_seconds ", "healthrec_backups 1", "healthrec_db_primary 1", "healthrec_wal_archived_total "} {
		if !strings.Contains(string(metrics), "\n"+m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}

	token := login(t, base, f.DoctorA)
	file := func(name string) string {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"village_code": f.VillageA1, "name": name, "sex": "F", "birth_date": "1980-02-02"})
		req, _ := http.NewRequest("POST", base+"/api/v1/records", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			RecordID string `json:"record_id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 201 {
			t.Fatalf("filing %s: %d", name, resp.StatusCode)
		}
		return out.RecordID
	}
	var before, after []string
	for i := 0; i < 10; i++ {
		before = append(before, file(fmt.Sprintf("演练前%d", i)))
	}
	time.Sleep(20 * time.Millisecond)
	noted := time.Now()
	time.Sleep(20 * time.Millisecond)
	for i := 0; i < 10; i++ {
		after = append(after, file(fmt.Sprintf("演练后%d", i)))
	}
	// A backup taken while the service runs, after the noted time: the
	// restore must pick the one before it.
	healthrec("backup", "--type", "diff")
	// A restore under a running service is refused, and changes nothing.
	cmd := exec.Command(bin, "restore", "--to", noted.Format(time.RFC3339Nano))
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "stop the service") {
		t.Fatalf("restore while serving: %v\n%s", err, out)
	}
	stop()

	healthrec("restore", "--to", noted.Format(time.RFC3339Nano))
	if info := healthrec("backup", "--info"); !strings.Contains(info, "last good backup") {
		t.Fatalf("backup --info:\n%s", info)
	}

	base = serve()
	if login(t, base, f.DoctorA) == "" {
		t.Fatal("the restored service does not log in")
	}
	var s pgcluster.Secrets
	b, _ := os.ReadFile(filepath.Join(pgDir, pgcluster.SecretsFile))
	_ = json.Unmarshal(b, &s)
	pid, _ := os.ReadFile(filepath.Join(pgDir, "postmaster.pid"))
	port := strings.TrimSpace(strings.Split(string(pid), "\n")[3])
	rdb, err := postgres.Open(ctx, fmt.Sprintf("postgres://%s:%s@127.0.0.1:%s/healthrec?sslmode=disable", pgcluster.App, s.App, port))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	count := func(q, id string) int {
		var n int
		if err := rdb.Get(&n, q, id); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, id := range before {
		if count(`SELECT count(*) FROM records WHERE record_id = $1`, id) != 1 {
			t.Errorf("record %s, acknowledged before the noted time, is missing after the restore", id)
		}
		if count(`SELECT count(*) FROM access_log WHERE record_id = $1`, id) == 0 {
			t.Errorf("the access log of record %s, filed before the noted time, is missing after the restore", id)
		}
	}
	for _, id := range after {
		if count(`SELECT count(*) FROM records WHERE record_id = $1`, id) != 0 {
			t.Errorf("record %s, filed after the noted time, is there after the restore", id)
		}
		if count(`SELECT count(*) FROM access_log WHERE record_id = $1`, id) != 0 {
			t.Errorf("access-log rows of record %s, filed after the noted time, are there after the restore", id)
		}
	}
	if kept, _ := filepath.Glob(pgDir + ".before-restore-*"); len(kept) != 1 {
		t.Errorf("the cluster as it was before the restore is not kept: %v", kept)
	}
}
