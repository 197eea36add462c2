package pgcluster

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBackupAndPointInTimeRestore archives WAL into a pgBackRest
// repository, takes a backup on the schedule's first round, and restores to
// a time between two writes: the first is there, the second is not, and
// the restored cluster takes writes again and archives them.
func TestBackupAndPointInTimeRestore(t *testing.T) {
	if _, err := exec.LookPath("pgbackrest"); err != nil {
		t.Fatal("pgbackrest is not installed (make deps installs it): the backup test cannot run")
	}
	dir := clusterDir(t)
	repo := filepath.Join(filepath.Dir(dir), "backups")
	ctx := context.Background()
	c, err := StartWith(ctx, dir, testLog(t), Options{BackupRepo: repo})
	if err != nil {
		t.Fatal(err)
	}
	exec1 := func(c *Cluster, q string, args ...any) {
		t.Helper()
		db, err := sql.Open("postgres", c.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec1(c, `CREATE TABLE drill (n int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())`)

	// The schedule's first round: no backup yet, so a full one at once.
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); c.ScheduleBackups(sctx, time.Hour) }()
	deadline := time.Now().Add(60 * time.Second)
	var first *BackupSet
	for {
		info, err := Info(ctx, repo)
		if first = info.LastGood(); err == nil && first != nil {
			if first.Type != BackupFull {
				t.Fatalf("first backup %+v, want full", first)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backup after a minute: %v %+v", err, info)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	<-done
	// pgBackRest records a backup's end in whole seconds, and a restore
	// target must come after it.
	time.Sleep(time.Until(first.Stop.Add(1100 * time.Millisecond)))

	exec1(c, `INSERT INTO drill (n) VALUES (1)`)
	time.Sleep(50 * time.Millisecond)
	target := time.Now()
	time.Sleep(50 * time.Millisecond)
	exec1(c, `INSERT INTO drill (n) VALUES (2)`)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	// A target before the first backup cannot be reached: the restore
	// fails and leaves the cluster where it was.
	if _, err := Restore(ctx, dir, repo, first.Start.Add(-time.Hour)); err == nil {
		t.Fatal("a restore to before the first backup succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		t.Fatalf("the failed restore lost the cluster: %v", err)
	}
	if kept, _ := filepath.Glob(dir + ".before-restore-*"); len(kept) != 0 {
		t.Fatalf("the failed restore left %v", kept)
	}

	if _, err := Restore(ctx, dir, repo, target); err != nil {
		t.Fatal(err)
	}
	c2, err := StartWith(ctx, dir, testLog(t), Options{BackupRepo: repo})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Stop()
	db, err := sql.Open("postgres", c2.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []int
	rows, err := db.Query(`SELECT n FROM drill ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int
		_ = rows.Scan(&n)
		got = append(got, n)
	}
	rows.Close()
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("rows after restore to the noted time: %v, want [1]", got)
	}
	if _, err := db.Exec(`INSERT INTO drill (n) VALUES (3)`); err != nil {
		t.Fatalf("the restored cluster refuses writes: %v", err)
	}
	// A backup of the restored cluster, on its new timeline, succeeds.
	if err := c2.Backup(ctx, BackupDiff); err != nil {
		t.Fatal(err)
	}
}
