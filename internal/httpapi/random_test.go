package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"healthrec/internal/postgres/pgtest"
)

// TestRandomizedAPI sends 10,000 malformed bodies and parameters across every
// route, as callers of every role, and asserts the server never answers 500
// and never panics (a panic is a 500 from the recovery middleware).
func TestRandomizedAPI(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rid := e.login(f.DoctorA).fileRecord(f.VillageA1, "随机", nil)
	who := []string{"", f.DoctorA, f.AdminA, f.HomeVisitA, f.Bureau, f.Reviewer, f.Admin, f.Requester}
	clients := make([]*client, len(who))
	for i, code := range who {
		clients[i] = e.anon()
		if code != "" {
			clients[i] = e.login(code)
		}
	}
	// Random input is no contract: this server is not held to the document.
	e.srv.Config.Handler = e.engine
	routes := e.engine.Routes()
	r := rand.New(rand.NewPCG(1, 2))
	params := []string{rid, f.VillageA1, "1", "0", "-1", "99999999999999999999", "abc", "%00", "..%2F..", "2024", "330127",
		f.DoctorA, "😀", strings.Repeat("9", 300), "null"}
	queries := []string{"", "?page=0", "?page=-1&per_page=100000", "?per_page=abc", "?q=%27%3B--", "?as_of=2023-02-30",
		"?as_of=x&sample=-5&seed=abc", "?village_code=" + f.VillageA1 + "&as_of=1899-01-01", "?format=exe", "?dry_run=maybe",
		"?parent=" + strings.Repeat("1", 100), "?level=doctor&scope_code=%FF", "?open_over_days=-3", "?year=abc"}
	const total = 10000
	counts := map[int]int{}
	for i := 0; i < total; i++ {
		rt := routes[r.IntN(len(routes))]
		// Logout has no input to malform, and ending sessions at random
		// would only spend the run on signing in again.
		if rt.Path == "/metrics" || rt.Path == "/api/v1/logout" || strings.HasPrefix(rt.Path, "/static") {
			continue
		}
		path := fillParams(rt.Path, func() string { return params[r.IntN(len(params))] })
		path += queries[r.IntN(len(queries))]
		ci := r.IntN(len(clients))
		c := clients[ci]
		var body any
		if rt.Method != http.MethodGet {
			body = randomBody(r, rid, f.VillageA1)
		}
		resp := c.req(rt.Method, path, body, "Idempotency-Key", fmt.Sprint(r.IntN(20)))
		counts[resp.Status]++
		if resp.Status >= 500 {
			t.Fatalf("%s %s with %.300v: %d %s", rt.Method, path, body, resp.Status, resp.Raw)
		}
		if resp.Status == http.StatusUnauthorized && who[ci] != "" {
			// A random logout, password change or deactivation ended the
			// session: restore the account and sign in again, so that the
			// requests keep reaching the handlers.
			pgtest.ResetPassword(t, e.db, who[ci])
			clients[ci] = e.login(who[ci])
		}
	}
	t.Logf("status counts over %d requests: %v", total, counts)
}

func fillParams(path string, value func() string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = value()
		}
	}
	return strings.Join(parts, "/")
}

// randomBody returns malformed JSON text, or an object mixing plausible
// field names with values of every type.
func randomBody(r *rand.Rand, rid, village string) any {
	raw := []string{"", "{", "[]", "null", "\"x\"", "{\"a\":}", "{}", "{\"name\":\"\\u0000\"}", "12", strings.Repeat("[", 1000),
		"{\"village_code\":" + strings.Repeat("9", 400) + "}"}
	if r.IntN(4) == 0 {
		return raw[r.IntN(len(raw))]
	}
	fields := []string{"record_id", "village_code", "name", "sex", "birth_date", "id_number", "phone", "contact_phone", "status",
		"status_date", "destination", "service_date", "systolic", "diastolic", "height_cm", "weight_kg", "staff_code", "password",
		"roles", "population", "from_date", "village_codes", "code", "institution_code", "county_code", "details", "programme",
		"enrolled_on", "purpose", "sections", "days", "reason", "given", "to", "due_date", "owner", "holidays", "coverage", "as_of",
		"sample", "seed", "method", "next_date", "kind", "evidence", "accepted", "facts", "subject"}
	values := []any{nil, "", "x", -1, 0, 1e300, 3.5, true, "2024-02-30", "2024-02-29", "1899-12-31", "9999-12-31", rid, village,
		[]any{}, []any{"basic", 5}, map[string]any{}, map[string]any{"k": []any{nil}}, strings.Repeat("长", 5000), "13800000000",
		"33012719550308002X", "M", "F", "active", "deceased", "moved_out", -2147483649, "doctor", []map[string]string{{"role": "admin", "domain": "system"}}}
	body := map[string]any{}
	for n := r.IntN(6); n >= 0; n-- {
		body[fields[r.IntN(len(fields))]] = values[r.IntN(len(values))]
	}
	return body
}
