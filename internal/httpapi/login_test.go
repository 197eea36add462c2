package httpapi_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/httpapi/openapitest"
	"healthrec/internal/postgres/pgtest"
)

// newEnvWith is newEnv with a server configuration and its log kept.
func newEnvWith(t *testing.T, cfg httpapi.Config) (*env, *syncBuffer) {
	t.Helper()
	db := pgtest.NewDB(t)
	e := &env{t: t, db: db, f: pgtest.NewFixture(t, db), now: time.Now()}
	db.Now = func() time.Time { return e.now }
	buf := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(buf, nil))
	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(openapitest.Wrap(t, httpapi.New(db, gate, log, cfg).Handler()))
	t.Cleanup(e.srv.Close)
	return e, buf
}

func (e *env) tryLogin(code, pw string, headers ...string) response {
	e.t.Helper()
	return e.anon().req("POST", "/api/v1/login", map[string]string{"staff_code": code, "password": pw}, headers...)
}

// Forwarded addresses from a peer that is not a trusted proxy are ignored:
// forging a new one per attempt does not escape the lockout.
func TestLoginForgedForwardedFor(t *testing.T) {
	e := newEnv(t)
	locked := 0
	for i := range 50 {
		ip := fmt.Sprintf("203.0.113.%d", i+1)
		if r := e.tryLogin(e.f.DoctorA, "wrong-password-1", "X-Forwarded-For", ip, "X-Real-IP", ip); r.Status == 429 {
			locked++
		} else if r.Status != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if locked != 45 {
		t.Fatalf("%d of 50 forged attempts got 429, want 45", locked)
	}
	if r := e.tryLogin(e.f.DoctorA, pgtest.Password, "X-Forwarded-For", "198.51.100.7", "X-Real-IP", "198.51.100.7"); r.Status != 429 {
		t.Fatalf("locked-out account with a new forged address: %d, want 429", r.Status)
	}
}

// Behind a configured proxy the forwarded address is the client's: one
// client's lockout does not lock the others behind the same proxy.
func TestLoginTrustedProxy(t *testing.T) {
	e, _ := newEnvWith(t, httpapi.Config{TrustedProxies: []string{"127.0.0.1/32", "::1/128"}})
	for range 5 {
		if r := e.tryLogin(e.f.DoctorA, "wrong-password-1", "X-Forwarded-For", "192.0.2.10"); r.Status != 401 {
			t.Fatalf("%d", r.Status)
		}
	}
	if r := e.tryLogin(e.f.DoctorA, pgtest.Password, "X-Forwarded-For", "192.0.2.10"); r.Status != 429 {
		t.Fatalf("locked client: %d, want 429", r.Status)
	}
	if r := e.tryLogin(e.f.DoctorA, pgtest.Password, "X-Forwarded-For", "192.0.2.11"); r.Status != 200 {
		t.Fatalf("another client behind the proxy: %d, want 200", r.Status)
	}
	if err := (httpapi.Config{TrustedProxies: []string{"not-a-cidr"}}).Validate(); err == nil {
		t.Fatal("a bad proxy list was accepted")
	}
}

// One address trying a password on many codes is stopped even though no
// single code reaches five failures. (Known codes: their fixture hashes are
// cheap, while an unknown code costs a full default-cost comparison.)
func TestLoginSprayAcrossCodes(t *testing.T) {
	e := newEnv(t)
	f := e.f
	codes := []string{f.DoctorA, f.AdminA, f.HomeVisitA, f.DoctorB, f.AdminB, f.Bureau, f.Reviewer, f.Admin, f.Requester}
	n := 0
	for round := 0; n < 30; round++ {
		for _, code := range codes {
			if n == 30 {
				break
			}
			if r := e.tryLogin(code, "Spring-2026-pass"); r.Status != 401 {
				t.Fatalf("attempt %d (%s, round %d): %d", n, code, round, r.Status)
			}
			n++
		}
	}
	if r := e.tryLogin(f.DoctorB, pgtest.Password); r.Status != 429 {
		t.Fatalf("after 30 failures on 9 codes from one address, a right password: %d, want 429", r.Status)
	}
}

func TestLoginFailuresLogged(t *testing.T) {
	e, log := newEnvWith(t, httpapi.Config{})
	for range 5 {
		e.tryLogin(e.f.DoctorA, "wrong-password-1")
	}
	e.tryLogin(e.f.DoctorA, "wrong-password-1")
	e.tryLogin("no-such-code", "wrong-password-1")
	out := log.String()
	for _, want := range []string{
		"msg=login staff_code=" + e.f.DoctorA + " client=127.0.0.1 outcome=failed",
		"msg=login staff_code=" + e.f.DoctorA + " client=127.0.0.1 outcome=locked",
		"msg=login staff_code=no-such-code client=127.0.0.1 outcome=failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "outcome=failed"); n != 6 {
		t.Errorf("%d failure lines, want 6", n)
	}
}

func TestPasswordPolicyThroughAPI(t *testing.T) {
	e := newEnv(t)
	admin, ra := e.login(e.f.Admin), e.login(e.f.AdminA)
	for i, pw := range []string{"12345678", "password", "        ", "woaini1314520", "1234567890"} {
		r := ra.req("POST", "/api/v1/staff", map[string]any{"staff_code": fmt.Sprintf("weak%d", i), "name": "弱密码",
			"institution_code": e.f.InstA, "roles": []map[string]string{{"role": "doctor", "domain": "inst:" + e.f.InstA}}, "password": pw})
		if r.Status != 400 || r.errField() != "password" || !hasHan(fieldReason(r)) {
			t.Errorf("create with %q: %d %s", pw, r.Status, r.Raw)
		}
		if r := admin.req("PUT", "/api/v1/staff/"+e.f.DoctorA+"/password", map[string]any{"password": pw}); r.Status != 400 || r.errField() != "password" {
			t.Errorf("reset to %q: %d %s", pw, r.Status, r.Raw)
		}
	}
	if r := ra.req("POST", "/api/v1/staff", map[string]any{"staff_code": "strong1", "name": "强密码", "institution_code": e.f.InstA,
		"roles": []map[string]string{{"role": "doctor", "domain": "inst:" + e.f.InstA}}, "password": "Initial-pass-1"}); r.Status != 201 {
		t.Fatalf("strong password refused: %d %s", r.Status, r.Raw)
	}
}

// Changing one's own password takes the current one; an administrator
// resetting someone else's does not.
func TestOwnPasswordNeedsCurrent(t *testing.T) {
	e := newEnv(t)
	doc := e.login(e.f.DoctorA)
	path := "/api/v1/staff/" + e.f.DoctorA + "/password"
	if r := doc.req("PUT", path, map[string]any{"password": "New-strong-pass-7"}); r.Status != 400 || r.errField() != "current_password" {
		t.Fatalf("without current: %d %s", r.Status, r.Raw)
	}
	if r := doc.req("PUT", path, map[string]any{"password": "New-strong-pass-7", "current_password": "not-my-password"}); r.Status != 400 || r.errField() != "current_password" {
		t.Fatalf("wrong current: %d %s", r.Status, r.Raw)
	}
	if r := doc.req("PUT", path, map[string]any{"password": "New-strong-pass-7", "current_password": pgtest.Password}); r.Status != 204 {
		t.Fatalf("with current: %d %s", r.Status, r.Raw)
	}
	if r := e.tryLogin(e.f.DoctorA, "New-strong-pass-7"); r.Status != 200 {
		t.Fatalf("new password: %d", r.Status)
	}
	ra := e.login(e.f.AdminA)
	if r := ra.req("PUT", "/api/v1/staff/"+e.f.HomeVisitA+"/password", map[string]any{"password": "Reset-by-admin-9"}); r.Status != 204 {
		t.Fatalf("records administrator's reset: %d %s", r.Status, r.Raw)
	}
	// Guessing the current password through a session counts towards the lockout.
	hv := e.login(e.f.DoctorB)
	for range 5 {
		hv.req("PUT", "/api/v1/staff/"+e.f.DoctorB+"/password", map[string]any{"password": "New-strong-pass-7", "current_password": "guess-guess-1"})
	}
	if r := e.tryLogin(e.f.DoctorB, pgtest.Password); r.Status != 429 {
		t.Fatalf("after five wrong current passwords, login: %d, want 429", r.Status)
	}
}

func fieldReason(r response) string {
	e, _ := r.Body["error"].(map[string]any)
	fields, _ := e["fields"].([]any)
	if len(fields) == 0 {
		return ""
	}
	f, _ := fields[0].(map[string]any)
	s, _ := f["reason"].(string)
	return s
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
