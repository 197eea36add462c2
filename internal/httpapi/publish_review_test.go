package httpapi_test

import (
	"fmt"
	"testing"
)

// TestPublishProposesCases publishes a snapshot whose doctors are warned and
// checks that the review office finds a proposed case for each of them,
// exactly once even when the proposal is repeated.
func TestPublishProposesCases(t *testing.T) {
	e := newEnv(t)
	f := e.f
	e.login(f.DoctorA).fileRecord(f.VillageA1, "甲", map[string]any{"filed_on": "2024-01-01"})
	e.login(f.DoctorB).fileRecord(f.VillageB1, "乙", map[string]any{"filed_on": "2024-01-01"})
	r := e.login(f.Bureau).req("POST", "/api/v1/snapshots", map[string]any{"title": "2026 年预考核", "as_of": "2026-06-30", "sample": "all", "seed": 1})
	if r.Status != 201 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	if n, _ := r.Body["cases_proposed"].(float64); n < 2 {
		t.Fatalf("cases_proposed = %v, want one per warned doctor and institution: %.500s", r.Body["cases_proposed"], r.Raw)
	}
	cases := e.login(f.Reviewer).req("GET", "/api/v1/cases", nil)
	if cases.Status != 200 {
		t.Fatalf("cases: %d %s", cases.Status, cases.Raw)
	}
	items, _ := cases.Body["items"].([]any)
	subjects := map[string]bool{}
	for _, it := range items {
		c := it.(map[string]any)
		if c["source"] != "snapshot" {
			continue
		}
		key, _ := c["subject_code"].(string)
		if subjects[key] {
			t.Fatalf("two proposals for %s", key)
		}
		subjects[key] = true
	}
	if !subjects[f.DoctorA] || !subjects[f.DoctorB] {
		t.Fatalf("proposed subjects %v, want both doctors: %.800s", subjects, cases.Raw)
	}
}

// TestPublishWithoutWarningsRegisters: a snapshot whose county has no
// warnings (nobody below target, too few scopes for a bottom three) still
// registers with the review in the same publish.
func TestPublishWithoutWarningsRegisters(t *testing.T) {
	e := newEnv(t)
	put := e.login(e.f.Bureau).req("PUT", "/api/v1/targets", map[string]any{"coverage": 0, "quality": 0, "usage": 0})
	if put.Status != 200 {
		t.Fatalf("targets: %d %s", put.Status, put.Raw)
	}
	pub := e.login(e.f.Bureau).req("POST", "/api/v1/snapshots", map[string]any{"title": "无预警", "as_of": "2026-06-30", "sample": "all", "seed": 1})
	if pub.Status != 201 {
		t.Fatalf("publish: %d %s", pub.Status, pub.Raw)
	}
	if n, _ := pub.Body["warnings"].(float64); n != 0 {
		t.Fatalf("the test needs a snapshot without warnings, got %v", pub.Body["warnings"])
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM review_snapshots WHERE snapshot_id = $1`, fmt.Sprint(pub.Body["id"])); err != nil || n != 1 {
		t.Fatalf("registered %d times with the review, err %v", n, err)
	}
}
