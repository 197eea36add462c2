package app

import (
	"testing"
	"time"

	"healthrec/internal/pgcluster"
)

func TestBackupConfigFromEnv(t *testing.T) {
	t.Setenv("HEALTHREC_BACKUP", "")
	t.Setenv("HEALTHREC_BACKUP_DIR", "")
	t.Setenv("HEALTHREC_BACKUP_EVERY", "")
	t.Setenv("HEALTHREC_BACKUP_RETAIN", "")
	b, err := backupConfigFromEnv("/srv/data")
	if err != nil || b.Off || b.Dir != "/srv/data/backups" || b.Every != 24*time.Hour || b.Retain != 2 {
		t.Fatalf("defaults: %+v %v", b, err)
	}
	if o := b.options(); o.BackupRepo != "/srv/data/backups" || o.RetainFull != 2 {
		t.Fatalf("options: %+v", o)
	}
	t.Setenv("HEALTHREC_BACKUP", "off")
	if b, _ := backupConfigFromEnv("/d"); !b.Off || b.options().BackupRepo != "" {
		t.Fatalf("HEALTHREC_BACKUP=off still archives: %+v", b)
	}
	t.Setenv("HEALTHREC_BACKUP", "")
	t.Setenv("HEALTHREC_BACKUP_DIR", "/mnt/backup")
	t.Setenv("HEALTHREC_BACKUP_EVERY", "6h")
	t.Setenv("HEALTHREC_BACKUP_RETAIN", "4")
	if b, err := backupConfigFromEnv("/d"); err != nil || b.Dir != "/mnt/backup" || b.Every != 6*time.Hour || b.Retain != 4 {
		t.Fatalf("settings: %+v %v", b, err)
	}
	for _, c := range [][2]string{{"HEALTHREC_BACKUP_EVERY", "daily"}, {"HEALTHREC_BACKUP_EVERY", "10s"}, {"HEALTHREC_BACKUP_RETAIN", "0"}, {"HEALTHREC_BACKUP_RETAIN", "x"}} {
		t.Setenv("HEALTHREC_BACKUP_EVERY", "")
		t.Setenv("HEALTHREC_BACKUP_RETAIN", "")
		t.Setenv(c[0], c[1])
		if _, err := backupConfigFromEnv("/d"); err == nil {
			t.Errorf("%s=%s accepted", c[0], c[1])
		}
	}
}

func TestBackupFresh(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	if backupFresh(nil, 24*time.Hour, now) == nil {
		t.Error("no backup passes")
	}
	if err := backupFresh(&pgcluster.BackupSet{Stop: now.Add(-47 * time.Hour)}, 24*time.Hour, now); err != nil {
		t.Errorf("a backup one missed round old fails: %v", err)
	}
	if backupFresh(&pgcluster.BackupSet{Stop: now.Add(-49 * time.Hour)}, 24*time.Hour, now) == nil {
		t.Error("a backup two rounds old passes")
	}
}

func TestParseRestoreTarget(t *testing.T) {
	want := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC)
	for _, s := range []string{"2026-12-07T09:30:00+08:00", "2026-12-07T01:30:00Z", "2026-12-07 09:30:00+08:00"} {
		got, err := ParseRestoreTarget(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	if got, err := ParseRestoreTarget("2026-12-07 09:30:00.5"); err != nil || got.Location() != time.Local || got.Nanosecond() != 5e8 {
		t.Errorf("local time: %v %v", got, err)
	}
	for _, s := range []string{"", "yesterday", "2026-13-07 09:30:00"} {
		if _, err := ParseRestoreTarget(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
