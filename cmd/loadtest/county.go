package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/demo"
	"healthrec/internal/entry"
	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
	"healthrec/internal/staff"
)

// county is what a run measures: the store the server serves from (the app
// role), the superuser's (ANALYZE, CHECKPOINT), and who reads and writes.
type county struct {
	db, super *postgres.DB
	label     string
	// doctors read the record pages and create the follow-ups, each in
	// their own institution; homeVisit reads the due list and syncs.
	doctors   []string
	homeVisit string
	close     func()
}

// freshCounty loads the demo county into a throwaway cluster.
func freshCounty(ctx context.Context, residents int) (*county, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir, err := os.MkdirTemp("", "healthrec-loadtest-")
	if err != nil {
		return nil, err
	}
	_ = os.Chmod(dir, 0o755)
	c := &county{doctors: []string{"d011"}, homeVisit: "hv01"}
	var closers []func()
	c.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	closers = append(closers, func() { os.RemoveAll(dir) })
	fail := func(err error) (*county, error) { c.close(); return nil, err }
	cluster, err := pgcluster.Start(ctx, filepath.Join(dir, "pg"), quiet)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, func() { cluster.Stop() })
	if err := cluster.EnsureDatabase(ctx, "load"); err != nil {
		return fail(err)
	}
	// As healthrec serve runs: the owner migrates, the app role (DML only,
	// the audit tables append-only) serves.
	if err := postgres.Provision(ctx, cluster.OwnerURL("load"), cluster.URL("load"), pgcluster.App); err != nil {
		return fail(err)
	}
	if c.super, err = postgres.Open(ctx, cluster.URL("load")); err != nil {
		return fail(err)
	}
	closers = append(closers, func() { c.super.Close() })
	if c.db, err = postgres.Open(ctx, cluster.AppURL("load")); err != nil {
		return fail(err)
	}
	closers = append(closers, func() { c.db.Close() })
	start := time.Now()
	if _, err := demo.Load(ctx, c.db, demo.Options{Seed: 1, Residents: residents}); err != nil {
		return fail(err)
	}
	c.label = fmt.Sprintf("demo county of %d residents (loaded in %s)", residents, time.Since(start).Round(time.Millisecond))
	if _, err := c.super.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return fail(err)
	}
	return c, nil
}

// Staff the load test adds to a county it reuses, under codes of its own:
// a loaded county's staff may have no password (cmd/bench loads them
// without), and a real one's passwords are not the load test's to change.
const (
	reuseDoctorPrefix = "lt-d-"
	reuseHomeVisit    = "lt-hv"
	// reuseEnrolled is how many residents of each doctor's institution the
	// setup keeps in the hypertension programme, for the follow-ups.
	reuseEnrolled = 200
)

// reuseCounty measures a county already loaded at superURL (a superuser:
// the setup adds staff, ANALYZE and CHECKPOINT need it), served as the app
// role at appURL as in production. It adds a doctor in each of the first
// institutions by code (those with records) and a home-visit worker for
// the first one's villages, all with the demo password, and enrols
// residents in the hypertension programme where there are too few —
// a county loaded by cmd/bench has none. Run again, it finds them.
// clusterCounty starts the cluster cmd/bench -dir left in dir (its
// database "bench") and measures its county as reuseCounty does; the
// cluster is stopped again at close.
func clusterCounty(ctx context.Context, dir string, institutions int) (*county, error) {
	cluster, err := pgcluster.Start(ctx, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	c, err := reuseCounty(ctx, cluster.URL("bench"), cluster.AppURL("bench"), institutions)
	if err != nil {
		cluster.Stop()
		return nil, err
	}
	closeDBs := c.close
	c.close = func() { closeDBs(); cluster.Stop() }
	return c, nil
}

func reuseCounty(ctx context.Context, superURL, appURL string, institutions int) (*county, error) {
	c := &county{homeVisit: reuseHomeVisit}
	var err error
	if c.super, err = postgres.Open(ctx, superURL); err != nil {
		return nil, err
	}
	if appURL == "" {
		appURL = superURL
	}
	if c.db, err = postgres.Open(ctx, appURL); err != nil {
		c.super.Close()
		return nil, err
	}
	c.close = func() { c.db.Close(); c.super.Close() }
	fail := func(err error) (*county, error) { c.close(); return nil, err }
	var insts []string
	if err := c.super.SelectContext(ctx, &insts, `SELECT i.code FROM institutions i
		WHERE EXISTS (SELECT 1 FROM regions v JOIN records r ON r.village_code = v.code WHERE v.institution_code = i.code)
		ORDER BY i.code LIMIT $1`, institutions); err != nil {
		return fail(err)
	}
	if len(insts) == 0 {
		return fail(fmt.Errorf("no institution with records in the county at %s", superURL))
	}
	hash, err := staff.HashPassword(demo.Password)
	if err != nil {
		return fail(err)
	}
	for _, inst := range insts {
		code := reuseDoctorPrefix + inst
		if err := ensureStaff(ctx, c.super, &staff.Staff{Code: code, Name: "压测医生 " + inst, InstitutionCode: inst, Active: true,
			Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(inst)}}}, hash, nil); err != nil {
			return fail(err)
		}
		c.doctors = append(c.doctors, code)
		if err := ensureEnrolled(ctx, c.db, code, inst); err != nil {
			return fail(err)
		}
	}
	var villages []string
	if err := c.super.SelectContext(ctx, &villages, `SELECT code FROM regions WHERE level = 'village' AND institution_code = $1 ORDER BY code`,
		insts[0]); err != nil {
		return fail(err)
	}
	if err := ensureStaff(ctx, c.super, &staff.Staff{Code: reuseHomeVisit, Name: "压测入户随访人员", InstitutionCode: insts[0], Active: true,
		Grants: []staff.Grant{{Role: staff.HomeVisit, Domain: staff.InstitutionDomain(insts[0])}}}, hash, villages); err != nil {
		return fail(err)
	}
	var records int
	if err := c.super.GetContext(ctx, &records, `SELECT reltuples::bigint FROM pg_class WHERE relname = 'records'`); err != nil {
		return fail(err)
	}
	c.label = fmt.Sprintf("existing county of ~%d records, %d doctors' institutions", records, len(insts))
	return c, nil
}

// ensureStaff adds s with the password hash, or resets the hash, roles
// and villages of the load test's own account from an earlier run.
func ensureStaff(ctx context.Context, db *postgres.DB, s *staff.Staff, hash string, villages []string) error {
	if _, err := db.Staff(ctx, s.Code); err != nil {
		if err := db.CreateDemoStaff(ctx, s, demo.Password); err != nil {
			return fmt.Errorf("add %s: %w", s.Code, err)
		}
	} else if _, err := db.ExecContext(ctx, `UPDATE staff SET password_hash = $2, active = true WHERE code = $1`, s.Code, hash); err != nil {
		return err
	}
	if villages != nil {
		return db.SetStaffVillages(ctx, s.Code, villages)
	}
	return nil
}

// ensureEnrolled enrols adults of the institution in the hypertension
// programme, through the store as a doctor's enrolment is, until
// reuseEnrolled are.
func ensureEnrolled(ctx context.Context, db *postgres.DB, doctor, inst string) error {
	var have int
	if err := db.GetContext(ctx, &have, `SELECT count(*) FROM enrolments e JOIN regions v ON v.code = e.village_code
		JOIN records r ON r.record_id = e.record_id AND r.status = 'active'
		WHERE v.institution_code = $1 AND e.programme = 'hypertension' AND e.status = 'active'`, inst); err != nil {
		return err
	}
	if have >= reuseEnrolled {
		return nil
	}
	today := civil.Of(db.Today())
	var ids []string
	if err := db.SelectContext(ctx, &ids, `SELECT r.record_id FROM records r JOIN regions v ON v.code = r.village_code
		WHERE v.institution_code = $1 AND r.status = 'active' AND r.birth_date <= $2
		AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.record_id = r.record_id AND e.programme = 'hypertension')
		ORDER BY md5(r.record_id) LIMIT $3`, inst, today.AddDays(-40*365), reuseEnrolled-have); err != nil {
		return err
	}
	for _, id := range ids {
		f := entry.EnrolmentForm{Programme: entry.Hypertension, EnrolledOn: today.AddDays(-30), Status: entry.EnrolmentActive}
		if _, _, err := db.AddEnrolment(ctx, doctor, id, f, postgres.Idempotency{}); err != nil {
			return fmt.Errorf("enrol %s: %w", id, err)
		}
	}
	return nil
}

// cpuTimes are CPU seconds used so far by this process (the server) and by
// each PostgreSQL process serving the county (its backends and background
// processes, as pg_stat_activity lists them; the machine may run other
// clusters).
type cpuTimes struct {
	server   time.Duration
	postgres map[int]time.Duration
	// Events that may hold requests up: checkpoints started, autovacuum
	// and autoanalyze runs, and the server's garbage collections.
	checkpoints, autovacuums int64
	gcs                      uint32
	// The access log's group commits and the appends they carried.
	commits, appends int64
}

func cpuNow(ctx context.Context, super, db *postgres.DB) (cpuTimes, error) {
	t := cpuTimes{postgres: map[int]time.Duration{}}
	t.commits, t.appends = db.AuditBatching()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return t, err
	}
	t.server = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	var pids []int
	if err := super.SelectContext(ctx, &pids, `SELECT pid FROM pg_stat_activity`); err != nil {
		return t, err
	}
	for _, pid := range pids {
		t.postgres[pid] = procCPU(pid)
	}
	if err := super.QueryRowContext(ctx, `SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
		(SELECT COALESCE(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_all_tables)`).Scan(&t.checkpoints, &t.autovacuums); err != nil {
		return t, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.gcs = ms.NumGC
	return t, nil
}

// events says what happened from before to t that may hold requests up.
func (t cpuTimes) events(before cpuTimes) string {
	return fmt.Sprintf("%d, %d, %d", t.checkpoints-before.checkpoints, t.autovacuums-before.autovacuums, t.gcs-before.gcs)
}

// perCommit is how many appends an access-log commit carried, from before to t.
func (t cpuTimes) perCommit(before cpuTimes) float64 {
	if t.commits == before.commits {
		return 0
	}
	return float64(t.appends-before.appends) / float64(t.commits-before.commits)
}

// since is the CPU used from before to t: the server's, and the
// PostgreSQL processes' that lived through both (a backend that ended in
// between is not counted; a new one counts whole).
func (t cpuTimes) since(before cpuTimes) (server, pg time.Duration) {
	for pid, d := range t.postgres {
		if d >= before.postgres[pid] {
			pg += d - before.postgres[pid]
		}
	}
	return t.server - before.server, pg
}

// procCPU is a process's user and system time from /proc (0 when gone).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 12th and 13th of them.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

func msPer(d time.Duration, n float64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d) / float64(time.Millisecond) / n
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
