package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"healthrec/internal/pdfdoc/pdftest"
)

// TestSupervision: items with co-responsible people and a completion
// standard; the later check scheduled three months after closing and
// reminded to the county's reviewers; the on-time completion rate per
// institution and month, as JSON and as the circulation PDF; expert help
// visits recorded by the bureau.
func TestSupervision(t *testing.T) {
	e := newEnv(t)
	f := e.f
	e.setDay("2026-11-02")
	rev, doc, bureau := e.login(f.Reviewer), e.login(f.DoctorA), e.login(f.Bureau)
	id := rev.openCase("staff", f.DoctorA)
	for _, b := range []map[string]any{{"to": "investigating", "reason": "a"},
		{"to": "determined", "reason": "b", "responsibility": "direct", "severity": "light"},
		{"to": "determined", "reason": "申辩"},
		{"to": "decided", "reason": "c", "outcome": "admonishing_talk"}} {
		rev.proc(id, b, 200)
	}
	items := "/api/v1/cases/" + id + "/items"
	if r := rev.mustReq("POST", items, map[string]any{"owner": f.DoctorA, "due_date": "2026-11-20", "description": "补齐体检",
		"co_responsible": []string{"nobody"}}, 400); r.errField() != "co_responsible" {
		t.Fatalf("unknown co-responsible: %s", r.Raw)
	}
	rev.mustReq("POST", items, map[string]any{"owner": f.DoctorA, "due_date": "2026-11-20", "description": "补齐体检", "followup_months": 13}, 400)
	r := rev.mustReq("POST", items, map[string]any{"owner": f.DoctorA, "due_date": "2026-11-20", "description": "补齐 30 份健康体检",
		"co_responsible": []string{f.AdminA}, "completion_standard": "30 份体检表齐全且经抽查合格"}, 201)
	if r.Body["completion_standard"] == "" || len(r.Body["co_responsible"].([]any)) != 1 || r.Body["followup_months"] != float64(3) {
		t.Fatalf("item: %s", r.Raw)
	}
	onTime := fmt.Sprint(r.Body["id"])
	rev.mustReq("POST", items, map[string]any{"owner": f.DoctorA, "due_date": "2026-11-25", "description": "整改随访记录"}, 201)

	e.setDay("2026-11-18")
	doc = e.login(f.DoctorA)
	c := doc.mustReq("POST", "/api/v1/items/"+onTime+"/close", map[string]any{"evidence": "已补齐"}, 200)
	if c.Body["followup_due"] != "2027-02-18" {
		t.Fatalf("回头看 not scheduled three months on: %s", c.Raw)
	}

	t.Run("FollowupReminded", func(t *testing.T) {
		e.setDay("2027-02-11")
		if _, err := e.db.SendDueReminders(context.Background(), e.now); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM messages WHERE recipient = $1 AND title LIKE '%回头看%'`, f.Reviewer); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d 回头看 reminders to the reviewer, want 1", n)
		}
	})

	rev, doc, bureau = e.login(f.Reviewer), e.login(f.DoctorA), e.login(f.Bureau)
	t.Run("OnTimeRate", func(t *testing.T) {
		r := bureau.mustReq("GET", "/api/v1/supervision?month=2026-11", nil, 200)
		rows := r.Body["items"].([]any)
		if len(rows) != 1 {
			t.Fatalf("%s", r.Raw)
		}
		row := rows[0].(map[string]any)
		if row["institution_code"] != f.InstA || row["due"] != float64(2) || row["on_time"] != float64(1) || row["rate"] != float64(50) {
			t.Fatalf("rate: %v", row)
		}
		pdf := bureau.mustReq("GET", "/api/v1/supervision?month=2026-11&format=pdf", nil, 200)
		text := pdftest.Compact(t, pdf.Raw)
		for _, want := range []string{"督办事项按期完成情况通报", "2026-11", "千岛湖镇社区卫生服务中心", "50.0%"} {
			if !strings.Contains(text, want) {
				t.Errorf("circulation lacks %q: %s", want, text)
			}
		}
		bureau.mustReq("GET", "/api/v1/supervision?month=2026-13", nil, 400)
		doc.mustReq("GET", "/api/v1/supervision", nil, 403)
	})

	t.Run("HelpVisit", func(t *testing.T) {
		v := map[string]any{"scope_type": "institution", "scope_code": f.InstA, "visited_on": "2026-11-10",
			"experts": []string{"省疾控 王专家", "市卫健委 李专家"}, "findings": "体检与随访记录大量补录", "items": []string{"建立随访当日录入制度"}}
		rev.mustReq("POST", "/api/v1/help-visits", v, 403)
		bureau.mustReq("POST", "/api/v1/help-visits", map[string]any{"scope_type": "institution", "scope_code": f.InstA, "visited_on": "2026-11-10"}, 400)
		bureau.mustReq("POST", "/api/v1/help-visits", v, 201)
		if r := rev.mustReq("GET", "/api/v1/help-visits", nil, 200); len(r.Body["items"].([]any)) != 1 {
			t.Fatalf("%s", r.Raw)
		}
	})
}
