package pgcluster

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Backups of the embedded cluster are pgBackRest's (Debian's pgbackrest
// package): PostgreSQL archives every WAL segment into a repository with
// archive_command, and base backups go into the same repository. A restore
// to a point in time is a base backup plus the archived WAL replayed up to
// that time (docs/operations.md). Nothing here copies data itself.

// Stanza is the pgBackRest stanza (its name for one cluster) of the embedded
// cluster.
const Stanza = "healthrec"

// Options are the embedded cluster's optional features.
type Options struct {
	// BackupRepo, when not empty, is the directory of the pgBackRest
	// repository: WAL is archived there and backups are taken into it.
	BackupRepo string
	// RetainFull is how many full backups the repository keeps (default 2);
	// older ones and the WAL only they need are expired after each backup.
	RetainFull int
	// Logical sets wal_level = logical: a county that publishes its
	// counters to a province (postgres.PublishCounters).
	Logical bool
	// Settings are more postgresql.conf lines ("name = value"), written
	// with the archiving settings at every start: a province's replication
	// workers, say.
	Settings []string
}

// MaxWALSize is the embedded cluster's max_wal_size: the WAL written between
// checkpoints before one is forced (docs/operations.md).
const MaxWALSize = "4GB"

// archiveConf is the file postgresql.conf includes, rewritten at every start,
// so that turning backups on or off takes effect at the next restart.
const archiveConf = "healthrec-archive.conf"

// ErrNoPgBackRest says pgbackrest is missing while backups are on.
var ErrNoPgBackRest = errors.New("backups are on but pgbackrest is not installed (Debian/Ubuntu: apt-get install -y pgbackrest); " +
	"install it, or set HEALTHREC_BACKUP=off to run without WAL archiving and backups")

func (c *Cluster) confPath() string { return filepath.Join(c.opts.BackupRepo, "pgbackrest.conf") }

// socketDir is where the server's Unix socket lives when backups are on:
// pgBackRest reaches PostgreSQL only through a Unix socket. It is a private
// directory beside the data directory (a socket inside it would be copied
// into backups); a path too long for a socket falls back to /tmp.
func (c *Cluster) socketDir() (string, error) {
	d := filepath.Join(filepath.Dir(c.Dir), "pgsocket")
	if len(d) > 80 {
		sum := 0
		for _, b := range []byte(c.Dir) {
			sum = sum*31 + int(b)
		}
		d = fmt.Sprintf("/tmp/healthrec-pgsocket-%x", uint32(sum))
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", err
	}
	if c.cred != nil {
		if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return "", err
		}
	}
	return d, nil
}

// configureArchiving writes archiveConf (empty of settings when backups are
// off), makes postgresql.conf include it, and, with backups on, prepares the
// repository directory and pgBackRest's configuration.
func (c *Cluster) configureArchiving() error {
	body := "# Written by healthrec at every start (internal/pgcluster). Backups are off (HEALTHREC_BACKUP=off).\n"
	if c.opts.BackupRepo != "" {
		if _, err := exec.LookPath("pgbackrest"); err != nil {
			return ErrNoPgBackRest
		}
		repo, err := filepath.Abs(c.opts.BackupRepo)
		if err != nil {
			return err
		}
		if strings.ContainsAny(repo, "'\n") {
			return fmt.Errorf("backup directory %q: quotes and newlines are not allowed", repo)
		}
		c.opts.BackupRepo = repo
		// pgBackRest creates neither its log nor its lock directory.
		for _, d := range []string{repo, filepath.Join(repo, "log"), filepath.Join(repo, "lock")} {
			if err := os.MkdirAll(d, 0o750); err != nil {
				return err
			}
			if c.cred != nil {
				if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
					return err
				}
			}
		}
		if c.sockDir, err = c.socketDir(); err != nil {
			return err
		}
		// archive_timeout bounds what a lost disk costs: a segment with any
		// write in it is archived within a minute even when traffic is low.
		body = "# Written by healthrec at every start (internal/pgcluster): WAL archiving into the\n" +
			"# pgBackRest repository " + repo + " (docs/operations.md).\n" +
			"wal_level = replica\n" +
			"archive_mode = on\n" +
			"archive_command = 'pgbackrest --config=" + c.confPath() + " --stanza=" + Stanza + " archive-push %p'\n" +
			"archive_timeout = 60\n"
	}
	// A county's first import writes ~10 GB of WAL; at the default 1 GB
	// it would force a checkpoint every few seconds of the load, each
	// flushing the pages being loaded and making the next change of every
	// page log it whole again.
	body += "max_wal_size = " + MaxWALSize + "\n"
	// A quarter of the memory rather than PostgreSQL's 128 MB (SharedBuffers).
	body += "shared_buffers = " + SharedBuffers() + "\n"
	if c.opts.Logical {
		body += "wal_level = logical\n" // after the archiving's "replica": the last one counts
	}
	for _, l := range c.opts.Settings {
		body += l + "\n"
	}
	if err := c.writeOwned(archiveConf, []byte(body)); err != nil {
		return err
	}
	return c.includeArchiveConf()
}

func (c *Cluster) includeArchiveConf() error {
	p := filepath.Join(c.Dir, "postgresql.conf")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	line := "include_if_exists = '" + archiveConf + "'"
	if strings.Contains(string(b), line) {
		return nil
	}
	b = append(b, []byte("\n# healthrec: WAL archiving for backups, rewritten at every start\n"+line+"\n")...)
	return c.writeOwned("postgresql.conf", b)
}

// writeBackRestConf writes pgBackRest's configuration into the repository,
// where a restore finds it even when the data directory is gone. The port
// changes between runs, so it is written once the server listens.
func (c *Cluster) writeBackRestConf() error {
	retain := c.opts.RetainFull
	if retain <= 0 {
		retain = 2
	}
	conf := fmt.Sprintf(`# Written by healthrec at every start (internal/pgcluster); see docs/operations.md.
[global]
repo1-path=%[1]s
repo1-retention-full=%[2]d
log-path=%[1]s/log
lock-path=%[1]s/lock
log-level-console=warn
log-level-file=info
start-fast=y
compress-type=gz
compress-level=3

[%[3]s]
pg1-path=%[4]s
pg1-port=%[5]d
pg1-socket-path=%[6]s
pg1-user=%[7]s
pg1-database=postgres
`, c.opts.BackupRepo, retain, Stanza, c.Dir, c.Port, c.sockDir, Superuser)
	p := c.confPath()
	if err := os.WriteFile(p+".tmp", []byte(conf), 0o640); err != nil {
		return err
	}
	if c.cred != nil {
		if err := os.Chown(p+".tmp", int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	return os.Rename(p+".tmp", p)
}

// backrest runs pgbackrest as the cluster's user, with the superuser's
// password for the commands that connect.
func (c *Cluster) backrest(ctx context.Context, args ...string) ([]byte, error) {
	return runAs(ctx, c.cred, []string{"PGPASSWORD=" + c.Secrets.Superuser},
		"pgbackrest", append([]string{"--config=" + c.confPath(), "--stanza=" + Stanza}, args...)...)
}

// ensureStanza creates the repository's stanza on first use.
func (c *Cluster) ensureStanza(ctx context.Context) error {
	if c.opts.BackupRepo == "" {
		return nil
	}
	if err := c.writeBackRestConf(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.opts.BackupRepo, "backup", Stanza, "backup.info")); err == nil {
		return nil
	}
	if out, err := c.backrest(ctx, "stanza-create"); err != nil {
		return fmt.Errorf("pgbackrest stanza-create: %w\n%s", err, out)
	}
	c.log.Info("created the pgBackRest repository", "repo", c.opts.BackupRepo)
	return nil
}

// Backup kinds: a full backup copies every file; a differential one the
// files changed since the last full.
const (
	BackupFull = "full"
	BackupDiff = "diff"
)

// Backup takes a base backup into the repository. The backup is usable only
// with the WAL archived while it ran, which pgBackRest waits for.
func (c *Cluster) Backup(ctx context.Context, kind string) error {
	if c.opts.BackupRepo == "" {
		return errors.New("backups are off for this cluster")
	}
	start := time.Now()
	if out, err := c.backrest(ctx, "backup", "--type="+kind); err != nil {
		return fmt.Errorf("pgbackrest backup: %w\n%s", err, out)
	}
	c.log.Info("backup taken", "type", kind, "repo", c.opts.BackupRepo, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// BackupSet is one backup in the repository.
type BackupSet struct {
	Label string    `json:"label"`
	Type  string    `json:"type"`
	Start time.Time `json:"start"`
	Stop  time.Time `json:"stop"`
	// Error is true when pgBackRest found a page checksum error in it.
	Error bool  `json:"error"`
	Size  int64 `json:"size"`
}

// RepoInfo is what pgBackRest's info says of the repository.
type RepoInfo struct {
	Status  string      `json:"status"` // "ok", or pgBackRest's message
	Backups []BackupSet `json:"backups"`
	// WALMin and WALMax are the oldest and newest archived WAL segments.
	WALMin string `json:"wal_min,omitempty"`
	WALMax string `json:"wal_max,omitempty"`
}

// LastGood returns the newest backup without errors, or nil.
func (r RepoInfo) LastGood() *BackupSet {
	for i := len(r.Backups) - 1; i >= 0; i-- {
		if !r.Backups[i].Error {
			return &r.Backups[i]
		}
	}
	return nil
}

// Info reads the repository (the server need not run).
func Info(ctx context.Context, repo string) (RepoInfo, error) {
	cred, err := credential()
	if err != nil {
		return RepoInfo{}, err
	}
	out, err := runAs(ctx, cred, nil, "pgbackrest", "--config="+filepath.Join(repo, "pgbackrest.conf"), "--stanza="+Stanza, "--output=json", "info")
	if err != nil {
		return RepoInfo{}, fmt.Errorf("pgbackrest info: %w\n%s", err, out)
	}
	var raw []struct {
		Status struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
		Archive []struct {
			Min string `json:"min"`
			Max string `json:"max"`
		} `json:"archive"`
		Backup []struct {
			Label     string `json:"label"`
			Type      string `json:"type"`
			Error     bool   `json:"error"`
			Timestamp struct {
				Start int64 `json:"start"`
				Stop  int64 `json:"stop"`
			} `json:"timestamp"`
			Info struct {
				Size int64 `json:"size"`
			} `json:"info"`
		} `json:"backup"`
	}
	if err := json.Unmarshal(out, &raw); err != nil || len(raw) != 1 {
		return RepoInfo{}, fmt.Errorf("pgbackrest info: unexpected output %q", out)
	}
	r := raw[0]
	info := RepoInfo{Status: "ok"}
	if r.Status.Code != 0 {
		info.Status = r.Status.Message
	}
	for _, a := range r.Archive {
		if info.WALMin == "" || a.Min < info.WALMin {
			info.WALMin = a.Min
		}
		if a.Max > info.WALMax {
			info.WALMax = a.Max
		}
	}
	for _, b := range r.Backup {
		info.Backups = append(info.Backups, BackupSet{Label: b.Label, Type: b.Type, Error: b.Error, Size: b.Info.Size,
			Start: time.Unix(b.Timestamp.Start, 0), Stop: time.Unix(b.Timestamp.Stop, 0)})
	}
	return info, nil
}

// ScheduleBackups takes a backup when the repository has none, then one
// every interval after the last: a full one when the last full is a week
// old, else a differential one. A failed backup is logged and tried again
// in ten minutes. It returns when ctx ends.
func (c *Cluster) ScheduleBackups(ctx context.Context, every time.Duration) {
	if c.opts.BackupRepo == "" {
		return
	}
	for {
		wait, kind := every, BackupDiff
		info, err := Info(ctx, c.opts.BackupRepo)
		if err != nil {
			c.log.Error("reading the backup repository", "err", err)
			wait = 10 * time.Minute
		} else {
			last, lastFull := info.LastGood(), (*BackupSet)(nil)
			for i := range info.Backups {
				if info.Backups[i].Type == BackupFull && !info.Backups[i].Error {
					lastFull = &info.Backups[i]
				}
			}
			if last == nil || lastFull == nil {
				wait, kind = 0, BackupFull
			} else {
				wait = time.Until(last.Stop.Add(every))
				if time.Since(lastFull.Stop)+every >= 7*24*time.Hour {
					kind = BackupFull
				}
			}
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			if err != nil {
				continue
			}
		}
		if err := c.Backup(ctx, kind); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Error("scheduled backup failed; trying again in ten minutes", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Minute):
			}
		}
	}
}

// switchWAL closes the current WAL segment so that the archiver sends it
// before a clean shutdown: without it the last writes before a stop would
// reach the repository only with the next start's traffic.
func (c *Cluster) switchWAL(ctx context.Context) {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `SELECT pg_switch_wal()`); err != nil {
		c.log.Warn("could not switch WAL before stopping; the last writes reach the backup repository with the next start", "err", err)
	}
}

// waitPromoted waits until a server that started in recovery (a restore)
// has replayed to its target and accepts writes.
func (c *Cluster) waitPromoted(ctx context.Context, d time.Duration) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(d)
	for {
		var inRecovery bool
		err := db.QueryRowContext(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery)
		if err == nil && !inRecovery {
			return nil
		}
		if time.Now().After(deadline) {
			tail, _ := os.ReadFile(filepath.Join(c.Dir, "server.log"))
			return fmt.Errorf("the restored cluster did not finish recovery in %s (err %v)\n%s", d, err, lastLines(tail, 20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Restore replaces the cluster in dir with the repository's backup replayed
// up to target: pgBackRest picks the newest backup that ended before target
// and PostgreSQL replays the archived WAL up to the last transaction
// committed at or before it, then opens for writes on a new timeline. The
// server must be stopped. The directory as it was is kept beside it, renamed
// with the time of the restore, and is the operator's to remove. Start the
// cluster afterwards as usual; it returns once replay is done.
func Restore(ctx context.Context, dir, repo string, target time.Time) (keptAs string, err error) {
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	cred, err := credential()
	if err != nil {
		return "", err
	}
	if pf, ok := readPidFile(dir); ok {
		real, _ := filepath.EvalSymlinks(dir)
		if isPostmasterOf(pf.pid, real) {
			return "", fmt.Errorf("PostgreSQL is running in %s (pid %d): stop the service before a restore", dir, pf.pid)
		}
	}
	conf := filepath.Join(repo, "pgbackrest.conf")
	if _, err := os.Stat(conf); err != nil {
		return "", fmt.Errorf("no backup repository at %s: %w", repo, err)
	}
	if _, err := os.Stat(dir); err == nil {
		keptAs = dir + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dir, keptAs); err != nil {
			return "", err
		}
	}
	undo := func(err error) (string, error) {
		if keptAs != "" {
			_ = os.RemoveAll(dir)
			_ = os.Rename(keptAs, dir)
		}
		return "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return undo(err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return undo(err)
		}
	}
	out, err := runAs(ctx, cred, nil, "pgbackrest", "--config="+conf, "--stanza="+Stanza, "--pg1-path="+dir,
		"--type=time", "--target="+target.UTC().Format("2006-01-02 15:04:05.999999-07"), "--target-action=promote", "restore")
	if err != nil {
		return undo(fmt.Errorf("pgbackrest restore: %w\n%s", err, out))
	}
	// A stale pid file would be restored too if a backup ever held one;
	// pgBackRest excludes it, but a lock file of the running server is
	// not what a restored cluster should start with.
	_ = os.Remove(filepath.Join(dir, "postmaster.pid"))
	return keptAs, nil
}

func credential() (*cred, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	return unprivilegedCredential()
}

func runAs(ctx context.Context, cr *cred, env []string, name string, args ...string) ([]byte, error) {
	c := &Cluster{cred: cr}
	return c.runEnv(ctx, env, name, args...)
}

// StartStandby makes dir a streaming standby of primary (pg_basebackup -R,
// as the bootstrap superuser) and starts it on a free port, read-only
// (hot_standby). It shares the primary's roles and passwords. Tests of
// reads from a replica use it; a county's standbys are pg_auto_failover's
// (deploy/ha).
func StartStandby(ctx context.Context, primary *Cluster, dir string, log *slog.Logger) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: primary.bin, cred: primary.cred, log: log, Secrets: primary.Secrets}
	if err := primary.allowReplication(ctx); err != nil {
		return nil, err
	}
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	if c.realDir, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, err
	}
	out, err := c.runEnv(ctx, []string{"PGPASSWORD=" + primary.Secrets.Superuser}, c.tool("pg_basebackup"),
		"-h", "127.0.0.1", "-p", strconv.Itoa(primary.Port), "-U", Superuser, "-D", dir, "-R", "-X", "stream", "-c", "fast")
	if err != nil {
		return nil, fmt.Errorf("pg_basebackup: %w\n%s", err, out)
	}
	// The primary's server.log and pid file are not the standby's.
	_ = os.Remove(filepath.Join(dir, "server.log"))
	if err := c.writeOwned(archiveConf, []byte("# A standby: no archiving of its own.\n")); err != nil {
		return nil, err
	}
	if err := c.startServer(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// allowReplication lets the bootstrap superuser open replication
// connections over loopback, with its password.
func (c *Cluster) allowReplication(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(c.Dir, "pg_hba.conf"))
	if err != nil {
		return err
	}
	line := "host    replication " + Superuser + " 127.0.0.1/32  scram-sha-256\n"
	if strings.Contains(string(b), line) {
		return nil
	}
	if err := c.writeOwned("pg_hba.conf", append(b, []byte(line)...)); err != nil {
		return err
	}
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `SELECT pg_reload_conf()`)
	return err
}

// tool finds a PostgreSQL client program: beside initdb, on PATH, or in the
// newest /usr/lib/postgresql/<version>/bin (a PATH may carry initdb and
// pg_ctl only).
func (c *Cluster) tool(name string) string {
	if p := filepath.Join(c.bin, name); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p
		}
	}
	return name
}
