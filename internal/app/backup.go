package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"healthrec/internal/pgcluster"
)

// BackupConfig is how the embedded cluster is backed up (docs/operations.md):
// HEALTHREC_BACKUP=off turns WAL archiving and backups off;
// HEALTHREC_BACKUP_DIR is the pgBackRest repository (default
// $HEALTHREC_DATA/backups); HEALTHREC_BACKUP_EVERY the interval between
// scheduled backups (default 24h); HEALTHREC_BACKUP_RETAIN how many full
// backups are kept (default 2).
type BackupConfig struct {
	Off    bool
	Dir    string
	Every  time.Duration
	Retain int
}

func backupConfigFromEnv(dataDir string) (BackupConfig, error) {
	b := BackupConfig{Off: os.Getenv("HEALTHREC_BACKUP") == "off", Dir: os.Getenv("HEALTHREC_BACKUP_DIR"), Every: 24 * time.Hour, Retain: 2}
	if b.Dir == "" {
		b.Dir = filepath.Join(dataDir, "backups")
	}
	if v := os.Getenv("HEALTHREC_BACKUP_EVERY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return b, fmt.Errorf("HEALTHREC_BACKUP_EVERY=%q: a duration of at least a minute, e.g. 24h or 6h", v)
		}
		b.Every = d
	}
	if v := os.Getenv("HEALTHREC_BACKUP_RETAIN"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return b, fmt.Errorf("HEALTHREC_BACKUP_RETAIN=%q: a whole number of full backups, at least 1", v)
		}
		b.Retain = n
	}
	return b, nil
}

func (b BackupConfig) options() pgcluster.Options {
	if b.Off {
		return pgcluster.Options{}
	}
	return pgcluster.Options{BackupRepo: b.Dir, RetainFull: b.Retain}
}

var errExternal = errors.New("DATABASE_URL names a server healthrec does not run: back it up with that server's own tools " +
	"(pgBackRest, docs/operations.md); healthrec backup and restore serve the embedded cluster")

// ScheduleBackups takes the embedded cluster's scheduled backups until ctx
// ends (pgcluster.ScheduleBackups); with DATABASE_URL, or backups off, it
// does nothing.
func (d *Database) ScheduleBackups(ctx context.Context, cfg Config) {
	if d.cluster != nil && !cfg.Backup.Off {
		go d.cluster.ScheduleBackups(ctx, cfg.Backup.Every)
	}
}

// Backup takes a backup of the embedded cluster now: `healthrec backup`. A
// running service's cluster is attached to, not restarted.
func Backup(ctx context.Context, cfg Config, kind string, log *slog.Logger) error {
	if cfg.DatabaseURL != "" {
		return errExternal
	}
	if cfg.BackupErr != nil {
		return cfg.BackupErr
	}
	if cfg.Backup.Off {
		return errors.New("backups are off (HEALTHREC_BACKUP=off)")
	}
	c, err := pgcluster.StartWith(ctx, cfg.DataDir+"/postgres", log, cfg.Backup.options())
	if err != nil {
		return err
	}
	defer c.Stop()
	return c.Backup(ctx, kind)
}

// BackupInfo prints the repository's backups and archived WAL: `healthrec
// backup --info`. It fails when there is no good backup younger than two
// intervals, so that a monitoring job can run it as is.
func BackupInfo(ctx context.Context, cfg Config, asJSON bool, w io.Writer) error {
	if cfg.DatabaseURL != "" {
		return errExternal
	}
	if cfg.BackupErr != nil {
		return cfg.BackupErr
	}
	info, err := pgcluster.Info(ctx, cfg.Backup.Dir)
	if err != nil {
		return err
	}
	last := info.LastGood()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(info); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "repository %s: %s\n", cfg.Backup.Dir, info.Status)
		for _, b := range info.Backups {
			state := "good"
			if b.Error {
				state = "PAGE ERRORS"
			}
			fmt.Fprintf(w, "  %-32s %-4s %s .. %s  %7.1f MB  %s\n", b.Label, b.Type,
				b.Start.Format(time.RFC3339), b.Stop.Format(time.RFC3339), float64(b.Size)/1e6, state)
		}
		fmt.Fprintf(w, "archived WAL: %s .. %s\n", info.WALMin, info.WALMax)
		if last != nil {
			fmt.Fprintf(w, "last good backup: %s, %s ago; restorable from %s to the last archived WAL\n",
				last.Label, time.Since(last.Stop).Round(time.Second), firstGoodStop(info).Format(time.RFC3339))
		}
	}
	return backupFresh(last, cfg.Backup.Every, time.Now())
}

// backupFresh is the verdict of backup --info: a good backup younger than
// two intervals, so that one missed round is not yet an alarm.
func backupFresh(last *pgcluster.BackupSet, every time.Duration, now time.Time) error {
	if last == nil {
		return errors.New("no good backup in the repository")
	}
	if age := now.Sub(last.Stop); age > 2*every {
		return fmt.Errorf("the last good backup is %s old, more than twice HEALTHREC_BACKUP_EVERY (%s)", age.Round(time.Minute), every)
	}
	return nil
}

func firstGoodStop(info pgcluster.RepoInfo) time.Time {
	for _, b := range info.Backups {
		if !b.Error {
			return b.Stop
		}
	}
	return time.Time{}
}

// ParseRestoreTarget reads --to: RFC 3339 (2026-12-07T09:30:00+08:00), or
// "2006-01-02 15:04:05" in local time.
func ParseRestoreTarget(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--to %q: a time such as 2026-12-07T09:30:00+08:00 or \"2026-12-07 09:30:00\" (local time)", s)
}

// Restore replaces the embedded cluster with its state at target, replays
// it (the server starts, reaches the target and opens for writes), then
// stops it: `healthrec restore --to TIME`. The service must be stopped.
func Restore(ctx context.Context, cfg Config, target time.Time, log *slog.Logger) error {
	if cfg.DatabaseURL != "" {
		return errExternal
	}
	if cfg.BackupErr != nil {
		return cfg.BackupErr
	}
	if target.After(time.Now()) {
		return fmt.Errorf("--to %s is in the future", target.Format(time.RFC3339))
	}
	dir := cfg.DataDir + "/postgres"
	kept, err := pgcluster.Restore(ctx, dir, cfg.Backup.Dir, target)
	if err != nil {
		return err
	}
	c, err := pgcluster.StartWith(ctx, dir, log, cfg.Backup.options())
	if err != nil {
		return fmt.Errorf("%w (the cluster as it was before the restore is kept in %s)", err, kept)
	}
	if err := c.Stop(); err != nil {
		return err
	}
	log.Info("restored", "to", target.Format(time.RFC3339Nano), "dir", dir, "kept_before_restore", kept)
	if kept != "" {
		log.Warn("the cluster as it was before the restore is kept; remove it once the restore is checked", "dir", kept)
	}
	return nil
}
