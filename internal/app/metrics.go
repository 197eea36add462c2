package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
)

// Collectors are the operations gauges of /metrics (docs/operations.md):
// the database's role, its standbys' lag and WAL archiving, read at each
// scrape; and, for the embedded cluster with backups on, the age of the
// last good backup.
func (d *Database) Collectors(cfg Config, log *slog.Logger) []prometheus.Collector {
	out := []prometheus.Collector{&replicationCollector{db: d.DB, log: log}}
	if d.cluster != nil && !cfg.Backup.Off {
		out = append(out, newBackupCollector(cfg.Backup.Dir, log))
	}
	return out
}

var (
	descPrimary = prometheus.NewDesc("healthrec_db_primary",
		"1 when the database the service writes to is a primary (not in recovery).", nil, nil)
	descStandbys = prometheus.NewDesc("healthrec_db_standbys",
		"Streaming standbys of the primary, by sync_state (empty without pg_monitor).", []string{"sync_state"}, nil)
	descLagSeconds = prometheus.NewDesc("healthrec_db_replication_lag_seconds",
		"A standby's replay lag in seconds (needs pg_monitor).", []string{"standby"}, nil)
	descLagBytes = prometheus.NewDesc("healthrec_db_replication_lag_bytes",
		"WAL bytes the standby has yet to replay (needs pg_monitor).", []string{"standby"}, nil)
	descArchived = prometheus.NewDesc("healthrec_wal_archived_total",
		"WAL segments archived since the statistics were reset.", nil, nil)
	descArchiveFailed = prometheus.NewDesc("healthrec_wal_archive_failed_total",
		"Failed attempts to archive a WAL segment.", nil, nil)
	descSinceArchived = prometheus.NewDesc("healthrec_wal_last_archived_age_seconds",
		"Seconds since a WAL segment was last archived.", nil, nil)
	descBackupAge = prometheus.NewDesc("healthrec_backup_last_good_age_seconds",
		"Seconds since the last good backup of the embedded cluster ended.", nil, nil)
	descBackups = prometheus.NewDesc("healthrec_backups",
		"Backups in the repository, good ones only.", nil, nil)
)

type replicationCollector struct {
	db  *postgres.DB
	log *slog.Logger
}

func (c *replicationCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPrimary, descStandbys, descLagSeconds, descLagBytes, descArchived, descArchiveFailed, descSinceArchived} {
		ch <- d
	}
}

// Collect leaves the gauges out when the database does not answer: /readyz
// says that, and a scrape must not hang on it.
func (c *replicationCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.db.Replication(ctx)
	if err != nil {
		c.log.Warn("metrics: replication state", "err", err)
		return
	}
	primary := 1.0
	if st.InRecovery {
		primary = 0
	}
	ch <- prometheus.MustNewConstMetric(descPrimary, prometheus.GaugeValue, primary)
	bySync := map[string]float64{}
	for _, s := range st.Standbys {
		bySync[s.SyncState.String]++
		if s.LagSeconds.Valid {
			ch <- prometheus.MustNewConstMetric(descLagSeconds, prometheus.GaugeValue, s.LagSeconds.Float64, s.Name)
		} else if s.SyncState.Valid {
			ch <- prometheus.MustNewConstMetric(descLagSeconds, prometheus.GaugeValue, 0, s.Name) // caught up: PostgreSQL clears the lag once idle
		}
		if s.LagBytes.Valid {
			ch <- prometheus.MustNewConstMetric(descLagBytes, prometheus.GaugeValue, s.LagBytes.Float64, s.Name)
		}
	}
	for _, state := range []string{"sync", "quorum", "potential", "async"} {
		ch <- prometheus.MustNewConstMetric(descStandbys, prometheus.GaugeValue, bySync[state], state)
	}
	if n := bySync[""]; n > 0 {
		ch <- prometheus.MustNewConstMetric(descStandbys, prometheus.GaugeValue, n, "unknown")
	}
	ch <- prometheus.MustNewConstMetric(descArchived, prometheus.CounterValue, float64(st.Archived))
	ch <- prometheus.MustNewConstMetric(descArchiveFailed, prometheus.CounterValue, float64(st.ArchiveFailed))
	if st.SinceArchived.Valid {
		ch <- prometheus.MustNewConstMetric(descSinceArchived, prometheus.GaugeValue, st.SinceArchived.Float64)
	}
}

// backupCollector reads the repository through pgbackrest info, at most
// once a minute: a scrape every few seconds must not start a process each.
type backupCollector struct {
	repo string
	log  *slog.Logger

	mu   sync.Mutex
	at   time.Time
	info pgcluster.RepoInfo
	err  error
}

func newBackupCollector(repo string, log *slog.Logger) *backupCollector {
	return &backupCollector{repo: repo, log: log}
}

func (c *backupCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBackupAge
	ch <- descBackups
}

func (c *backupCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) > time.Minute || c.err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c.info, c.err = pgcluster.Info(ctx, c.repo)
		cancel()
		c.at = time.Now()
		if c.err != nil {
			c.log.Warn("metrics: backup repository", "err", c.err)
		}
	}
	if c.err != nil {
		return
	}
	good := 0
	for _, b := range c.info.Backups {
		if !b.Error {
			good++
		}
	}
	ch <- prometheus.MustNewConstMetric(descBackups, prometheus.GaugeValue, float64(good))
	if last := c.info.LastGood(); last != nil {
		ch <- prometheus.MustNewConstMetric(descBackupAge, prometheus.GaugeValue, time.Since(last.Stop).Seconds())
	}
}
