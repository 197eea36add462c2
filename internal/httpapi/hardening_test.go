package httpapi_test

import (
	"strings"
	"testing"
)

// Every API answer, personal data or not, stays out of caches.
func TestAPINoStore(t *testing.T) {
	e := newEnv(t)
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "缓存测试", nil)
	for _, r := range []response{
		doc.req("GET", "/api/v1/records/"+rid, nil),
		doc.req("GET", "/api/v1/records?q=缓存", nil),
		doc.req("GET", "/api/v1/me", nil),
		e.tryLogin(e.f.DoctorA, "wrong-password-1"),
	} {
		if got := r.Header.Get("Cache-Control"); got != "no-store" && r.Status != 404 {
			t.Errorf("%d answer: Cache-Control %q, want no-store", r.Status, got)
		}
	}
}

// Invalid UTF-8 and lone surrogates are refused with the field named, not
// stored as U+FFFD.
func TestInvalidUTF8Refused(t *testing.T) {
	e := newEnv(t)
	ra := e.login(e.f.AdminA)
	path := "/api/v1/staff/" + e.f.DoctorA
	for _, body := range []string{
		"{\"name\":\"王\xff医生\"}",
		`{"name":"王\ud800医生"}`,
		`{"name":"王\udc00医生"}`,
		`{"name":"王\u0000医生"}`,
		"{\"phone\":\"138\",\"name\":\"\xe5\x8c\"}",
	} {
		r := ra.req("PATCH", path, body)
		if r.Status != 400 || r.errField() != "name" {
			t.Errorf("%q: %d %s", body, r.Status, r.Raw)
		}
	}
	if r := ra.req("PATCH", path, `{"name":"王\ud83d\ude00医生"}`); r.Status != 200 || r.Body["name"] != "王😀医生" {
		t.Fatalf("a surrogate pair is a character: %d %s", r.Status, r.Raw)
	}
	r := ra.req("GET", path, nil)
	if strings.ContainsRune(r.Body["name"].(string), '\uFFFD') {
		t.Fatalf("stored %q", r.Body["name"])
	}
	if r := ra.req("PATCH", path, "{\"n\xffme\":\"x\"}"); r.Status != 400 {
		t.Fatalf("invalid UTF-8 in a member name: %d", r.Status)
	}
}

// A value PostgreSQL refuses comes back in Chinese, without the database's
// own words.
func TestNoDatabaseTextIn400(t *testing.T) {
	e := newEnv(t)
	ra := e.login(e.f.AdminA)
	r := ra.req("PUT", "/api/v1/villages/"+e.f.VillageA1+"/populations/2026", `{"population":10000000000}`)
	if r.Status != 400 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if s := string(r.Raw); strings.Contains(s, "integer") || strings.Contains(s, "range") || !hasHan(r.errMessage()) {
		t.Fatalf("database text in the answer: %s", s)
	}
}

// A known path with another method is 405 with Allow and the JSON error.
func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	doc := e.login(e.f.DoctorA)
	for _, c := range []struct {
		client              *client
		method, path, allow string
	}{
		{doc, "DELETE", "/api/v1/me", "GET"},
		{e.anon(), "GET", "/api/v1/login", "POST"},
		{doc, "PUT", "/api/v1/records", "GET, POST"},
	} {
		r := c.client.req(c.method, c.path, nil)
		if r.Status != 405 || r.errCode() != "method_not_allowed" || !hasHan(r.errMessage()) {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Raw)
		}
		if got := r.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

// A refused referral transition does not tell which record the referral
// belongs to; the access log still has the full reason.
func TestReferral403NamesNoRecord(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	docA := e.login(e.f.DoctorA)
	rid := docA.fileRecord(e.f.VillageA1, "转诊保密", nil)
	p := docA.issue(rid, "2024-06-01", "")
	docB := e.login(e.f.DoctorB)
	for move, body := range map[string]any{"receive": nil, "return": backSlip, "close": map[string]any{"reason": "x"}} {
		r := docB.mustReq("POST", p+"/"+move, body, 403)
		if strings.Contains(string(r.Raw), rid) {
			t.Errorf("%s: the 403 names the record: %s", move, r.Raw)
		}
		if who, _, out := e.lastAccess(rid); who != e.f.DoctorB || out != "denied" {
			t.Errorf("%s: denial not logged: %s %s", move, who, out)
		}
	}
}

// A records administrator registers villages under a township their
// institution serves, not under another institution's.
func TestRecordsAdminVillageUnderOtherTownship(t *testing.T) {
	e := newEnv(t)
	raA := e.login(e.f.AdminA)
	townshipB := e.f.VillageB1[:9]
	r := raA.req("POST", "/api/v1/regions", map[string]any{"code": townshipB + "199", "name": "越界村", "institution_code": e.f.InstA})
	if r.Status != 403 || !strings.Contains(r.errMessage(), townshipB) {
		t.Fatalf("village under institution B's township: %d %s", r.Status, r.Raw)
	}
	if r := raA.req("GET", "/api/v1/regions/"+townshipB+"199", nil); r.Status != 404 {
		t.Fatalf("the refused village exists: %d", r.Status)
	}
	raA.mustReq("POST", "/api/v1/regions", map[string]any{"code": e.f.VillageA1[:9] + "199", "name": "新村", "institution_code": e.f.InstA}, 201)
	e.login(e.f.Admin).mustReq("POST", "/api/v1/regions", map[string]any{"code": townshipB + "198", "name": "划入村", "institution_code": e.f.InstA}, 201)
}
