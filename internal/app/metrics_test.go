package app

import (
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"healthrec/internal/postgres/pgtest"
)

// /metrics reports the database's role, its standbys by sync state and the
// WAL archiver, as the app role sees them; the backup gauge is only for the
// embedded cluster with backups on (TestRestoreDrill scrapes it).
func TestReplicationMetrics(t *testing.T) {
	db := pgtest.NewDB(t)
	d := &Database{DB: db}
	cs := d.Collectors(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(cs) != 1 {
		t.Fatalf("%d collectors without an embedded cluster, want the replication one only", len(cs))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(cs...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			got[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	for name, v := range map[string]float64{
		"healthrec_db_primary": 1, "healthrec_db_standbys{sync_state=sync}": 0, "healthrec_db_standbys{sync_state=quorum}": 0,
		"healthrec_db_standbys{sync_state=async}": 0, "healthrec_wal_archive_failed_total": 0,
	} {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
	if _, ok := got["healthrec_wal_archived_total"]; !ok {
		t.Error("healthrec_wal_archived_total missing")
	}
}
