package openapitest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/httpapi/openapitest"
	"healthrec/internal/postgres/pgtest"
)

// catcher is a test that keeps the validator's complaints instead of
// failing, so a test can show that they are made.
type catcher struct {
	testing.TB
	errs []string
}

func (c *catcher) Errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

type server struct {
	t     *testing.T
	h     http.Handler
	f     *pgtest.Fixture
	token string
}

func newServer(t *testing.T) *server {
	db := pgtest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, h: httpapi.New(db, gate, log, httpapi.Config{}).Handler(), f: pgtest.NewFixture(t, db)}
	var out struct {
		Token string `json:"token"`
	}
	st, raw := s.serve(s.h, "POST", "/api/v1/login", map[string]any{"staff_code": s.f.DoctorA, "password": pgtest.Password})
	_ = json.Unmarshal(raw, &out)
	if st != 200 {
		t.Fatalf("login: %d %s", st, raw)
	}
	s.token = out.Token
	return s
}

func (s *server) serve(h http.Handler, method, path string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		r.Header.Set("Authorization", "Bearer "+s.token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// with adds a member to a JSON object.
func with(t *testing.T, raw []byte, k string, v any) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m[k] = v
	return m
}

// TestUndocumented: a field the document lacks fails the test — in an
// answer, and in a request the server accepted — and so does a route the
// document lacks; the server's own answers pass, a refused request with an
// unknown member (the server's 400) too.
func TestUndocumented(t *testing.T) {
	if os.Getenv("HEALTHREC_OPENAPI_RECORD") != "" {
		t.Skip("recording: nothing is validated")
	}
	s := newServer(t)
	st, rec := s.serve(s.h, "POST", "/api/v1/records", map[string]any{"village_code": s.f.VillageA1, "name": "张秀英", "sex": "F",
		"birth_date": "1955-03-08", "residence_type": "户籍", "ethnicity": "汉族", "phone": "13912345678"})
	if st != 201 {
		t.Fatalf("file: %d %s", st, rec)
	}
	var r struct {
		RecordID string `json:"record_id"`
	}
	_ = json.Unmarshal(rec, &r)
	visits := "/api/v1/records/" + r.RecordID + "/visits"
	visit := map[string]any{"service_date": "2024-06-01", "subjective": "头晕三天", "assessment": "高血压"}

	// The server as it is: nothing to say.
	c := &catcher{TB: t}
	real := openapitest.Wrap(c, s.h)
	s.serve(real, "GET", "/api/v1/me", nil)
	st, created := s.serve(real, "POST", visits, visit)
	s.serve(real, "POST", visits, with(t, mustJSON(visit), "surprise", 1)) // 400 未知字段
	if st != 201 || len(c.errs) != 0 {
		t.Fatalf("the server's own exchanges: %d %v", st, c.errs)
	}

	// A server that says more than the document: each is a failure.
	_, me := s.serve(s.h, "GET", "/api/v1/me", nil)
	for _, tc := range []struct {
		name, method, path string
		body               any
		answer             func(w http.ResponseWriter)
		want               string
	}{
		{"an undocumented field in an answer", "GET", "/api/v1/me", nil, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(with(t, me, "surprise", true))
		}, "surprise"},
		{"an undocumented field in an accepted request", "POST", visits, with(t, mustJSON(visit), "surprise", 1), func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			_, _ = w.Write(created)
		}, "surprise"},
		{"an undocumented query parameter", "GET", "/api/v1/me?surprise=1", nil, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(me)
		}, "surprise"},
		{"an undocumented route", "GET", "/api/v1/surprise", nil, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		}, "route not in the document"},
		{"an undocumented status", "GET", "/api/v1/me", nil, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(202)
			_, _ = w.Write(me)
		}, "202"},
	} {
		c := &catcher{TB: t}
		stub := openapitest.Wrap(c, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { tc.answer(w) }))
		s.serve(stub, tc.method, tc.path, tc.body)
		if len(c.errs) == 0 || !strings.Contains(strings.Join(c.errs, "\n"), tc.want) {
			t.Errorf("%s: %v", tc.name, c.errs)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestServed: the document is served at /api/v1/openapi.json without
// signing in, and is valid OpenAPI 3.
func TestServed(t *testing.T) {
	s := newServer(t)
	s.token = ""
	st, raw := s.serve(openapitest.Wrap(t, s.h), "GET", "/api/v1/openapi.json", nil)
	if st != 200 || !bytes.Equal(raw, httpapi.OpenAPI()) {
		t.Fatalf("openapi.json: %d, %d bytes", st, len(raw))
	}
	if _, err := openapitest.Load(raw); err != nil {
		t.Fatal(err)
	}
}
