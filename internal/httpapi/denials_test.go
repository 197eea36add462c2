package httpapi_test

import (
	"strings"
	"testing"

	"healthrec/internal/postgres/pgtest"
)

// deniedRows counts the denials logged for a caller on a path, on record
// ("" for routes that name no record).
func (e *env) deniedRows(staffCode, record, path string) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM access_log WHERE staff_code = $1 AND record_id = $2 AND path = $3 AND outcome = 'denied'
		AND reason <> ''`, staffCode, record, path); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestDenialsLogged: every refusal is in the access log, also those no
// record check decides: referral transitions refused to roles without
// referral rights (on the referral's record), writes without the CSRF
// token, and refusals on routes that name no record (record ID empty).
func TestDenialsLogged(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	rid := doc.fileRecord(f.VillageA1, "郑十", nil)
	ref := doc.issue(rid, "2024-06-01", "")

	t.Run("ReferralWithoutRights", func(t *testing.T) {
		for _, tc := range []struct{ who, move string }{{f.HomeVisitA, "receive"}, {f.Bureau, "close"}, {f.Reviewer, "return"}} {
			e.login(tc.who).mustReq("POST", ref+"/"+tc.move, map[string]any{"reason": "x"}, 403)
			if n := e.deniedRows(tc.who, rid, ref+"/"+tc.move); n != 1 {
				t.Errorf("%s %s: %d denials logged on the record, want 1", tc.who, tc.move, n)
			}
		}
		// Refused by the record check, the answer does not name the record.
		r := e.login(f.DoctorB).mustReq("POST", ref+"/close", map[string]any{"reason": "x"}, 403)
		if strings.Contains(string(r.Raw), rid) {
			t.Errorf("refusal names the record: %s", r.Raw)
		}
		if n := e.deniedRows(f.DoctorB, rid, ref+"/close"); n != 1 {
			t.Errorf("record check refusal: %d denials logged, want 1", n)
		}
		e.login(f.HomeVisitA).mustReq("POST", "/api/v1/referrals/999999/receive", nil, 403)
		if n := e.deniedRows(f.HomeVisitA, "", "/api/v1/referrals/999999/receive"); n != 1 {
			t.Errorf("unknown referral: %d denials logged, want 1", n)
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		r := e.anon().req("POST", "/api/v1/login", map[string]string{"staff_code": f.DoctorA, "password": pgtest.Password})
		cookie := strings.Split(r.Header.Get("Set-Cookie"), ";")[0]
		c := e.anon()
		path := "/api/v1/records/" + rid + "/visits"
		if got := c.req("POST", path, visitBody("2024-06-01"), "Cookie", cookie, "X-CSRF-Token", "wrong"); got.Status != 403 {
			t.Fatalf("wrong CSRF token: %d %s", got.Status, got.Raw)
		}
		if n := e.deniedRows(f.DoctorA, rid, path); n != 1 {
			t.Errorf("wrong token on a record: %d denials logged, want 1", n)
		}
		path = "/api/v1/staff/" + f.DoctorA + "/password"
		if got := c.req("PUT", path, map[string]any{"password": "another-pass-1"}, "Cookie", cookie); got.Status != 403 {
			t.Fatalf("no CSRF token: %d %s", got.Status, got.Raw)
		}
		if n := e.deniedRows(f.DoctorA, "", path); n != 1 {
			t.Errorf("no token: %d denials logged, want 1", n)
		}
	})

	t.Run("NoRecord", func(t *testing.T) {
		e.login(f.Bureau).mustReq("POST", "/api/v1/staff", map[string]any{"staff_code": "x", "name": "x"}, 403)
		if n := e.deniedRows(f.Bureau, "", "/api/v1/staff"); n != 1 {
			t.Errorf("route refusal: %d denials logged, want 1", n)
		}
		// A handler's own reach check: a doctor drills into another
		// institution's doctor.
		doc.mustReq("GET", "/api/v1/reports/rates/records?level=doctor&scope_code="+f.DoctorB, nil, 403)
		if n := e.deniedRows(f.DoctorA, "", "/api/v1/reports/rates/records"); n != 1 {
			t.Errorf("handler refusal: %d denials logged, want 1", n)
		}
	})

	t.Run("GateDenialOnce", func(t *testing.T) {
		path := "/api/v1/records/" + rid
		e.login(f.DoctorB).mustReq("GET", path, nil, 403)
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM access_log WHERE staff_code = $1 AND path = $2`, f.DoctorB, path); err != nil {
			t.Fatal(err)
		}
		if n != 3 { // one per section of the record page, no extra row
			t.Errorf("%d rows, want 3", n)
		}
	})
}
