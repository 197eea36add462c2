// Command loadtest measures the HTTP side of the service on loopback: it loads
// the demo county into a throwaway PostgreSQL, serves the real handler, and
// drives four endpoints with wrk (Debian package), each for a bounded time,
// printing latency percentiles and throughput as a Markdown table:
//
//	go run ./cmd/loadtest -residents 100000 -duration 10s -connections 5
//
// The endpoints: the record page (random records of one institution), search
// by name, creating a follow-up (each a new one, with its own Idempotency-Key
// as the tablets send, for the institution's ~2,000 residents in the
// hypertension programme), and a home-visit worker's due list; then the sync
// of a tablet's 200 offline follow-ups in one POST /batch, timed end to end.
// The server serves as the app role, as in production. `make bench` runs it after the county-scale
// report benchmark.
//
// On a county already loaded (cmd/bench -keep, say), as its superuser, the
// server serving as the app role:
//
//	BENCH_APP_DATABASE_URL=postgres://healthrec_app:…@host/bench \
//	  go run ./cmd/loadtest -reuse postgres://healthrec:…@host/bench -only page -runs 5
//
// It adds its own doctors (lt-d-<institution>, one in each of -doctors
// institutions) and home-visit worker (lt-hv) with the demo password, and
// enrols residents in the hypertension programme where there are too few.
// Each run prints the CPU per request of the server, the county's
// PostgreSQL processes and wrk, the checkpoints, autovacuums and garbage
// collections during it, and how many requests an access-log commit carried.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/app"
	"healthrec/internal/civil"
	"healthrec/internal/demo"
	"healthrec/internal/httpapi"
	"healthrec/internal/postgres"
)

func main() {
	residents := flag.Int("residents", 100000, "residents in the demo county")
	duration := flag.Duration("duration", 10*time.Second, "how long each endpoint is driven")
	connections := flag.Int("connections", 5, "concurrent connections (wrk, on the same cores as the server)")
	cpuProfile := flag.String("cpuprofile", "", "write the server's CPU profile to this file")
	summary := flag.String("summary", "", "append the HTTP rows to this summary table (started by cmd/bench; make bench prints it)")
	reuse := flag.String("reuse", "", "measure the county already loaded at this superuser URL (e.g. one cmd/bench -keep left) instead of loading the demo county; the server serves as $BENCH_APP_DATABASE_URL (the app role) when set")
	var o options
	flag.StringVar(&o.cluster, "cluster", "", "measure the county in the stopped cluster of this directory, as cmd/bench -dir left it (started for the run and stopped after)")
	only := flag.String("only", "", "measure only these, comma-separated: page, search, followup, due, sync (default all)")
	flag.IntVar(&o.runs, "runs", 1, "measured runs of each endpoint, one after the other")
	reuseDoctors := flag.Int("doctors", 10, "with -reuse: how many institutions' doctors read and write, each their own institution's records")
	hold := flag.Bool("hold", false, "serve the loaded county until interrupted instead of driving it, printing the URLs and tokens (for EXPLAIN and profiling by hand)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	o.reuse, o.doctors = *reuse, *reuseDoctors
	if *only != "" {
		o.only = strings.Split(*only, ",")
	}
	if err := run(*residents, *duration, *connections, *hold, *summary, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// options are the flags run takes beyond the common ones.
type options struct {
	reuse   string
	cluster string
	doctors int
	only    []string
	runs    int
}

// selected reports whether the endpoint (page, search, followup, due,
// sync) is measured.
func (o options) selected(key string) bool {
	return len(o.only) == 0 || slices.Contains(o.only, key)
}

func run(residents int, duration time.Duration, connections int, hold bool, summary string, o options, out io.Writer) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not found: apt-get install -y wrk")
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir, err := os.MkdirTemp("", "healthrec-loadtest-wrk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var cty *county
	switch {
	case o.cluster != "":
		cty, err = clusterCounty(ctx, o.cluster, o.doctors)
	case o.reuse != "":
		cty, err = reuseCounty(ctx, o.reuse, os.Getenv("BENCH_APP_DATABASE_URL"), o.doctors)
	default:
		cty, err = freshCounty(ctx, residents)
	}
	if err != nil {
		return err
	}
	defer cty.close()
	db := cty.db
	// A load leaves the county in dirty buffers and WAL: a checkpoint
	// that it (or the 5-minute timer) starts inside the measured runs
	// writes and fsyncs them while every record page waits for its access
	// log's commit — a suspected cause of the p99 of 46 ms in issue #20's
	// run, and a cost of the load, not of the page.
	if _, err := cty.super.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return err
	}

	app.TuneGC() // as healthrec serve does
	gate, err := access.NewGate(db, db.Now, quiet)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: httpapi.New(db, gate, quiet, httpapi.Config{}).Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// Each doctor reads records of their own institution and follows up
	// its residents in the hypertension programme, as in a county's day:
	// a single resident's writes would queue on that record's row locks.
	var pages, followups []request
	perDoctor := (500 + len(cty.doctors) - 1) / len(cty.doctors)
	for _, code := range cty.doctors {
		token, err := login(base, code)
		if err != nil {
			return err
		}
		var ids []string
		if err := db.SelectContext(ctx, &ids, `SELECT r.record_id FROM records r JOIN regions v ON v.code = r.village_code
			WHERE v.institution_code = (SELECT institution_code FROM staff WHERE code = $1) AND r.status = 'active'
			ORDER BY md5(r.record_id) LIMIT $2`, code, perDoctor); err != nil {
			return err
		}
		for _, id := range ids {
			pages = append(pages, request{"/api/v1/records/" + id, token})
		}
		var enrolled []string
		// Residents of open records only (a closed record takes no
		// follow-up: 409), and at most followupsPerDoctor of them: wrk's
		// Lua script holds every target as a constant, and a county-wide
		// list passes LuaJIT's limit.
		if err := db.SelectContext(ctx, &enrolled, `SELECT e.record_id FROM enrolments e JOIN regions v ON v.code = e.village_code
			JOIN records r ON r.record_id = e.record_id AND r.status = 'active'
			WHERE v.institution_code = (SELECT institution_code FROM staff WHERE code = $1)
			AND e.programme = 'hypertension' AND e.status = 'active' ORDER BY md5(e.record_id) LIMIT $2`, code, followupsPerDoctor); err != nil {
			return err
		}
		if len(enrolled) == 0 {
			return fmt.Errorf("no hypertension enrolment in %s's institution", code)
		}
		for _, id := range enrolled {
			followups = append(followups, request{"/api/v1/records/" + id + "/followups", token})
		}
	}
	homeVisit, err := login(base, cty.homeVisit)
	if err != nil {
		return err
	}
	followup := fmt.Sprintf(`{"service_date":%q,"programme":"hypertension","method":"phone","adherence":"regular","classification":"satisfactory"}`,
		civil.Of(time.Now()).String())
	if status, body := send(base, "POST", followups[0].path, followups[0].token, followup); status != 201 {
		return fmt.Errorf("follow-up create answers %d: %s", status, body)
	}

	if hold {
		fmt.Fprintf(out, "server %s\ndoctor token %s\nhome-visit token %s\nrecord page %s\nenrolled record %s\n",
			base, pages[0].token, homeVisit, pages[0].path, followups[0].path)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		return nil
	}
	type target struct {
		key, name, script string
	}
	targets := []target{
		{"page", "record page `GET /records/{id}`", requestScript("GET", "", pages)},
		{"search", "search `GET /records?q=王`", requestScript("GET", "", []request{{"/api/v1/records?q=%E7%8E%8B", pages[0].token}})},
		{"followup", "follow-up create `POST /records/{id}/followups`", requestScript("POST", followup, followups) + uniqueKeys},
		{"due", "due list `GET /followups/due`", requestScript("GET", "", []request{{"/api/v1/followups/due", homeVisit}})},
	}
	host, _ := os.Hostname()
	fmt.Fprintf(out, "HTTP on loopback, %s, %d CPU, %s, %s, wrk %d connections × %s per endpoint after a 2 s warm-up\n\n",
		time.Now().Format("2006-01-02 15:04"), runtime.NumCPU(), host, cty.label, connections, duration)
	fmt.Fprintln(out, "| endpoint | requests/s | p50 | p95 | p99 | non-2xx | CPU ms/request: server, PostgreSQL, wrk | checkpoints, autovacuums, GCs | requests per audit commit | load average |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---|---|---:|---:|")
	script := filepath.Join(dir, "script.lua")
	var rows []string
	for _, t := range targets {
		if !o.selected(t.key) {
			continue
		}
		// A warm-up first, not counted: the first requests on each pooled
		// connection prepare its statements and fill the caches.
		if err := writeScript(script, t.script); err != nil {
			return err
		}
		if _, err := wrk(base, script, 2*time.Second, connections); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		// The statistics of a running county: the warm-up's writes went to
		// tables the load left empty (idempotency keys), whose plans stay
		// sequential scans until autovacuum analyses them, about a minute on.
		if _, err := cty.super.ExecContext(ctx, `ANALYZE`); err != nil {
			return err
		}
		for run := 0; run < o.runs; run++ {
			if err := writeScript(script, t.script); err != nil {
				return err
			}
			before, err := cpuNow(ctx, cty.super, db)
			if err != nil {
				return err
			}
			res, err := wrk(base, script, duration, connections)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			after, err := cpuNow(ctx, cty.super, db)
			if err != nil {
				return err
			}
			n := res.rps * duration.Seconds()
			server, pg := after.since(before)
			fmt.Fprintf(out, "| %s | %.0f | %s | %s | %s | %d | %.2f, %.2f, %.2f | %s | %.1f | %s |\n", t.name, res.rps, res.p50, res.p95, res.p99, res.non2xx,
				msPer(server, n), msPer(pg, n), msPer(res.cpu, n), after.events(before), after.perCommit(before), loadAverage())
			failed := ""
			if res.non2xx > 0 {
				failed = fmt.Sprintf(", %d non-2xx", res.non2xx)
			}
			rows = append(rows, fmt.Sprintf("| HTTP %s, %d connections (%s%s) | %.0f req/s | | %s | %s | %s |",
				t.name, connections, cty.label, failed, res.rps, res.p50, res.p95, res.p99))
		}
	}
	if !o.selected("sync") {
		return appendSummary(summary, rows)
	}
	// The sync of a tablet's offline round: 200 follow-ups in one POST
	// /batch, as outbox.js sends them, each with its own key, from a new
	// connection (the tablet comes back online), end to end.
	round, err := syncRound(ctx, db, cty.homeVisit)
	if err != nil {
		return err
	}
	var syncs []time.Duration
	for i := 0; i <= syncRuns; i++ {
		d, err := syncBatch(base, homeVisit, round, fmt.Sprintf("sync-%d-%d", time.Now().UnixNano(), i))
		if err != nil {
			return err
		}
		if i > 0 { // the first warms up
			syncs = append(syncs, d)
		}
	}
	sort.Slice(syncs, func(i, j int) bool { return syncs[i] < syncs[j] })
	fmt.Fprintf(out, "\nsync of %d offline follow-ups, one `POST /batch` from a new connection (%d runs): median %s, fastest %s, slowest %s\n",
		len(round), syncRuns, syncs[len(syncs)/2].Round(time.Millisecond), syncs[0].Round(time.Millisecond), syncs[len(syncs)-1].Round(time.Millisecond))
	rows = append(rows, fmt.Sprintf("| HTTP sync of %d offline follow-ups, one `POST /batch` (median of %d; target ≤ 1 s) | %s | | | | %s |",
		len(round), syncRuns, syncs[len(syncs)/2].Round(time.Millisecond), syncs[len(syncs)-1].Round(time.Millisecond)))
	return appendSummary(summary, rows)
}

// syncRuns is how many batch syncs are timed.
const syncRuns = 5

// followupsPerDoctor bounds the residents each doctor's creates are spread
// over (about the 2,000 of an institution's programme in the demo county).
const followupsPerDoctor = 2000

// syncRound is a home-visit worker's round recorded offline: 200 of the
// residents in the hypertension programme of the worker's villages (some
// twice, if there are fewer), one follow-up each.
func syncRound(ctx context.Context, db *postgres.DB, worker string) ([]string, error) {
	var ids []string
	if err := db.SelectContext(ctx, &ids, `SELECT e.record_id FROM enrolments e
		JOIN staff_villages s ON s.village_code = e.village_code AND s.staff_code = $1
		JOIN records r ON r.record_id = e.record_id AND r.status = 'active'
		WHERE e.programme = 'hypertension' AND e.status = 'active' ORDER BY md5(e.record_id) LIMIT 200`, worker); err != nil {
		return nil, err
	}
	n := len(ids)
	if n == 0 {
		return nil, fmt.Errorf("no hypertension enrolment in %s's villages", worker)
	}
	for i := 0; len(ids) < 200; i++ {
		ids = append(ids, ids[i%n])
	}
	return ids, nil
}

// syncBatch sends one round as the outbox does and checks every item
// was created.
func syncBatch(base, token string, round []string, keys string) (time.Duration, error) {
	items := make([]map[string]any, len(round))
	today := civil.Of(time.Now()).String()
	for i, id := range round {
		items[i] = map[string]any{"record_id": id, "kind": "followups", "idempotency_key": fmt.Sprintf("%s-%d", keys, i),
			"body": map[string]any{"service_date": today, "programme": "hypertension", "method": "home", "systolic": 142, "diastolic": 88,
				"weight_kg": 66.5, "adherence": "regular", "classification": "unsatisfactory"}}
	}
	body, err := json.Marshal(map[string]any{"items": items})
	if err != nil {
		return 0, err
	}
	client := &http.Client{Transport: &http.Transport{}} // a new connection, gzip asked for as a browser does
	defer client.CloseIdleConnections()
	start := time.Now()
	req, _ := http.NewRequest("POST", base+"/api/v1/batch", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	var out struct {
		Items []struct {
			Status int `json:"status"`
		} `json:"items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil || resp.StatusCode != 200 || len(out.Items) != len(round) {
		return 0, fmt.Errorf("batch sync answers %d (%v), %d items", resp.StatusCode, err, len(out.Items))
	}
	for i, it := range out.Items {
		if it.Status != 201 {
			return 0, fmt.Errorf("batch sync: item %d answers %d", i, it.Status)
		}
	}
	return d, nil
}

// appendSummary adds rows to make bench's summary table, when there is one.
func appendSummary(path string, rows []string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(strings.Join(rows, "\n") + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeScript writes a wrk script for one run, with the run's own {{run}}
// and the percentiles it reports.
func writeScript(path, script string) error {
	script = strings.ReplaceAll(script, "{{run}}", strconv.FormatInt(time.Now().UnixNano(), 10)) + percentiles
	return os.WriteFile(path, []byte(script), 0o644)
}

// request is one path and the bearer token it is sent with.
type request struct{ path, token string }

// requestScript is a wrk Lua script that sends method to one of the
// requests at random, with its bearer token, and body.
func requestScript(method, body string, reqs []request) string {
	var b strings.Builder
	b.WriteString("local paths, tokens = {}, {}\n")
	for _, r := range reqs {
		fmt.Fprintf(&b, "paths[#paths+1] = %q; tokens[#tokens+1] = %q\n", r.path, "Bearer "+r.token)
	}
	fmt.Fprintf(&b, "wrk.method = %q\n", method)
	if body != "" {
		fmt.Fprintf(&b, "wrk.body = %q\n", body)
	}
	b.WriteString("wrk.headers[\"Content-Type\"] = \"application/json\"\n")
	b.WriteString("request = function() local i = math.random(#paths); wrk.headers[\"Authorization\"] = tokens[i]; return wrk.format(nil, paths[i]) end\n")
	return b.String()
}

// uniqueKeys makes a request script send a new Idempotency-Key with every
// request, so that each creates (a replayed key would answer from the first
// create). wrk's threads share no state: each numbers its own requests under
// a prefix of its own, which setup hands out from the run's prefix ({{run}},
// filled in by writeScript): the warm-up and the measured run each have one.
const uniqueKeys = `
prefix = "{{run}}"
local threads, sent = 0, 0
function setup(thread)
  threads = threads + 1
  thread:set("prefix", prefix .. "-" .. threads)
end
local format = request
request = function()
  sent = sent + 1
  wrk.headers["Idempotency-Key"] = prefix .. "-" .. sent
  return format()
end
`

type wrkResult struct {
	rps           float64
	p50, p95, p99 string
	non2xx        int
	cpu           time.Duration // wrk's own
}

// percentiles makes wrk print the latency percentiles it does not print on
// its own (p95), in microseconds, on one line after its report.
const percentiles = `
done = function(summary, latency, requests)
  io.write(string.format("percentiles %d %d %d\n", latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
`

var (
	rpsRe    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	pctRe    = regexp.MustCompile(`(?m)^percentiles (\d+) (\d+) (\d+)$`)
	non2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
)

func wrk(base, script string, d time.Duration, conns int) (*wrkResult, error) {
	cmd := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(d.Seconds())), "--timeout", "5s", "--latency", "-s", script, base)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, outb)
	}
	res := &wrkResult{cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if m := rpsRe.FindSubmatch(outb); m != nil {
		fmt.Sscan(string(m[1]), &res.rps)
	}
	if m := pctRe.FindSubmatch(outb); m != nil {
		res.p50, res.p95, res.p99 = millis(m[1]), millis(m[2]), millis(m[3])
	}
	if m := non2xxRe.FindSubmatch(outb); m != nil {
		fmt.Sscan(string(m[1]), &res.non2xx)
	}
	return res, nil
}

// millis formats wrk's microseconds as milliseconds.
func millis(us []byte) string {
	n, _ := strconv.ParseFloat(string(us), 64)
	return strconv.FormatFloat(n/1000, 'f', 2, 64) + " ms"
}

func login(base, code string) (string, error) {
	status, body := send(base, "POST", "/api/v1/login", "", fmt.Sprintf(`{"staff_code":%q,"password":%q}`, code, demo.Password))
	if status != 200 {
		return "", fmt.Errorf("login %s: %d %s", code, status, body)
	}
	var out struct{ Token string }
	err := json.Unmarshal(body, &out)
	return out.Token, err
}

func send(base, method, path, token, body string) (int, []byte) {
	req, _ := http.NewRequest(method, base+path, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
