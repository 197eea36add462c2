package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/postgres/pgtest"
)

// TestProbesReportPostmaster: /healthz answers 503 once the embedded
// cluster's supervisor has given up (issue 15: it answered 200 with the
// database gone for good), and 200 while it runs or restarts; both probes
// show its state.
func TestProbesReportPostmaster(t *testing.T) {
	db := pgtest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	state := "running"
	srv := httptest.NewServer(httpapi.New(db, gate, log, httpapi.Config{
		Postmaster: func() httpapi.PostmasterStatus { return httpapi.PostmasterStatus{State: state, Restarts: 2} },
	}).Handler())
	defer srv.Close()
	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	for _, c := range []struct {
		state   string
		healthz int
	}{{"running", 200}, {"restarting", 200}, {"failed", 503}} {
		state = c.state
		code, body := get("/healthz")
		pm, _ := body["postmaster"].(map[string]any)
		if code != c.healthz || pm["state"] != c.state || pm["restarts"] != 2.0 {
			t.Errorf("%s: healthz %d %v", c.state, code, body)
		}
		code, body = get("/readyz")
		if pm, _ := body["postmaster"].(map[string]any); code != 200 || pm["state"] != c.state {
			t.Errorf("%s: readyz %d %v", c.state, code, body)
		}
	}
}
