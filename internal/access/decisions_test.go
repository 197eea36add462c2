package access

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"healthrec/internal/staff"
)

// TestCachedDecisions checks decisions are kept per grant set: callers with
// other grants, or a caller with a consent grant added, never get a
// decision made for somebody else, however the calls interleave.
func TestCachedDecisions(t *testing.T) {
	g, err := NewGate(nil, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	principal := func(code string, grants ...staff.Grant) *Principal {
		return NewPrincipal(&staff.Staff{Code: code, Grants: grants})
	}
	doctor := principal("d1", staff.Grant{Role: staff.Doctor, Domain: "inst:A"})
	sameGrants := principal("d2", staff.Grant{Role: staff.Doctor, Domain: "inst:A"})
	homeVisit := principal("h1", staff.Grant{Role: staff.HomeVisit, Domain: "inst:A"})
	requester := principal("r1", staff.Grant{Role: staff.Requester, Domain: "external"})
	granted := requester.with(staff.Grant{Role: "grantee:basic", Domain: "record:1"})
	cases := []struct {
		name          string
		p             *Principal
		dom, obj, act string
		want          bool
	}{
		{"DoctorWritesHistory", doctor, "inst:A", "record.history", "write", true},
		{"HomeVisitMayNot", homeVisit, "inst:A", "record.history", "write", false},
		{"SameGrantsSameAnswer", sameGrants, "inst:A", "record.history", "write", true},
		{"OtherInstitution", doctor, "inst:B", "record.history", "write", false},
		{"RequesterWithoutGrant", requester, "record:1", "record.basic", "read", false},
		{"RequesterWithGrant", granted, "record:1", "record.basic", "read", true},
		{"GrantIsOneRecord", granted, "record:2", "record.basic", "read", false},
		{"GrantIsReadOnly", granted, "record:1", "record.basic", "write", false},
	}
	for round := 0; round < 3; round++ { // the later rounds answer from the cache
		for _, tc := range cases {
			if got := g.AllowIn(tc.p, tc.dom, tc.obj, tc.act); got != tc.want {
				t.Fatalf("round %d, %s: %v, want %v", round, tc.name, got, tc.want)
			}
		}
	}
	if requester.GetCacheKey() == granted.GetCacheKey() || doctor.GetCacheKey() != sameGrants.GetCacheKey() {
		t.Fatalf("cache keys: requester %q, granted %q", requester.GetCacheKey(), granted.GetCacheKey())
	}
}

// TestDecisionCacheBound checks the cache starts afresh instead of growing
// past its bound.
func TestDecisionCacheBound(t *testing.T) {
	c := newDecisionCache(3)
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := c.Set(k, true); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.m) != 1 {
		t.Fatalf("%d entries kept, want 1 (reset at the bound, then d)", len(c.m))
	}
	if v, err := c.Get("d"); err != nil || !v {
		t.Fatalf("d: %v %v", v, err)
	}
	if _, err := c.Get("a"); err == nil {
		t.Fatal("a survived the reset")
	}
}
