package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"healthrec/internal/pdfdoc/pdftest"
)

// TestPublishProposesCases publishes a snapshot whose doctors are warned and
// checks that the review office finds a proposed case for each of them,
// exactly once even when the proposal is repeated.
func TestPublishProposesCases(t *testing.T) {
	e := newEnv(t)
	f := e.f
	e.login(f.DoctorA).fileRecord(f.VillageA1, "甲", map[string]any{"filed_on": "2024-01-01"})
	e.login(f.DoctorB).fileRecord(f.VillageB1, "乙", map[string]any{"filed_on": "2024-01-01"})
	r := e.login(f.Bureau).req("POST", "/api/v1/snapshots", map[string]any{"kind": "assessment", "title": "2026 年上半年考核", "as_of": "2026-06-30", "sample": "all", "seed": 1})
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
	pub := e.login(e.f.Bureau).req("POST", "/api/v1/snapshots", map[string]any{"kind": "assessment", "title": "无预警", "as_of": "2026-06-30", "sample": "all", "seed": 1})
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

// TestSnapshotKinds: one snapshot per county, kind and as-of date (a second
// publish is 409 naming the first); a correction supersedes the one in force
// with a reason, the superseded one stays readable and marked; a
// pre-assessment proposes no case, and neither does rank above target.
func TestSnapshotKinds(t *testing.T) {
	e := newEnv(t)
	f := e.f
	e.login(f.DoctorA).fileRecord(f.VillageA1, "甲", map[string]any{"filed_on": "2024-01-01"})
	e.login(f.DoctorB).fileRecord(f.VillageB1, "乙", map[string]any{"filed_on": "2024-01-01"})
	bureau, rev := e.login(f.Bureau), e.login(f.Reviewer)
	body := func(kind string, extra ...any) map[string]any {
		b := map[string]any{"kind": kind, "as_of": "2026-04-30", "sample": "all", "seed": 1}
		for i := 0; i+1 < len(extra); i += 2 {
			b[extra[i].(string)] = extra[i+1]
		}
		return b
	}
	pre := bureau.req("POST", "/api/v1/snapshots", body("pre_assessment"))
	if pre.Status != 201 || pre.Body["kind"] != "pre_assessment" || pre.Body["cases_proposed"] != 0.0 {
		t.Fatalf("pre-assessment: %d %.300s", pre.Status, pre.Raw)
	}
	if n, _ := pre.Body["warnings"].(float64); n == 0 {
		t.Fatalf("the pre-assessment should warn (no population registered): %.300s", pre.Raw)
	}
	if r := rev.req("GET", "/api/v1/cases", nil); r.Body["total"] != 0.0 {
		t.Fatalf("a pre-assessment opened cases: %.300s", r.Raw)
	}
	preID := pre.Body["id"].(float64)

	dup := bureau.req("POST", "/api/v1/snapshots", body("pre_assessment"))
	if e, _ := dup.Body["error"].(map[string]any); dup.Status != 409 || e["existing_snapshot_id"] != preID ||
		!strings.Contains(fmt.Sprint(e["message"]), fmt.Sprint(preID)) {
		t.Fatalf("second publish: %d %s", dup.Status, dup.Raw)
	}
	// The other kind on the same date is its own snapshot.
	if r := bureau.req("POST", "/api/v1/snapshots", body("assessment")); r.Status != 201 {
		t.Fatalf("assessment on the same date: %d %s", r.Status, r.Raw)
	}

	for _, tt := range []struct {
		b     map[string]any
		code  int
		field string
	}{
		{body("pre_assessment", "supersedes", preID), 400, "reason"},
		{body("pre_assessment", "reason", "更正"), 400, "reason"},
		{body("assessment", "supersedes", preID, "reason", "更正"), 400, "supersedes"},
		{body("pre_assessment", "supersedes", 99999, "reason", "更正"), 400, "supersedes"},
	} {
		if r := bureau.req("POST", "/api/v1/snapshots", tt.b); r.Status != tt.code || r.errField() != tt.field {
			t.Errorf("%v: %d %s", tt.b, r.Status, r.Raw)
		}
	}
	fix := bureau.req("POST", "/api/v1/snapshots", body("pre_assessment", "supersedes", preID, "reason", "补登常住人口后更正"))
	if fix.Status != 201 || fix.Body["supersedes"] != preID || fix.Body["supersede_reason"] != "补登常住人口后更正" {
		t.Fatalf("correction: %d %.300s", fix.Status, fix.Raw)
	}
	old := bureau.req("GET", fmt.Sprintf("/api/v1/snapshots/%v", preID), nil)
	if old.Status != 200 || old.Body["superseded_by"] != fix.Body["id"] {
		t.Fatalf("superseded snapshot: %d superseded_by=%v", old.Status, old.Body["superseded_by"])
	}
	again := bureau.req("POST", "/api/v1/snapshots", body("pre_assessment", "supersedes", preID, "reason", "再次更正"))
	if e, _ := again.Body["error"].(map[string]any); again.Status != 409 || e["existing_snapshot_id"] != fix.Body["id"] {
		t.Fatalf("superseding a superseded snapshot: %d %s", again.Status, again.Raw)
	}
	csv := bureau.req("GET", fmt.Sprintf("/api/v1/snapshots/%v?format=csv", preID), nil)
	if !strings.Contains(csv.Header.Get("Content-Disposition"), "pre_assessment") {
		t.Errorf("CSV name %q lacks the kind", csv.Header.Get("Content-Disposition"))
	}
	pdf := bureau.req("GET", fmt.Sprintf("/api/v1/snapshots/%v?format=pdf", preID), nil)
	if text := pdftest.Compact(t, pdf.Raw); !strings.Contains(text, "预考核") || !strings.Contains(text, fmt.Sprintf("已被快照%v取代", fix.Body["id"])) {
		t.Errorf("the superseded PDF is not marked: %.400s", text)
	}
	list := bureau.req("GET", "/api/v1/snapshots", nil)
	if list.Body["total"] != 3.0 {
		t.Errorf("list: %.500s", list.Raw)
	}
}
