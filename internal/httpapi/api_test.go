package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"healthrec/internal/ident"
)

func validID(birth string, order int) string {
	first17 := "330127" + strings.ReplaceAll(birth, "-", "") + fmt.Sprintf("%03d", order)
	return first17 + string(ident.CheckChar(first17))
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	t.Run("OK", func(t *testing.T) {
		r := e.anon().req("POST", "/api/v1/login", map[string]string{"staff_code": e.f.DoctorA, "password": "secret-pass"})
		if r.Status != 200 || r.Body["token"] == "" {
			t.Fatalf("login: %d %s", r.Status, r.Raw)
		}
		ck := r.Header.Get("Set-Cookie")
		for _, want := range []string{"healthrec_session=", "HttpOnly", "Secure", "SameSite=Strict"} {
			if !strings.Contains(ck, want) {
				t.Errorf("cookie %q lacks %s", ck, want)
			}
		}
		staff := r.Body["staff"].(map[string]any)
		if staff["staff_code"] != e.f.DoctorA {
			t.Fatalf("staff = %v", staff)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		r := e.anon().req("POST", "/api/v1/login", map[string]string{"staff_code": e.f.DoctorA, "password": "nope"})
		if r.Status != 401 || r.errCode() != "unauthorized" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("RateLimited", func(t *testing.T) {
		var last int
		for i := 0; i < 7; i++ {
			last = e.anon().req("POST", "/api/v1/login", map[string]string{"staff_code": e.f.AdminB, "password": "nope"}).Status
		}
		if last != http.StatusTooManyRequests {
			t.Fatalf("after 7 failures status %d, want 429", last)
		}
	})
	t.Run("ErrNoSession", func(t *testing.T) {
		if st := e.anon().req("GET", "/api/v1/me", nil).Status; st != 401 {
			t.Fatalf("status %d", st)
		}
		if st := (&client{e: e, token: "forged"}).req("GET", "/api/v1/me", nil).Status; st != 401 {
			t.Fatalf("forged token: status %d", st)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		c := e.login(e.f.DoctorA)
		if st := c.req("POST", "/api/v1/logout", nil).Status; st != 204 {
			t.Fatalf("logout %d", st)
		}
		if st := c.req("GET", "/api/v1/me", nil).Status; st != 401 {
			t.Fatalf("after logout: %d", st)
		}
	})
}

// TestCookieCSRF checks a cookie session needs the CSRF token on unsafe methods.
func TestCookieCSRF(t *testing.T) {
	e := newEnv(t)
	r := e.anon().req("POST", "/api/v1/login", map[string]string{"staff_code": e.f.DoctorA, "password": "secret-pass"})
	cookie := strings.Split(r.Header.Get("Set-Cookie"), ";")[0]
	csrf := r.Body["csrf_token"].(string)
	c := e.anon()
	body := map[string]any{"village_code": e.f.VillageA1, "name": "王芳", "sex": "F", "birth_date": "1980-01-01"}
	if got := c.req("GET", "/api/v1/me", nil, "Cookie", cookie).Status; got != 200 {
		t.Fatalf("GET with cookie: %d", got)
	}
	if got := c.req("POST", "/api/v1/records", body, "Cookie", cookie); got.Status != 403 {
		t.Fatalf("POST without CSRF token: %d %s", got.Status, got.Raw)
	}
	if got := c.req("POST", "/api/v1/records", body, "Cookie", cookie, "X-CSRF-Token", csrf); got.Status != 201 {
		t.Fatalf("POST with CSRF token: %d %s", got.Status, got.Raw)
	}
}

func TestRecordsAPI(t *testing.T) {
	e := newEnv(t)
	doc := e.login(e.f.DoctorA)
	id := doc.fileRecord(e.f.VillageA1, "王芳", map[string]any{"id_number": validID("1955-03-08", 22), "filed_on": "2020-01-01"})

	t.Run("Created", func(t *testing.T) {
		if id != e.f.VillageA1+"0001" {
			t.Fatalf("record_id %s", id)
		}
	})
	t.Run("Get", func(t *testing.T) {
		r := doc.req("GET", "/api/v1/records/"+id, nil)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		basic := r.Body["basic"].(map[string]any)
		if basic["id_number"] != validID("1955-03-08", 22) {
			t.Fatalf("full record shows id_number %v", basic["id_number"])
		}
	})
	t.Run("SearchMasks", func(t *testing.T) {
		for _, q := range []string{"王", id, validID("1955-03-08", 22)} {
			r := doc.req("GET", "/api/v1/records?q="+q, nil)
			items := r.Body["items"].([]any)
			if r.Status != 200 || len(items) != 1 {
				t.Fatalf("q=%s: %d %s", q, r.Status, r.Raw)
			}
			got := items[0].(map[string]any)["id_number"].(string)
			if want := "330127********" + validID("1955-03-08", 22)[14:]; got != want {
				t.Fatalf("q=%s: id_number %s, want masked %s", q, got, want)
			}
		}
		// Another institution's doctor finds nothing.
		r := e.login(e.f.DoctorB).req("GET", "/api/v1/records?q=王", nil)
		if r.Body["total"].(float64) != 0 {
			t.Fatalf("doctor B found %v", r.Body["items"])
		}
	})
	t.Run("ErrFields", func(t *testing.T) {
		cases := []struct {
			name  string
			body  any
			field string
		}{
			{"BadDate", map[string]any{"village_code": e.f.VillageA1, "name": "x", "sex": "F", "birth_date": "2023-02-29"}, "birth_date"},
			{"BadSex", map[string]any{"village_code": e.f.VillageA1, "name": "x", "sex": "X", "birth_date": "1990-01-01"}, "sex"},
			{"WrongType", map[string]any{"village_code": e.f.VillageA1, "name": 5, "sex": "F", "birth_date": "1990-01-01"}, "name"},
			{"Unknown", map[string]any{"village_code": e.f.VillageA1, "nmae": "x"}, "nmae"},
			{"BadIDNumber", map[string]any{"village_code": e.f.VillageA1, "name": "x", "sex": "F", "birth_date": "1955-03-08", "id_number": validID("1955-03-08", 22)[:17] + "Y"}, "id_number"},
			{"NoVillage", map[string]any{"name": "x", "sex": "F", "birth_date": "1990-01-01"}, "village_code"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := doc.req("POST", "/api/v1/records", tc.body)
				if r.Status != 400 || r.errField() != tc.field {
					t.Fatalf("%d %s, want 400 on %s", r.Status, r.Raw, tc.field)
				}
			})
		}
		if r := doc.req("POST", "/api/v1/records", "{not json"); r.Status != 400 {
			t.Fatalf("malformed JSON: %d", r.Status)
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		r := doc.req("POST", "/api/v1/records", map[string]any{"village_code": e.f.VillageA2, "name": "王芳", "sex": "F",
			"birth_date": "1955-03-08", "id_number": validID("1955-03-08", 22)})
		if r.Status != 409 || r.Body["error"].(map[string]any)["existing_record_id"] != id {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("PatchAndHistory", func(t *testing.T) {
		r := doc.req("PATCH", "/api/v1/records/"+id, map[string]any{"phone": "0571-87654321"})
		if r.Status != 200 || r.Body["phone"] != "0571-87654321" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		h := doc.req("GET", "/api/v1/records/"+id+"/history", nil)
		items := h.Body["items"].([]any)
		change := items[0].(map[string]any)["changes"].(map[string]any)["phone"].(map[string]any)
		if change["before"] != "13912345678" || change["after"] != "0571-87654321" {
			t.Fatalf("history %s", h.Raw)
		}
	})
	t.Run("Exam", func(t *testing.T) {
		body := map[string]any{"service_date": "2024-06-01", "systolic": 128, "diastolic": 82, "height_cm": 160, "weight_kg": 64}
		r := doc.req("POST", "/api/v1/records/"+id+"/exams", body, "Idempotency-Key", "tablet-1")
		if r.Status != 201 || r.Body["bmi"].(float64) != 25 || r.Header.Get("Location") == "" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		again := doc.req("POST", "/api/v1/records/"+id+"/exams", body, "Idempotency-Key", "tablet-1")
		if again.Status != 200 || again.Body["id"] != r.Body["id"] {
			t.Fatalf("replay: %d %s", again.Status, again.Raw)
		}
		body["systolic"] = 140
		if again := doc.req("POST", "/api/v1/records/"+id+"/exams", body, "Idempotency-Key", "tablet-1"); again.Status != 409 {
			t.Fatalf("same key, other body: %d", again.Status)
		}
	})
	t.Run("Status", func(t *testing.T) {
		r := doc.req("POST", "/api/v1/records/"+id+"/status", map[string]any{"status": "deceased", "status_date": "2025-01-02"})
		if r.Status != 200 || r.Body["status"] != "deceased" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		r = doc.req("POST", "/api/v1/records/"+id+"/status", map[string]any{"status": "moved_out", "status_date": "2025-01-03", "destination": "x"})
		if r.Status != 409 || r.Body["error"].(map[string]any)["state"] != "deceased" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		if r := doc.req("GET", "/api/v1/records/"+e.f.VillageA1+"0099", nil); r.Status != 404 {
			t.Fatalf("%d", r.Status)
		}
		if r := doc.req("GET", "/api/v1/nothing", nil); r.Status != 404 {
			t.Fatalf("%d", r.Status)
		}
	})
}

// TestGate checks the casbin gate per role: who may read and write which
// record, and that every attempt on a record is in the access log.
func TestGate(t *testing.T) {
	e := newEnv(t)
	f := e.f
	inA1 := e.login(f.DoctorA).fileRecord(f.VillageA1, "甲", nil)
	inA2 := e.login(f.DoctorA).fileRecord(f.VillageA2, "乙", nil)
	inB1 := e.login(f.DoctorB).fileRecord(f.VillageB1, "丙", nil)

	visit := map[string]any{"service_date": "2024-06-01", "systolic": 120, "diastolic": 80}
	cases := []struct {
		who, method, path string
		body              any
		want              int
	}{
		{f.DoctorA, "GET", "/api/v1/records/" + inA1, nil, 200},
		{f.DoctorA, "GET", "/api/v1/records/" + inB1, nil, 403},
		{f.DoctorA, "PATCH", "/api/v1/records/" + inB1, map[string]any{"phone": "13800000001"}, 403},
		{f.DoctorA, "GET", "/api/v1/records/" + inA1 + "/access-log", nil, 403},
		{f.AdminA, "GET", "/api/v1/records/" + inA1 + "/access-log", nil, 200},
		{f.AdminA, "GET", "/api/v1/records/" + inB1 + "/access-log", nil, 403},
		{f.HomeVisitA, "GET", "/api/v1/records/" + inA1, nil, 200},
		{f.HomeVisitA, "GET", "/api/v1/records/" + inA2, nil, 403},
		{f.HomeVisitA, "PATCH", "/api/v1/records/" + inA1, map[string]any{"phone": "13800000001"}, 403},
		{f.HomeVisitA, "POST", "/api/v1/records/" + inA1 + "/exams", visit, 403},
		{f.Bureau, "GET", "/api/v1/records/" + inA1, nil, 403},
		{f.Reviewer, "GET", "/api/v1/records/" + inA1, nil, 403},
		{f.Admin, "GET", "/api/v1/records/" + inA1, nil, 403},
		{f.Requester, "GET", "/api/v1/records/" + inA1, nil, 403},
		{f.DoctorB, "POST", "/api/v1/records/" + inB1 + "/exams", visit, 201},
		{f.DoctorB, "POST", "/api/v1/records/" + inA1 + "/exams", visit, 403},
	}
	for _, tc := range cases {
		t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
			var before int
			_ = e.db.Get(&before, `SELECT count(*) FROM access_log`)
			r := e.login(tc.who).req(tc.method, tc.path, tc.body)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Raw)
			}
			if tc.want == 403 && r.Body["error"].(map[string]any)["message"] == "" {
				t.Fatal("denial without a reason")
			}
			var outcome string
			err := e.db.Get(&outcome, `SELECT outcome FROM access_log WHERE staff_code = $1 AND path = $2 ORDER BY id DESC LIMIT 1`, tc.who, tc.path)
			if err != nil {
				t.Fatalf("no access log entry: %v", err)
			}
			if want := map[bool]string{true: "allowed", false: "denied"}[tc.want < 300]; outcome != want {
				t.Fatalf("logged %s, want %s", outcome, want)
			}
		})
	}

	// A record ID that names no record answers 404 only to who could see the
	// record if it existed; anybody else gets the denial an existing record
	// would get, logged, so probing IDs tells an outsider nothing.
	t.Run("MissingRecord", func(t *testing.T) {
		missingA1, missingA2 := f.VillageA1+"9999", f.VillageA2+"9998"
		probes := []struct {
			who, method, path, existing string
			want                        int
		}{
			{f.DoctorA, "GET", "/api/v1/records/" + missingA1, "", 404},
			{f.DoctorA, "POST", "/api/v1/records/" + missingA1 + "/visits", "", 404},
			{f.HomeVisitA, "GET", "/api/v1/records/" + missingA1, "", 404},
			{f.HomeVisitA, "GET", "/api/v1/records/" + missingA2, inA2, 403},
			{f.DoctorB, "GET", "/api/v1/records/" + missingA1, inA1, 403},
			{f.DoctorB, "POST", "/api/v1/records/" + missingA1 + "/visits", inA1, 403},
			{f.Requester, "GET", "/api/v1/records/" + missingA1, inA1, 403},
			{f.Requester, "GET", "/api/v1/records/" + missingA1 + "/timeline", inA1, 403},
			{f.Bureau, "GET", "/api/v1/records/" + missingA1, inA1, 403},
		}
		body := map[string]any{"service_date": "2024-06-01", "subjective": "头晕", "assessment": "高血压"}
		for _, tc := range probes {
			c := e.login(tc.who)
			var b any
			if tc.method == "POST" {
				b = body
			}
			r := c.req(tc.method, tc.path, b)
			if r.Status != tc.want {
				t.Fatalf("%s %s %s: %d, want %d: %s", tc.who, tc.method, tc.path, r.Status, tc.want, r.Raw)
			}
			if tc.want != 403 {
				continue
			}
			var outcome string
			if err := e.db.Get(&outcome, `SELECT outcome FROM access_log WHERE staff_code = $1 AND path = $2 ORDER BY id DESC LIMIT 1`,
				tc.who, tc.path); err != nil || outcome != "denied" {
				t.Fatalf("%s %s: probe logged %q (%v), want denied", tc.who, tc.path, outcome, err)
			}
			// The same attempt on the existing record of that village: the
			// same status, and the same reason but for the ID.
			existing := strings.Replace(tc.path, tc.path[len("/api/v1/records/"):len("/api/v1/records/")+16], tc.existing, 1)
			ex := c.req(tc.method, existing, b)
			missingMsg := strings.ReplaceAll(r.errMessage(), tc.path[len("/api/v1/records/"):len("/api/v1/records/")+16], "ID")
			existingMsg := strings.ReplaceAll(ex.errMessage(), tc.existing, "ID")
			if ex.Status != r.Status || missingMsg != existingMsg {
				t.Fatalf("%s: missing record answers %d %q, existing %d %q", tc.who, r.Status, missingMsg, ex.Status, existingMsg)
			}
		}
	})

	t.Run("RouteLevel", func(t *testing.T) {
		routes := []struct {
			who, method, path string
			want              int
		}{
			{f.DoctorA, "POST", "/api/v1/institutions", 403},
			{f.Admin, "GET", "/api/v1/institutions", 200},
			{f.AdminA, "PUT", "/api/v1/villages/" + f.VillageA1 + "/populations/2024", 200},
			{f.AdminA, "PUT", "/api/v1/villages/" + f.VillageB1 + "/populations/2024", 403},
			{f.DoctorA, "PUT", "/api/v1/villages/" + f.VillageA1 + "/populations/2024", 403},
			{f.Bureau, "GET", "/api/v1/records", 403},
			{f.AdminA, "GET", "/api/v1/staff", 200},
			{f.AdminA, "GET", "/api/v1/staff/" + f.DoctorB, 403},
		}
		for _, tc := range routes {
			r := e.login(tc.who).req(tc.method, tc.path, map[string]any{"population": 1200})
			if tc.method == "GET" {
				r = e.login(tc.who).req(tc.method, tc.path, nil)
			}
			if r.Status != tc.want {
				t.Errorf("%s %s %s: %d, want %d: %s", tc.who, tc.method, tc.path, r.Status, tc.want, r.Raw)
			}
		}
	})
}

func TestStaffAdmin(t *testing.T) {
	e := newEnv(t)
	ra := e.login(e.f.AdminA)
	r := ra.req("POST", "/api/v1/staff", map[string]any{"staff_code": "newdoc", "name": "新医生", "institution_code": e.f.InstA,
		"roles": []map[string]string{{"role": "doctor", "domain": "inst:" + e.f.InstA}}, "password": "Initial-pass-1"})
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	// A records administrator cannot make a bureau account, nor staff elsewhere.
	r = ra.req("POST", "/api/v1/staff", map[string]any{"staff_code": "x1", "name": "x", "institution_code": e.f.InstA,
		"roles": []map[string]string{{"role": "bureau", "domain": "county:330127"}}})
	if r.Status != 403 {
		t.Fatalf("bureau role by records admin: %d", r.Status)
	}
	r = ra.req("POST", "/api/v1/staff", map[string]any{"staff_code": "x2", "name": "x", "institution_code": e.f.InstB})
	if r.Status != 403 {
		t.Fatalf("staff of another institution: %d", r.Status)
	}
	if r := ra.req("POST", "/api/v1/staff", map[string]any{"staff_code": "newdoc", "name": "x", "institution_code": e.f.InstA}); r.Status != 409 {
		t.Fatalf("duplicate staff code: %d", r.Status)
	}
	// The new doctor can log in and change their own password.
	nd := &client{e: e}
	var out struct{ Token string }
	if st := nd.do("POST", "/api/v1/login", map[string]string{"staff_code": "newdoc", "password": "Initial-pass-1"}, &out); st != 200 {
		t.Fatalf("login new doctor: %d", st)
	}
	nd.token = out.Token
	if r := nd.req("PUT", "/api/v1/staff/newdoc/password", map[string]string{"password": "short", "current_password": "Initial-pass-1"}); r.Status != 400 || r.errField() != "password" {
		t.Fatalf("short password: %d %s", r.Status, r.Raw)
	}
	if r := nd.req("PUT", "/api/v1/staff/"+e.f.DoctorA+"/password", map[string]string{"password": "Other-pass-2026"}); r.Status != 403 {
		t.Fatalf("other's password: %d", r.Status)
	}
	if r := ra.req("PUT", "/api/v1/staff/"+e.f.HomeVisitA+"/villages", map[string]any{"village_codes": []string{e.f.VillageB1}}); r.Status != 400 {
		t.Fatalf("foreign village: %d %s", r.Status, r.Raw)
	}
}

func TestProbes(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := e.anon().req("GET", p, nil); r.Status != 200 {
			t.Errorf("%s: %d", p, r.Status)
		}
	}
}
