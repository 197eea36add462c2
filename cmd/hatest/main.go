// Command hatest is make ha-test: it starts the pg_auto_failover set of
// deploy/ha on this machine, serves healthrec on it with a multi-host
// DATABASE_URL, runs a follow-up write load through the service, kills the
// primary with kill -9 (its pg_autoctl and its postmaster, as a lost
// machine), and measures the time to the first successful write after the
// kill and the acknowledged writes lost, which must be 0. The writes that
// failed during the failover are then retried with their Idempotency-Key:
// each lands once. docs/benchmarks.md has the figures.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/demo"
	"healthrec/internal/postgres"
)

func main() {
	bin := flag.String("bin", "bin/healthrec", "the healthrec binary")
	script := flag.String("script", "deploy/ha/trial.sh", "the trial set's script")
	workers := flag.Int("workers", 4, "concurrent writers")
	before := flag.Duration("before", 5*time.Second, "writes before the kill")
	after := flag.Duration("after", 5*time.Second, "writes after the first success following the kill")
	summary := flag.String("summary", "", "append the figures to this Markdown file")
	keep := flag.Bool("keep", false, "leave the set running (trial.sh down removes it)")
	flag.Parse()
	if err := run(*bin, *script, *workers, *before, *after, *summary, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "ha-test:", err)
		os.Exit(1)
	}
}

type attempt struct {
	key     string
	record  string
	started time.Time
	status  int // 0: no answer (transport error)
	id      int64
}

func run(bin, script string, workers int, before, after time.Duration, summary string, keep bool) error {
	ctx := context.Background()
	haDir, err := os.MkdirTemp("", "healthrec-ha-")
	if err != nil {
		return err
	}
	os.Remove(haDir) // trial.sh up makes it
	trial := func(args ...string) (string, error) {
		cmd := exec.Command(script, args...)
		cmd.Env = append(os.Environ(), "HA_DIR="+haDir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("trial.sh %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	if !keep {
		defer trial("down")
	}
	t0 := time.Now()
	fmt.Println("starting the pg_auto_failover set (monitor, primary, synchronous standby) in", haDir)
	if _, err := trial("up"); err != nil {
		return err
	}
	setUp := time.Since(t0)
	envOut, err := trial("env")
	if err != nil {
		return err
	}
	env := os.Environ()
	var appURL string
	sc := bufio.NewScanner(strings.NewReader(envOut))
	for sc.Scan() {
		line := sc.Text()
		env = append(env, line)
		if strings.HasPrefix(line, "DATABASE_URL=") {
			appURL = strings.TrimPrefix(line, "DATABASE_URL=")
		}
	}
	adminPW := "Ha-trial-" + fmt.Sprint(time.Now().UnixNano()%1e9)
	env = append(env, "HEALTHREC_ADMIN_PASSWORD="+adminPW, "HEALTHREC_DATA="+haDir+"/unused")
	if out, err := command(env, bin, "migrate"); err != nil {
		return fmt.Errorf("healthrec migrate: %w\n%s", err, out)
	}
	db, err := postgres.Open(ctx, appURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := demo.Load(ctx, db, demo.Options{Seed: 1, Residents: 2000}); err != nil {
		return fmt.Errorf("demo county: %w", err)
	}

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	srv := exec.Command(bin, "serve", "--addr", addr)
	srv.Env = env
	logf, err := os.Create(haDir + "/healthrec.log")
	if err != nil {
		return err
	}
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	base := "http://" + addr
	if err := waitReady(base, 60*time.Second); err != nil {
		return err
	}
	doctor, err := login(base, "d011")
	if err != nil {
		return err
	}
	var enrolled []string
	if err := db.SelectContext(ctx, &enrolled, `SELECT e.record_id FROM enrolments e JOIN regions v ON v.code = e.village_code
		WHERE v.institution_code = (SELECT institution_code FROM staff WHERE code = 'd011')
		AND e.programme = 'hypertension' AND e.status = 'active' ORDER BY md5(e.record_id)`); err != nil {
		return err
	}
	if len(enrolled) == 0 {
		return fmt.Errorf("no hypertension enrolment in the demo county")
	}
	var maxBefore int64
	if err := db.GetContext(ctx, &maxBefore, `SELECT coalesce(max(id), 0) FROM entries`); err != nil {
		return err
	}
	body := fmt.Sprintf(`{"service_date":%q,"programme":"hypertension","method":"phone","adherence":"regular","classification":"satisfactory"}`,
		civil.Of(time.Now()).String())
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(a *attempt) {
		req, _ := http.NewRequest("POST", base+"/api/v1/records/"+a.record+"/followups", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+doctor)
		req.Header.Set("Idempotency-Key", a.key)
		a.started, a.status, a.id = time.Now(), 0, 0
		resp, err := client.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		a.status = resp.StatusCode
		var out struct {
			ID int64 `json:"id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		a.id = out.ID
	}

	var (
		mu        sync.Mutex
		attempts  []*attempt
		killedAt  time.Time
		firstOK   time.Time
		stopAfter time.Time
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				a := &attempt{key: fmt.Sprintf("ha-%d-%d", w, i), record: enrolled[(w*7919+i)%len(enrolled)]}
				send(a)
				done := time.Now()
				mu.Lock()
				attempts = append(attempts, a)
				if !killedAt.IsZero() && firstOK.IsZero() && a.status == 201 && a.started.After(killedAt) {
					firstOK = done
					stopAfter = done.Add(after)
				}
				mu.Unlock()
				if a.status != 201 {
					time.Sleep(50 * time.Millisecond) // a client's pause before the next try
				}
			}
		}(w)
	}
	time.Sleep(before)
	standbysBefore := scrape(base, `healthrec_db_standbys{sync_state="quorum"}`)
	primary, err := trial("primary")
	if err != nil {
		return err
	}
	primary = strings.TrimSpace(primary)
	// The clock starts when the kill has been sent: only requests begun
	// after it count as writes after the kill.
	if _, err := trial("kill", primary); err != nil {
		return err
	}
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	fmt.Printf("killed the primary (%s) with kill -9 after %s of writes\n", primary, before)
	deadline := time.Now().Add(120 * time.Second)
	for {
		mu.Lock()
		done := !stopAfter.IsZero() && time.Now().After(stopAfter)
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			state, _ := trial("state")
			return fmt.Errorf("no successful write within 120 s of the kill\n%s", state)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	// The monitor's own view, once it has settled (it may lag the promotion).
	var state string
	for i := 0; i < 50; i++ {
		state, _ = trial("state")
		if strings.Contains(state, "wait_primary |") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	newPrimary, _ := trial("primary")
	standbysAfter := scrape(base, `healthrec_db_standbys{sync_state="quorum"}`)
	newPrimary = strings.TrimSpace(newPrimary)
	if newPrimary == primary {
		return fmt.Errorf("%s is primary again: it was restarted, not failed over\n%s", primary, state)
	}

	// What the clients were told.
	statuses := map[int]int{}
	var acked []*attempt
	var failed []*attempt
	for _, a := range attempts {
		statuses[a.status]++
		switch a.status {
		case 201:
			acked = append(acked, a)
		case 503, 0:
			failed = append(failed, a)
		}
	}
	var wrong []string
	for st, n := range statuses {
		if st != 201 && st != 503 && st != 0 {
			wrong = append(wrong, fmt.Sprintf("%d×%d", n, st))
		}
	}

	// Acknowledged writes lost: every 201's entry must be on the new primary.
	ids := make([]int64, len(acked))
	for i, a := range acked {
		ids[i] = a.id
	}
	var found int
	if err := db.GetContext(ctx, &found, `SELECT count(*) FROM entries WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return fmt.Errorf("reading the new primary: %w", err)
	}
	lost := len(acked) - found

	// Retries with the same Idempotency-Key after the failover: a write that
	// landed before its answer was lost replays (200, the same entry); one
	// that did not lands now (201). Acknowledged ones replay too.
	var retried201, retried200, retriedOther int
	for _, a := range failed {
		send(a)
		switch a.status {
		case 201:
			retried201++
		case 200:
			retried200++
		default:
			retriedOther++
		}
	}
	replayed, replaySame := 0, 0
	for i, a := range acked {
		if i%max(1, len(acked)/20) != 0 {
			continue
		}
		first := a.id
		send(a)
		replayed++
		if a.status == 200 && a.id == first {
			replaySame++
		}
	}
	var keys, entries int
	if err := db.GetContext(ctx, &keys, `SELECT count(*) FROM idempotency_keys WHERE staff_code = 'd011' AND key LIKE 'ha-%'`); err != nil {
		return err
	}
	if err := db.GetContext(ctx, &entries, `SELECT count(*) FROM entries WHERE id > $1 AND kind = 'followup' AND created_by = 'd011'`, maxBefore); err != nil {
		return err
	}

	failover := firstOK.Sub(killedAt)
	host, _ := os.Hostname()
	cpu := cpuModel()
	var b strings.Builder
	fmt.Fprintf(&b, "\n### Failover under write load (make ha-test), %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s, %d cores (%s), %s/%s; PostgreSQL 15 with pg_auto_failover 2.0 (monitor, primary, synchronous standby on loopback; detection tuned as in deploy/ha/trial.sh); %d writers of follow-ups through `healthrec serve` with a multi-host `DATABASE_URL`; the primary's pg_autoctl and postmaster killed with kill -9 after %s. Set-up of the three nodes took %s.\n\n",
		host, runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, workers, before, setUp.Round(time.Second))
	fmt.Fprintf(&b, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| primary before / after | %s / %s |\n", primary, newPrimary)
	fmt.Fprintf(&b, "| synchronous (quorum) standbys in /metrics before / after | %s / %s |\n", standbysBefore, standbysAfter)
	fmt.Fprintf(&b, "| time from the kill to the first successful write | **%.1f s** |\n", failover.Seconds())
	fmt.Fprintf(&b, "| writes acknowledged (201) | %d |\n", len(acked))
	fmt.Fprintf(&b, "| acknowledged writes lost (201 but not on the new primary) | **%d** |\n", lost)
	fmt.Fprintf(&b, "| answers during the test | %s |\n", statusLine(statuses))
	fmt.Fprintf(&b, "| answers other than 201 / 503 / no answer | %d |\n", len(wrong))
	fmt.Fprintf(&b, "| failed writes retried with their Idempotency-Key after the failover | %d: %d landed now (201), %d had landed before (200, replayed), %d other |\n", len(failed), retried201, retried200, retriedOther)
	fmt.Fprintf(&b, "| acknowledged writes resent with their key | %d, %d replayed the same entry (200) |\n", replayed, replaySame)
	fmt.Fprintf(&b, "| idempotency keys vs follow-ups written (a retry that wrote twice would show) | %d keys, %d entries |\n", keys, entries)
	fmt.Print(b.String())
	fmt.Printf("\npg_autoctl show state after the test:\n%s\n", state)
	if summary != "" {
		f, err := os.OpenFile(summary, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		fmt.Fprint(f, b.String())
		f.Close()
	}
	switch {
	case lost != 0:
		return fmt.Errorf("%d acknowledged writes lost", lost)
	case len(wrong) != 0:
		return fmt.Errorf("wrong answers during the failover: %v", wrong)
	case retriedOther != 0 || replaySame != replayed:
		return fmt.Errorf("idempotent retries after the failover misbehaved")
	case keys != entries:
		return fmt.Errorf("%d idempotency keys but %d entries: a retry wrote twice or a key was lost", keys, entries)
	case failover > 30*time.Second:
		return fmt.Errorf("failover took %s, more than the 30 s of DESIGN §9", failover)
	}
	return nil
}

// scrape returns a sample's value from /metrics, or "-".
func scrape(base, name string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return "-"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return strings.TrimPrefix(l, name+" ")
		}
	}
	return "-"
}

func statusLine(m map[int]int) string {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	var parts []string
	for _, k := range ks {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			return strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
		}
	}
	return "unknown CPU"
}

func command(env []string, bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	return cmd.CombinedOutput()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(base string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the service did not become ready in %s", d)
}

func login(base, code string) (string, error) {
	body := fmt.Sprintf(`{"staff_code":%q,"password":%q}`, code, demo.Password)
	resp, err := http.Post(base+"/api/v1/login", "application/json", bytes.NewBufferString(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("login %s: %d %s", code, resp.StatusCode, b)
	}
	var out struct{ Token string }
	err = json.Unmarshal(b, &out)
	return out.Token, err
}
