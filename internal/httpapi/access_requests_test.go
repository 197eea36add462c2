package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"healthrec/internal/staff"
)

// addRequester adds an outside requester account.
func (e *env) addRequester(code string) {
	e.addStaff(code, "", staff.Grant{Role: staff.Requester, Domain: "external"})
}

// submitRequest files an access request and returns its ID.
func (c *client) submitRequest(record string, days int, sections ...string) int64 {
	c.e.t.Helper()
	r := c.req("POST", "/api/v1/access-requests", map[string]any{"record_id": record, "purpose": "转诊后续治疗", "sections": sections, "days": days})
	if r.Status != 201 {
		c.e.t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	return int64(r.Body["id"].(float64))
}

// decide posts one transition of an access request.
func (c *client) decide(id int64, action string, body any) response {
	c.e.t.Helper()
	return c.req("POST", fmt.Sprintf("/api/v1/access-requests/%d/%s", id, action), body)
}

func reasonBody(s string) map[string]any { return map[string]any{"reason": s} }

func consentBody(given bool) map[string]any {
	return map[string]any{"given": given, "given_by": "林秀英", "relationship": "本人", "method": "signed_form", "reference": "ZQ-2025-0001"}
}

// mustDecide posts a transition and fails unless it answers 200 in state want.
func (c *client) mustDecide(id int64, action string, body any, want string) {
	c.e.t.Helper()
	r := c.decide(id, action, body)
	if r.Status != 200 || r.Body["state"] != want {
		c.e.t.Fatalf("%s #%d: %d %s, want 200 %s", action, id, r.Status, r.Raw, want)
	}
}

// grantTo drives a request through the workflow to state to ("submitted",
// "approved", "active", "revoked", "rejected" or "refused"), with keeper
// deciding, and returns its ID.
func grantTo(requester, keeper *client, record string, days int, to string, sections ...string) int64 {
	id := requester.submitRequest(record, days, sections...)
	switch to {
	case "submitted":
		return id
	case "rejected":
		keeper.mustDecide(id, "reject", reasonBody("用途不明确"), "rejected")
		return id
	}
	keeper.mustDecide(id, "approve", reasonBody("用途正当，材料齐全"), "approved")
	switch to {
	case "approved":
		return id
	case "refused":
		keeper.mustDecide(id, "consent", consentBody(false), "refused")
		return id
	}
	keeper.mustDecide(id, "consent", consentBody(true), "active")
	if to == "revoked" {
		keeper.mustDecide(id, "revoke", reasonBody("居民要求撤回授权"), "revoked")
	}
	return id
}

func TestAccessRequestsAPI(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rid := e.login(f.DoctorA).fileRecord(f.VillageA1, "林秀英", map[string]any{"id_number": validID("1955-03-08", 24)})
	req, ra, raB := e.login(f.Requester), e.login(f.AdminA), e.login(f.AdminB)

	t.Run("ErrFields", func(t *testing.T) {
		cases := []struct {
			name  string
			body  any
			field string
		}{
			{"NoSections", map[string]any{"record_id": rid, "purpose": "p", "sections": []string{}, "days": 5}, "sections"},
			{"UnknownSection", map[string]any{"record_id": rid, "purpose": "p", "sections": []string{"history"}, "days": 5}, "sections"},
			{"Days91", map[string]any{"record_id": rid, "purpose": "p", "sections": []string{"basic"}, "days": 91}, "days"},
			{"Days0", map[string]any{"record_id": rid, "purpose": "p", "sections": []string{"basic"}, "days": 0}, "days"},
			{"DaysText", map[string]any{"record_id": rid, "purpose": "p", "sections": []string{"basic"}, "days": "30"}, "days"},
			{"NoPurpose", map[string]any{"record_id": rid, "sections": []string{"basic"}, "days": 5}, "purpose"},
			{"BadRecordID", map[string]any{"record_id": "123", "purpose": "p", "sections": []string{"basic"}, "days": 5}, "record_id"},
			{"MissingRecord", map[string]any{"record_id": f.VillageA1 + "0999", "purpose": "p", "sections": []string{"basic"}, "days": 5}, "record_id"},
			{"Unknown", map[string]any{"record_id": rid, "purpose": "p", "sections": []string{"basic"}, "days": 5, "until": "x"}, "until"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := req.req("POST", "/api/v1/access-requests", tc.body)
				if r.Status != 400 || r.errField() != tc.field {
					t.Fatalf("%d %s, want 400 on %s", r.Status, r.Raw, tc.field)
				}
			})
		}
	})

	id := req.submitRequest(rid, 30, "basic", "exams")
	path := fmt.Sprintf("/api/v1/access-requests/%d", id)

	t.Run("Submitted", func(t *testing.T) {
		r := req.req("GET", path, nil)
		if r.Status != 200 || r.Body["state"] != "submitted" || r.Body["institution_code"] != f.InstA || r.Body["requested_by"] != f.Requester {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		if r := req.req("POST", "/api/v1/access-requests", map[string]any{"record_id": rid, "purpose": "p", "sections": []string{"basic"}, "days": 5}); r.Status != 409 ||
			errState(r) != "submitted" || r.Body["error"].(map[string]any)["existing_request_id"] != float64(id) {
			t.Fatalf("second open request: %d %s", r.Status, r.Raw)
		}
		// Still no access.
		if r := req.req("GET", "/api/v1/records/"+rid, nil); r.Status != 403 {
			t.Fatalf("read while submitted: %d", r.Status)
		}
	})

	t.Run("Reach", func(t *testing.T) {
		cases := []struct {
			name   string
			c      *client
			method string
			path   string
			body   any
			want   int
		}{
			{"KeeperReads", ra, "GET", path, nil, 200},
			{"OtherInstitutionCannotSee", raB, "GET", path, nil, 404},
			{"OtherInstitutionCannotDecide", raB, "POST", path + "/approve", reasonBody("x"), 404},
			{"DoctorHasNoRoute", e.login(f.DoctorA), "POST", path + "/approve", reasonBody("x"), 403},
			{"RequesterCannotApprove", req, "POST", path + "/approve", reasonBody("x"), 403},
			{"RequesterCannotConsent", req, "POST", path + "/consent", consentBody(true), 403},
			{"KeeperCannotSubmit", ra, "POST", "/api/v1/access-requests", map[string]any{"record_id": rid, "purpose": "p", "sections": []string{"basic"}, "days": 5}, 403},
			{"BureauHasNoRoute", e.login(f.Bureau), "GET", "/api/v1/access-requests", nil, 403},
			{"BadID", ra, "GET", "/api/v1/access-requests/abc", nil, 400},
			{"NoSuchRequest", ra, "GET", "/api/v1/access-requests/99999", nil, 404},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if r := tc.c.req(tc.method, tc.path, tc.body); r.Status != tc.want {
					t.Fatalf("%d %s, want %d", r.Status, r.Raw, tc.want)
				}
			})
		}
	})

	t.Run("IllegalOrder", func(t *testing.T) {
		cases := []struct {
			action string
			body   any
		}{
			{"consent", consentBody(true)},
			{"consent", consentBody(false)},
			{"revoke", reasonBody("x")},
		}
		for _, tc := range cases {
			if r := ra.decide(id, tc.action, tc.body); r.Status != 409 || errState(r) != "submitted" {
				t.Fatalf("%s while submitted: %d %s", tc.action, r.Status, r.Raw)
			}
		}
	})

	t.Run("ErrDecisionFields", func(t *testing.T) {
		if r := ra.decide(id, "approve", map[string]any{}); r.Status != 400 || r.errField() != "reason" {
			t.Fatalf("approve without reason: %d %s", r.Status, r.Raw)
		}
		if r := ra.decide(id, "approve", reasonBody("   ")); r.Status != 400 || r.errField() != "reason" {
			t.Fatalf("approve with blank reason: %d %s", r.Status, r.Raw)
		}
	})

	ra.mustDecide(id, "approve", reasonBody("转诊需要，材料齐全"), "approved")

	t.Run("Approved", func(t *testing.T) {
		if r := ra.decide(id, "approve", reasonBody("again")); r.Status != 409 || errState(r) != "approved" {
			t.Fatalf("approve twice: %d %s", r.Status, r.Raw)
		}
		if r := req.req("GET", "/api/v1/records/"+rid, nil); r.Status != 403 {
			t.Fatalf("read before consent: %d", r.Status)
		}
		cases := []struct {
			name  string
			edit  func(map[string]any)
			field string
		}{
			{"NoGiven", func(b map[string]any) { delete(b, "given") }, "given"},
			{"BadMethod", func(b map[string]any) { b["method"] = "wechat" }, "method"},
			{"NoGivenBy", func(b map[string]any) { b["given_by"] = "" }, "given_by"},
			{"NoReference", func(b map[string]any) { delete(b, "reference") }, "reference"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				b := consentBody(true)
				tc.edit(b)
				if r := ra.decide(id, "consent", b); r.Status != 400 || r.errField() != tc.field {
					t.Fatalf("%d %s, want 400 on %s", r.Status, r.Raw, tc.field)
				}
			})
		}
	})

	ra.mustDecide(id, "consent", consentBody(true), "active")

	t.Run("Active", func(t *testing.T) {
		r := req.req("GET", "/api/v1/records/"+rid, nil)
		if r.Status != 200 || r.Body["basic"] == nil || r.Body["basic"].(map[string]any)["name"] != "林秀英" {
			t.Fatalf("grantee read: %d %s", r.Status, r.Raw)
		}
		// The requester sees the request without the name of who consented;
		// the keeper sees all of it, with every transition.
		mine := req.req("GET", path, nil)
		if c := mine.Body["consent"].(map[string]any); c["given_by"] != nil || c["given"] != true {
			t.Fatalf("requester's view of consent: %v", c)
		}
		if strings.Contains(string(mine.Raw), "林秀英") {
			t.Fatalf("requester's view names the resident: %s", mine.Raw)
		}
		full := ra.req("GET", path, nil)
		if c := full.Body["consent"].(map[string]any); c["given_by"] != "林秀英" || c["reference"] != "ZQ-2025-0001" || c["recorded_by"] != f.AdminA {
			t.Fatalf("keeper's view of consent: %v", c)
		}
		trs := full.Body["transitions"].([]any)
		var got []string
		for _, tr := range trs {
			m := tr.(map[string]any)
			if m["by"] == "" || m["at"] == "" {
				t.Fatalf("transition without who or when: %v", m)
			}
			got = append(got, fmt.Sprintf("%v→%v", m["from"], m["to"]))
		}
		if want := "→submitted ,submitted→approved ,approved→active"; strings.Join(got, " ,") != want {
			t.Fatalf("transitions %v, want %s", got, want)
		}
		exp, _ := time.Parse(time.RFC3339, full.Body["expires_at"].(string))
		act, _ := time.Parse(time.RFC3339, full.Body["activated_at"].(string))
		if exp.Sub(act) != 30*24*time.Hour {
			t.Fatalf("grant runs %v, want 30 days", exp.Sub(act))
		}
	})

	t.Run("List", func(t *testing.T) {
		other := e.login(f.DoctorB).fileRecord(f.VillageB1, "周桂兰", nil)
		req.submitRequest(other, 10, "exams")
		e.addRequester("req2")
		cases := []struct {
			name  string
			c     *client
			query string
			want  float64
		}{
			{"RequesterOwn", req, "", 2},
			{"RequesterActive", req, "?state=active", 1},
			{"RequesterSubmitted", req, "?state=submitted", 1},
			{"KeeperA", ra, "", 1},
			{"KeeperB", raB, "", 1},
			{"KeeperBActive", raB, "?state=active", 0},
			{"ByRecord", ra, "?record_id=" + rid, 1},
			{"OtherRequester", e.login("req2"), "", 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.c.req("GET", "/api/v1/access-requests"+tc.query, nil)
				if r.Status != 200 || r.Body["total"] != tc.want {
					t.Fatalf("%d %s, want total %v", r.Status, r.Raw, tc.want)
				}
			})
		}
		for _, q := range []string{"?state=pending", "?record_id=abc", "?per_page=0"} {
			if r := ra.req("GET", "/api/v1/access-requests"+q, nil); r.Status != 400 {
				t.Fatalf("%s: %d", q, r.Status)
			}
		}
	})

	t.Run("RevokedFromNextRequest", func(t *testing.T) {
		if r := req.req("GET", "/api/v1/records/"+rid+"/exams", nil); r.Status != 200 {
			t.Fatalf("before revocation: %d", r.Status)
		}
		ra.mustDecide(id, "revoke", reasonBody("居民本人要求撤回"), "revoked")
		r := req.req("GET", "/api/v1/records/"+rid+"/exams", nil)
		if r.Status != 403 {
			t.Fatalf("after revocation: %d %s", r.Status, r.Raw)
		}
		var outcome string
		var grant *int64
		_ = e.db.QueryRow(`SELECT outcome, grant_id FROM access_log WHERE staff_code = $1 ORDER BY id DESC LIMIT 1`, f.Requester).Scan(&outcome, &grant)
		if outcome != "denied" || grant != nil {
			t.Fatalf("logged %s via grant %v, want denied without grant", outcome, grant)
		}
		if r := ra.decide(id, "revoke", reasonBody("again")); r.Status != 409 || errState(r) != "revoked" {
			t.Fatalf("revoke twice: %d %s", r.Status, r.Raw)
		}
		// A new request can follow a revoked one.
		req.submitRequest(rid, 5, "basic")
	})
}

// TestGrantExpiry moves the server clock across a grant's expiry between two
// requests: the grant holds up to the instant before, and not at it.
func TestGrantExpiry(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rid := e.login(f.DoctorA).fileRecord(f.VillageA1, "林秀英", nil)
	id := grantTo(e.login(f.Requester), e.login(f.AdminA), rid, 1, "active", "basic")
	var expires time.Time
	if err := e.db.Get(&expires, `SELECT expires_at FROM access_requests WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	read := func() int {
		// A session lasts 12 hours of the same clock: sign in again at each step.
		return e.login(f.Requester).req("GET", "/api/v1/records/"+rid, nil).Status
	}
	if st := read(); st != 200 {
		t.Fatalf("at activation: %d", st)
	}
	e.now = expires.Add(-time.Second)
	if st := read(); st != 200 {
		t.Fatalf("a second before expiry: %d", st)
	}
	e.now = expires
	if st := read(); st != 403 {
		t.Fatalf("at expiry: %d", st)
	}
	ra := e.login(f.AdminA)
	r := ra.req("GET", fmt.Sprintf("/api/v1/access-requests/%d", id), nil)
	if r.Body["state"] != "expired" {
		t.Fatalf("state %v, want expired", r.Body["state"])
	}
	if r := ra.decide(id, "revoke", reasonBody("x")); r.Status != 409 || errState(r) != "expired" {
		t.Fatalf("revoke expired: %d %s", r.Status, r.Raw)
	}
	if r := ra.req("GET", "/api/v1/access-requests?state=expired", nil); r.Body["total"] != float64(1) {
		t.Fatalf("expired filter: %s", r.Raw)
	}
}

// TestNoSelfApproval gives one person both a records administrator role at
// the keeping institution and a requester account: they may file a request
// but never decide it.
func TestNoSelfApproval(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rid := e.login(f.DoctorA).fileRecord(f.VillageA1, "林秀英", nil)
	e.addStaff("raA2", f.InstA, staff.Grant{Role: staff.RecordsAdmin, Domain: staff.InstitutionDomain(f.InstA)},
		staff.Grant{Role: staff.Requester, Domain: "external"})
	self := e.login("raA2")
	id := self.submitRequest(rid, 10, "exams")
	for _, tc := range []struct {
		action string
		body   any
	}{{"approve", reasonBody("自己批准")}, {"reject", reasonBody("自己驳回")}} {
		r := self.decide(id, tc.action, tc.body)
		if r.Status != 403 || !strings.Contains(r.Body["error"].(map[string]any)["message"].(string), "本人") {
			t.Fatalf("%s own request: %d %s", tc.action, r.Status, r.Raw)
		}
	}
	other := e.login(f.AdminA)
	other.mustDecide(id, "approve", reasonBody("用途正当"), "approved")
	if r := self.decide(id, "consent", consentBody(true)); r.Status != 403 {
		t.Fatalf("consent on own request: %d %s", r.Status, r.Raw)
	}
	other.mustDecide(id, "consent", consentBody(true), "active")
	// Giving up one's own grant is always allowed.
	self.mustDecide(id, "revoke", reasonBody("不再需要"), "revoked")
}

func TestRejectedAndRefused(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rid := e.login(f.DoctorB).fileRecord(f.VillageB1, "周桂兰", nil)
	req, raB := e.login(f.Requester), e.login(f.AdminB)
	rejected := grantTo(req, raB, rid, 10, "rejected", "basic")
	if r := raB.decide(rejected, "approve", reasonBody("改批")); r.Status != 409 || errState(r) != "rejected" {
		t.Fatalf("approve rejected: %d %s", r.Status, r.Raw)
	}
	refused := grantTo(req, raB, rid, 10, "refused", "basic")
	if r := raB.decide(refused, "consent", consentBody(true)); r.Status != 409 || errState(r) != "refused" {
		t.Fatalf("consent after refusal: %d %s", r.Status, r.Raw)
	}
	if r := req.req("GET", "/api/v1/records/"+rid, nil); r.Status != 403 {
		t.Fatalf("read after refusal: %d", r.Status)
	}
}

// TestAccessRequestCards: the list carries each request's history, and the
// resident's name for the record's keeper only.
func TestAccessRequestCards(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rid := e.login(f.DoctorA).fileRecord(f.VillageA1, "林秀英", nil)
	req, ra := e.login(f.Requester), e.login(f.AdminA)
	grantTo(req, ra, rid, 30, "rejected", "exams")
	for who, c := range map[string]*client{"keeper": ra, "requester": req} {
		r := c.req("GET", "/api/v1/access-requests?state=rejected", nil)
		items, _ := r.Body["items"].([]any)
		if r.Status != 200 || len(items) != 1 {
			t.Fatalf("%s: %d %s", who, r.Status, r.Raw)
		}
		it := items[0].(map[string]any)
		trs, _ := it["transitions"].([]any)
		if len(trs) != 2 || trs[1].(map[string]any)["to"] != "rejected" || trs[1].(map[string]any)["reason"] != "用途不明确" {
			t.Errorf("%s: transitions = %v", who, it["transitions"])
		}
		if sn, _ := it["staff_names"].(map[string]any); sn[f.Requester] != "人员"+f.Requester || sn[f.AdminA] != "人员"+f.AdminA {
			t.Errorf("%s: staff_names = %v", who, it["staff_names"])
		}
		name, _ := it["resident_name"].(string)
		if (who == "keeper") != (name == "林秀英") {
			t.Errorf("%s: resident_name = %q", who, name)
		}
	}
}
