package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestInboxWarningsAndCaseEvents: a pre-assessment's warnings reach the
// warned doctor and the warned institution's records administrator, with
// figures, gap and the way to the records; an assessment's proposal and
// its acceptance reach the subject; each person sees only their own
// messages and marks them read.
func TestInboxWarningsAndCaseEvents(t *testing.T) {
	e := newEnv(t)
	f := e.f
	e.login(f.DoctorA).fileRecord(f.VillageA1, "甲", map[string]any{"filed_on": "2024-01-01"})
	e.login(f.DoctorB).fileRecord(f.VillageB1, "乙", map[string]any{"filed_on": "2024-01-01"})
	bureau, docA, raA, docB, rev := e.login(f.Bureau), e.login(f.DoctorA), e.login(f.AdminA), e.login(f.DoctorB), e.login(f.Reviewer)
	if r := bureau.req("POST", "/api/v1/snapshots", map[string]any{"kind": "pre_assessment", "as_of": "2026-04-30", "sample": "all", "seed": 1}); r.Status != 201 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	inbox := func(c *client, q string) (items []map[string]any, unread float64) {
		t.Helper()
		r := c.req("GET", "/api/v1/inbox"+q, nil)
		if r.Status != 200 {
			t.Fatalf("inbox: %d %s", r.Status, r.Raw)
		}
		for _, it := range r.Body["items"].([]any) {
			items = append(items, it.(map[string]any))
		}
		return items, r.Body["unread"].(float64)
	}
	mine, unread := inbox(docA, "?kind=warning")
	if len(mine) != 1 || unread != 1 {
		t.Fatalf("docA's warnings: %d, unread %v", len(mine), unread)
	}
	w := mine[0]
	body, _ := w["body"].(string)
	if !strings.Contains(w["title"].(string), "预考核预警") || !strings.Contains(body, "目标") || !strings.Contains(body, "个百分点") ||
		!strings.HasPrefix(w["link"].(string), "/#/my?as_of=2026-04-30") || w["details"].(map[string]any)["figures"] == nil {
		t.Fatalf("warning message %v", w)
	}
	if inst, _ := inbox(raA, "?kind=warning"); len(inst) != 1 || !strings.Contains(inst[0]["link"].(string), "level=institution&scope_code="+f.InstA) {
		t.Fatalf("the institution's records administrator: %v", inst)
	}
	if cases, _ := inbox(docA, "?kind=case"); len(cases) != 0 {
		t.Fatalf("a pre-assessment sent case messages: %v", cases)
	}
	id := fmt.Sprint(w["id"])
	if r := docB.req("POST", "/api/v1/inbox/"+id+"/read", nil); r.Status != 404 {
		t.Fatalf("another person's message: %d", r.Status)
	}
	if r := docA.req("POST", "/api/v1/inbox/"+id+"/read", nil); r.Status != 200 || r.Body["read_at"] == nil {
		t.Fatalf("read: %d %s", r.Status, r.Raw)
	}
	if r := docA.req("GET", "/api/v1/inbox/unread", nil); r.Body["unread"] != 0.0 {
		t.Fatalf("unread after reading: %s", r.Raw)
	}
	for q, field := range map[string]string{"?unread=maybe": "unread", "?kind=spam": "kind"} {
		if r := docA.req("GET", "/api/v1/inbox"+q, nil); r.Status != 400 || r.errField() != field {
			t.Errorf("%s: %d %s", q, r.Status, r.Raw)
		}
	}

	if r := bureau.req("POST", "/api/v1/snapshots", map[string]any{"kind": "assessment", "as_of": "2026-06-30", "sample": "all", "seed": 1}); r.Status != 201 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	cases, _ := inbox(docA, "?kind=case")
	if len(cases) != 1 || !strings.Contains(cases[0]["title"].(string), "待受理") {
		t.Fatalf("docA's case messages after the assessment: %v", cases)
	}
	caseID := fmt.Sprint(cases[0]["details"].(map[string]any)["case_id"])
	rev.step(caseID, map[string]any{"to": "accepted", "reason": "初步核实：数据属实"}, 200)
	if cases, unread = inbox(docA, "?kind=case&unread=true"); len(cases) != 2 || !strings.Contains(cases[0]["body"].(string), "调查期限至") {
		t.Fatalf("after acceptance: %v", cases)
	}
	if r := docA.req("POST", "/api/v1/inbox/read-all", nil); r.Status != 200 || r.Body["marked"].(float64) < 2 {
		t.Fatalf("read all: %d %s", r.Status, r.Raw)
	}
}

// TestInboxAccessRequests: a request reaches the records administrators of
// the record's institution; each later step reaches the requester.
func TestInboxAccessRequests(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rec := e.login(f.DoctorA).fileRecord(f.VillageA1, "丙", nil)
	e.addRequester("req_in")
	req, ra := e.login("req_in"), e.login(f.AdminA)
	grantTo(req, ra, rec, 30, "active", "basic")
	titles := func(c *client) string {
		r := c.req("GET", "/api/v1/inbox?kind=access_request", nil)
		var out []string
		for _, it := range r.Body["items"].([]any) {
			out = append(out, it.(map[string]any)["title"].(string))
		}
		return strings.Join(out, " | ")
	}
	if got := titles(ra); !strings.Contains(got, "待审批") && !strings.Contains(got, "已提交") {
		t.Errorf("records admin: %q", got)
	}
	if got := titles(e.login(f.AdminB)); got != "" {
		t.Errorf("another institution's admin: %q", got)
	}
	if got := titles(req); strings.Count(got, "档案访问申请") != 2 {
		t.Errorf("requester (approved, active): %q", got)
	}
}
