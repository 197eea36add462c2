package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/httpapi/openapitest"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// site is the real handler over a fresh database with the fixture county,
// served on 127.0.0.1 (a secure context for service workers and cookies).
type site struct {
	t   *testing.T
	db  *postgres.DB
	f   *pgtest.Fixture
	srv *httptest.Server
	// handler is the real handler, kept to serve again after stop.
	handler http.Handler
	// url is the base the browser uses: http://localhost:port.
	url string
}

func newSite(t *testing.T) *site {
	t.Helper()
	db := pgtest.NewDB(t)
	s := &site{t: t, db: db, f: pgtest.NewFixture(t, db)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	s.handler = openapitest.Wrap(t, httpapi.New(db, gate, log, httpapi.Config{}).Handler())
	s.srv = httptest.NewServer(s.handler)
	t.Cleanup(func() { s.srv.Close() })
	s.url = strings.Replace(s.srv.URL, "127.0.0.1", "localhost", 1)
	return s
}

// stop takes the server off the network: a real outage for the browser,
// its service worker included.
func (s *site) stop() {
	// Cut the browser's open connections first: Close alone waits for
	// requests in flight, and a browser may hold one open.
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// restart serves again on the same address.
func (s *site) restart() {
	s.t.Helper()
	addr := s.srv.Listener.Addr().String()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		s.t.Fatalf("listen again on %s: %v", addr, err)
	}
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: s.handler}}
	s.srv.Start()
}

// apiClient calls the API with a bearer token, to set up data.
type apiClient struct {
	s     *site
	token string
}

func (s *site) login(code string) *apiClient {
	s.t.Helper()
	c := &apiClient{s: s}
	var out struct {
		Token string `json:"token"`
	}
	if st := c.do("POST", "/api/v1/login", map[string]string{"staff_code": code, "password": pgtest.Password}, &out); st != 200 {
		s.t.Fatalf("login %s: %d", code, st)
	}
	c.token = out.Token
	return c
}

// do sends a JSON request and decodes the answer into out; it returns the status.
func (c *apiClient) do(method, path string, body, out any) int {
	c.s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.s.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		_ = json.Unmarshal(raw, out)
	}
	return res.StatusCode
}

// must is do that fails the test unless the status is 2xx.
func (c *apiClient) must(method, path string, body, out any) {
	c.s.t.Helper()
	var raw json.RawMessage
	st := c.do(method, path, body, &raw)
	if st/100 != 2 {
		c.s.t.Fatalf("%s %s: %d %s", method, path, st, raw)
	}
	if out != nil {
		_ = json.Unmarshal(raw, out)
	}
}

// hasRoute reports whether the server knows a route (a route that is not
// there answers 404 "没有这个接口"), so that a journey whose API has not
// landed yet skips instead of failing.
func (c *apiClient) hasRoute(method, path string) bool {
	var out struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	st := c.do(method, path, nil, &out)
	return !(st == 404 && strings.Contains(out.Error.Message, "接口"))
}

func (c *apiClient) fileRecord(village, name, birth, sex string, extra map[string]any) string {
	c.s.t.Helper()
	body := map[string]any{"village_code": village, "name": name, "sex": sex, "birth_date": birth,
		"residence_type": "户籍", "ethnicity": "汉族", "phone": "13912345678"}
	// The personal basic information table answered (quality rules Q12–Q15).
	table, _ := json.Marshal(record.AnsweredBasicInfo())
	_ = json.Unmarshal(table, &body)
	for k, v := range extra {
		body[k] = v
	}
	var out struct {
		RecordID string `json:"record_id"`
	}
	c.must("POST", "/api/v1/records", body, &out)
	return out.RecordID
}

// count runs a count query.
func (s *site) count(q string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.db.Get(&n, q, args...); err != nil {
		s.t.Fatal(err)
	}
	return n
}

var (
	chromeOnce sync.Once
	chromePath string
	chromeErr  error
)

// chromium finds Debian's chromium, installing it with apt-get when it is
// missing and this process may (root, or sudo without a password). Only when
// neither works does the caller fail.
func chromium() (string, error) {
	chromeOnce.Do(func() {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				chromePath = p
				return
			}
		}
		if runtime.GOOS != "linux" {
			chromeErr = errors.New("chromium not found")
			return
		}
		var pre []string
		if os.Geteuid() != 0 {
			if exec.Command("sudo", "-n", "true").Run() != nil {
				chromeErr = errors.New("chromium not found and not root (install it: apt-get install -y chromium fonts-noto-cjk)")
				return
			}
			pre = []string{"sudo", "-n"}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		run := func(args ...string) error {
			a := append(append([]string{}, pre...), args...)
			cmd := exec.CommandContext(ctx, a[0], a[1:]...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, lastLines(out))
			}
			return nil
		}
		if err := run("apt-get", "update", "-qq"); err != nil {
			chromeErr = err
			return
		}
		if err := run("apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"); err != nil {
			chromeErr = err
			return
		}
		chromePath, chromeErr = exec.LookPath("chromium")
	})
	return chromePath, chromeErr
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// browser starts a headless chromium for the test and returns its context.
// Every step of a journey waits for what it needs (a selector, a text);
// none sleeps.
func browser(t *testing.T, width, height int64) context.Context {
	t.Helper()
	path, err := chromium()
	if err != nil {
		// A journey that cannot run fails: a skipped journey reads as a pass.
		t.Fatalf("browser tests need chromium, which is missing and could not be installed: %v", err)
	}
	// Not t.TempDir: chromium's helper processes may still write to the
	// profile for a moment after the browser exits, failing its cleanup.
	profile, err := os.MkdirTemp("", "healthrec-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(int(width), int(height)),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithLogf(func(string, ...any) {}))
	t.Cleanup(func() {
		cancelB()
		cancelA()
		for i := 0; i < 5 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond) // cleanup only: helpers finishing their writes
		}
	})
	// Uncaught script errors and CSP refusals fail the test: the pages
	// must run under the server's strict policy without a complaint.
	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			msg = "uncaught: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if strings.Contains(ev.Entry.Text, "Content Security Policy") {
				msg = "csp: " + ev.Entry.Text
			}
		}
		if msg != "" {
			mu.Lock()
			problems = append(problems, msg)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
	if err := chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(width, height, 1, false)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs browser actions, failing the test with the step's name.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action) {
	t.Helper()
	// A step that waits longer than this is stuck: fail it with its name
	// and a screenshot instead of waiting for the test binary's timeout.
	// Generous: CI runs other test packages beside this one on two cores.
	sctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		shot(t, ctx, "failed-"+sanitize(t.Name()+"-"+step))
		var state string
		dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
		_ = chromedp.Run(dctx, chromedp.Evaluate(`JSON.stringify({href: location.href, online: navigator.onLine, main: document.querySelector('main') && document.querySelector('main').textContent.slice(0, 120)})`, &state))
		dcancel()
		t.Logf("page at failure: %s", state)
		t.Fatalf("%s: %v", step, err)
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// artifacts is test-artifacts/ at the module root.
func artifacts(t *testing.T) string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			out := filepath.Join(d, "test-artifacts")
			_ = os.MkdirAll(out, 0o755)
			return out
		}
	}
	return t.TempDir()
}

// shot saves a screenshot of the viewport as test-artifacts/<name>.png.
func shot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	var buf []byte
	// A passing toast would cover the page in the picture.
	clear := chromedp.Evaluate(`(() => { const t = document.getElementById('toast'); if (t) t.textContent = ''; return true; })()`, nil)
	if err := chromedp.Run(ctx, clear, chromedp.CaptureScreenshot(&buf)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
	return p
}

// signIn fills the sign-in form of whichever app is open.
func signIn(code string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible(`#login-form input[name=staff_code]`),
		chromedp.SendKeys(`#login-form input[name=staff_code]`, code),
		chromedp.SendKeys(`#login-form input[name=password]`, pgtest.Password),
		chromedp.Click(`#login-form button[type=submit]`),
		chromedp.WaitVisible(`#logout`),
	}
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
	return chromedp.Poll(js, nil, chromedp.WithPollingInterval(50*time.Millisecond))
}

// setValue sets a control's value as a person would leave it (the input and
// change events fire).
func setValue(sel, value string) chromedp.Action {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false;
		e.value = %q; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value)
	return chromedp.Poll(js, nil, chromedp.WithPollingInterval(50*time.Millisecond))
}

// reloadUntil reloads the page and waits until predicate (a JS expression)
// holds in the new document. It polls with fresh evaluations because the
// old document's execution context goes away mid-wait.
func reloadUntil(predicate string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if err := chromedp.Evaluate(`window.__beforeReload = true`, nil).Do(ctx); err != nil {
			return fmt.Errorf("mark page: %w", err)
		}
		if err := page.Reload().Do(ctx); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		check := fmt.Sprintf(`!window.__beforeReload && document.readyState !== 'loading' && !!(%s)`, predicate)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var ok bool
			if err := chromedp.Evaluate(check, &ok).Do(ctx); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				var state string
				dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_ = chromedp.Evaluate(`JSON.stringify({old: !!window.__beforeReload, href: location.href, online: navigator.onLine, ready: document.readyState, ctl: !!navigator.serviceWorker.controller})`, &state).Do(cdp.WithExecutor(dctx, chromedp.FromContext(ctx).Target))
				cancel()
				return fmt.Errorf("%w (page: %s)", ctx.Err(), state)
			case <-tick.C:
			}
		}
	})
}

// follow clicks a link until the page is at its address: a list that
// re-renders (fresh data arriving) may replace the link under the click.
func follow(sel string) chromedp.Action {
	js := fmt.Sprintf(`(() => { const want = window.__follow;
		if (want && location.hash === want) { window.__follow = ''; return true; }
		const a = document.querySelector(%q); if (!a) return false;
		window.__follow = a.getAttribute('href'); a.click(); return false; })()`, sel)
	return chromedp.Poll(js, nil, chromedp.WithPollingInterval(100*time.Millisecond))
}

// shotAt saves a screenshot at another viewport size, then restores the old one.
func shotAt(t *testing.T, ctx context.Context, name string, w, h, backW, backH int64) {
	t.Helper()
	if err := chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(w, h, 1, false)); err != nil {
		t.Logf("resize for %s: %v", name, err)
		return
	}
	// Wait for a frame at the new size before capturing.
	_ = chromedp.Run(ctx, chromedp.Poll(fmt.Sprintf(`window.innerWidth === %d`, w), nil, chromedp.WithPollingInterval(20*time.Millisecond)))
	shot(t, ctx, name)
	_ = chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(backW, backH, 1, false))
}
