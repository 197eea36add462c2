package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/rates"
)

// TestBeatCounters: the heartbeat moves only for a county this database
// publishes; a province's rows (received, not published) stay as received.
func TestBeatCounters(t *testing.T) {
	db := pgtest.NewDB(t)
	su := pgtest.Superuser(t, db)
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	su.MustExec(`INSERT INTO counter_heartbeats (county, beat_at) VALUES ('330127', $1), ('330128', $1)`, old)
	su.MustExec(`CREATE PUBLICATION healthrec_counters_330127 FOR TABLE counter_heartbeats WHERE (county = '330127')`)
	if err := db.BeatCounters(context.Background()); err != nil {
		t.Fatal(err)
	}
	beats := map[string]time.Time{}
	rows, err := su.Query(`SELECT county, beat_at FROM counter_heartbeats`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		var at time.Time
		_ = rows.Scan(&c, &at)
		beats[c] = at
	}
	rows.Close()
	if !beats["330127"].After(old) || !beats["330128"].Equal(old) {
		t.Errorf("beats: %v", beats)
	}
}

// TestPublishCountersRefuses: a county that cannot publish is told why,
// before anything is created.
func TestPublishCountersRefuses(t *testing.T) {
	db := pgtest.NewDB(t)
	su := pgtest.Superuser(t, db)
	ctx := context.Background()
	if err := postgres.PublishCounters(ctx, su.DB, "33012", "r", "x"); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("a five-digit county: %v", err)
	}
	var level string
	_ = su.Get(&level, `SHOW wal_level`)
	err := postgres.PublishCounters(ctx, su.DB, "330127", "healthrec_province_t", "a-long-password-here")
	if level != "logical" && (err == nil || !strings.Contains(err.Error(), "wal_level")) {
		t.Errorf("wal_level %s: %v", level, err)
	}
	if err := postgres.SubscribeCounty(ctx, su.DB, "x", "host=nowhere"); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("a bad county code: %v", err)
	}
}

// TestProvinceReportInput: the province report takes two digits and the
// whole population, and a province without counties is 404.
func TestProvinceReportInput(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	p := rates.Params{AsOf: civil.New(2026, 6, 30), Sample: rates.All}
	for _, tc := range []struct {
		province string
		p        rates.Params
		want     apperr.Code
	}{
		{"3", p, apperr.Invalid},
		{"ab", p, apperr.Invalid},
		{"33", rates.Params{AsOf: p.AsOf, Sample: 300}, apperr.Invalid},
		{"33", p, apperr.NotFound},
	} {
		if _, _, err := db.ProvinceReport(ctx, tc.province, tc.p, 0); apperr.CodeOf(err) != tc.want {
			t.Errorf("%s sample %s: %v, want %s", tc.province, tc.p.Sample, err, tc.want)
		}
	}
	if _, err := db.CountyFeeds(ctx, "3x", 0); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("counties of 3x: %v", err)
	}
}
