package httpapi_test

import (
	"testing"
	"time"
)

// TestSessionCacheFollowsChanges (the cache keeps sessions 5 s) checks that cached sessions never outlive
// the changes that should end or narrow them: those made through this
// server apply to the very next request, and those made elsewhere (straight
// in the database, or by another server process) within the cache's TTL.
func TestSessionCacheFollowsChanges(t *testing.T) {
	e := newEnv(t)
	admin := e.login(e.f.AdminA)
	t.Run("Deactivated", func(t *testing.T) {
		doc := e.login(e.f.DoctorA)
		if r := doc.req("GET", "/api/v1/me", nil); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
		if r := admin.req("PATCH", "/api/v1/staff/"+e.f.DoctorA, map[string]any{"active": false}); r.Status != 200 {
			t.Fatalf("deactivate: %d %s", r.Status, r.Raw)
		}
		if r := doc.req("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("deactivated staff still served from the cache: %d", r.Status)
		}
		if r := admin.req("PATCH", "/api/v1/staff/"+e.f.DoctorA, map[string]any{"active": true}); r.Status != 200 {
			t.Fatalf("reactivate: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("VillagesChanged", func(t *testing.T) {
		hv := e.login(e.f.HomeVisitA)
		if r := hv.req("GET", "/api/v1/me", nil); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
		if r := admin.req("PUT", "/api/v1/staff/"+e.f.HomeVisitA+"/villages", map[string]any{"village_codes": []string{e.f.VillageA2}}); r.Status != 200 {
			t.Fatalf("villages: %d %s", r.Status, r.Raw)
		}
		r := hv.req("GET", "/api/v1/me", nil)
		if vs, _ := r.Body["village_codes"].([]any); len(vs) != 1 || vs[0] != e.f.VillageA2 {
			t.Fatalf("villages after the change: %v", r.Body["village_codes"])
		}
	})
	t.Run("PasswordReset", func(t *testing.T) {
		hv := e.login(e.f.HomeVisitA)
		if r := hv.req("GET", "/api/v1/me", nil); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
		if r := admin.req("PUT", "/api/v1/staff/"+e.f.HomeVisitA+"/password", map[string]string{"password": "another-password1"}); r.Status != 204 {
			t.Fatalf("password: %d %s", r.Status, r.Raw)
		}
		if r := hv.req("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("session outlived a password reset: %d", r.Status)
		}
	})
	t.Run("ChangedElsewhere", func(t *testing.T) {
		doc := e.login(e.f.DoctorB)
		if r := doc.req("GET", "/api/v1/me", nil); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
		if _, err := e.db.Exec(`DELETE FROM sessions`); err != nil {
			t.Fatal(err)
		}
		e.now = e.now.Add(6 * time.Second)
		if r := doc.req("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("a session ended in the database is served after the cache TTL: %d", r.Status)
		}
	})
}
