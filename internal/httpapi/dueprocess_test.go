package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/staff"
)

// TestDueProcess walks a complaint through the procedure of DESIGN
// §7.2–§7.4 over HTTP: every recusal path refused with its reason and
// logged, the group, the meeting's quorum and members, the decision by a
// lead, the review by someone who took no part, the complainant kept from
// the subject, and the 第八条 facts on the subject's page and in the 备案
// export.
func TestDueProcess(t *testing.T) {
	e := newEnv(t)
	f := e.f
	ctx := context.Background()
	e.setDay("2026-11-02")
	f.EnsurePanel(t, e.db)
	// A reviewer of the county who works at the subject's institution.
	if err := e.db.CreateStaff(ctx, &staff.Staff{Code: "revInst", Name: "人员revInst", InstitutionCode: f.InstA, Phone: "13800000000",
		Grants: []staff.Grant{{Role: staff.Reviewer, Domain: staff.CountyDomain(f.County)}}}, ""); err != nil {
		t.Fatal(err)
	}
	pgtest.ResetPassword(t, e.db, "revInst")
	rev, doc := e.login(f.Reviewer), e.login(f.DoctorA)
	lead1, lead2, rev2, rev3, revInst := e.login("lead1"), e.login("lead2"), e.login("rev2"), e.login("rev3"), e.login("revInst")

	r := rev.mustReq("POST", "/api/v1/cases", map[string]any{"source": "complaint", "subject_type": "staff", "subject_code": f.DoctorA,
		"facts": "群众投诉：随访记录与实际不符", "complainant": map[string]any{"name": "投诉人甲", "contact": "13900000000", "staff_code": "rev3"}}, 201)
	id := strings.TrimSuffix(strings.TrimPrefix(r.Header.Get("Location"), "/api/v1/cases/"), "")
	path := "/api/v1/cases/" + id
	if k, _ := r.Body["complainant"].(map[string]any); k["contact"] != "13900000000" {
		t.Fatalf("the complainant is kept for the reviewers: %s", r.Raw)
	}
	if got := doc.mustReq("GET", path, nil, 200); strings.Contains(string(got.Raw), "投诉人甲") || strings.Contains(string(got.Raw), "13900000000") ||
		got.Body["complainant"] != nil {
		t.Fatalf("the subject sees the complainant: %s", got.Raw)
	}
	rev.step(id, map[string]any{"to": "investigating", "reason": "立案调查"}, 200)

	t.Run("Recusal", func(t *testing.T) {
		lead2.mustReq("POST", "/api/v1/conflicts", map[string]any{"subject_type": "staff", "subject_code": f.DoctorA, "relation": "relative", "note": "表兄弟"}, 201)
		if got := lead2.mustReq("GET", "/api/v1/conflicts", nil, 200); len(got.Body["items"].([]any)) != 1 {
			t.Fatalf("conflicts on the profile: %s", got.Raw)
		}
		doc.mustReq("POST", "/api/v1/conflicts", map[string]any{"subject_type": "staff", "subject_code": f.DoctorB, "relation": "relative"}, 403)
		if got := lead2.mustReq("POST", "/api/v1/cases", map[string]any{"source": "inspection", "subject_type": "staff", "subject_code": f.DoctorA,
			"facts": "检查"}, 403); !strings.Contains(errMessage(got), "利害关系") {
			t.Fatalf("opening a case about a declared conflict: %s", got.Raw)
		}
		for _, tc := range []struct {
			who  *client
			code string
			why  string
		}{{revInst, "revInst", "所在机构"}, {rev3, "rev3", "投诉人"}, {lead2, "lead2", "利害关系"}} {
			got := tc.who.mustReq("POST", path+"/group", map[string]any{"members": []string{tc.code, "rev2"}}, 403)
			if !strings.Contains(errMessage(got), tc.why) {
				t.Errorf("%s: %s", tc.code, got.Raw)
			}
			if n := e.deniedRows(tc.code, "", path+"/group"); n != 1 {
				t.Errorf("%s: %d denials logged, want 1", tc.code, n)
			}
			// Nor may another put them in the group.
			if got := rev.mustReq("POST", path+"/group", map[string]any{"members": []string{f.Reviewer, tc.code}}, 400); !strings.Contains(string(got.Raw), tc.why) {
				t.Errorf("%s in the group: %s", tc.code, got.Raw)
			}
		}
		if got := rev.mustReq("POST", path+"/group", map[string]any{"members": []string{f.Reviewer}}, 400); got.errField() != "members" {
			t.Fatalf("a group of one: %s", got.Raw)
		}
	})

	t.Run("Extension", func(t *testing.T) {
		rev.step(id, map[string]any{"to": "investigating", "reason": "需调取随访原始记录"}, 200)
		rev2.mustReq("POST", path+"/extension", map[string]any{"approve": true}, 403)  // no lead
		lead2.mustReq("POST", path+"/extension", map[string]any{"approve": true}, 403) // recused
		if got := lead1.mustReq("POST", path+"/extension", map[string]any{"approve": false, "note": "证据已足"}, 200); got.Body["extended"] != false || got.Body["extension_refused"] != true {
			t.Fatalf("refusal: %s", got.Raw)
		}
		lead1.mustReq("POST", path+"/extension", map[string]any{"approve": true}, 409)
	})

	rev.mustReq("POST", path+"/group", map[string]any{"members": []string{f.Reviewer, "rev2"}}, 200)
	lead1.step(id, map[string]any{"to": "determined", "reason": "x", "responsibility": "direct", "severity": "light"}, 403) // not in the group
	rev2.step(id, map[string]any{"to": "determined", "reason": "查实", "responsibility": "direct", "severity": "light", "findings": "3 份随访记录为补录"}, 200)
	doc.step(id, map[string]any{"to": "determined", "reason": "补录系因系统故障"}, 200)

	meeting := func(present ...string) map[string]any {
		return map[string]any{"date": "2026-11-02", "body": "局务会", "members_present": present}
	}
	decide := func(c *client, m map[string]any, want int) response {
		return c.step(id, map[string]any{"to": "decided", "reason": "会议研究决定", "outcome": "admonishing_talk", "meeting": m}, want)
	}
	t.Run("Meeting", func(t *testing.T) {
		decide(rev, meeting("lead1", "lead2"), 403) // a reviewer records no decision
		if got := decide(lead1, nil, 400); got.errField() != "meeting" {
			t.Fatalf("no meeting: %s", got.Raw)
		}
		if got := decide(lead1, meeting("lead1"), 400); !strings.Contains(string(got.Raw), "法定人数") {
			t.Fatalf("no quorum: %s", got.Raw)
		}
		if got := decide(lead1, meeting("lead1", "lead2"), 400); !strings.Contains(string(got.Raw), "利害关系") {
			t.Fatalf("a recused lead present: %s", got.Raw)
		}
		if got := lead1.step(id, map[string]any{"to": "decided", "reason": "决定", "outcome": "propose_dismissal", "meeting": meeting("lead1")}, 400); got.errField() == "" {
			t.Fatalf("heavier without a reason: %s", got.Raw)
		}
		rev.mustReq("PUT", "/api/v1/review-quorum/"+f.County, map[string]any{"quorum_percent": 0}, 403)
		lead1.mustReq("PUT", "/api/v1/review-quorum/"+f.County, map[string]any{"quorum_percent": 120}, 400)
		lead1.mustReq("PUT", "/api/v1/review-quorum/"+f.County, map[string]any{"quorum_percent": 0}, 200)
	})
	d := decide(lead1, meeting("lead1"), 200)
	if m, _ := d.Body["meeting"].(map[string]any); m["body"] != "局务会" || d.Body["decided_by"] != "lead1" {
		t.Fatalf("decided: %s", d.Raw)
	}
	s := rev.step(id, map[string]any{"to": "served", "reason": "当面送达"}, 200)
	events := s.Body["events"].([]any)
	if last := events[len(events)-1].(map[string]any); last["details"].(map[string]any)["complainant_informed"] != true {
		t.Fatalf("complainant not told: %v", last)
	}
	doc.step(id, map[string]any{"to": "appealed", "reason": "不服"}, 200)

	t.Run("Review", func(t *testing.T) {
		if got := lead1.step(id, map[string]any{"to": "reviewed", "reason": "复核", "review_result": "upheld"}, 403); !strings.Contains(errMessage(got), "参与了原处理决定") {
			t.Fatalf("%s", got.Raw)
		}
		rev3.step(id, map[string]any{"to": "reviewed", "reason": "复核", "review_result": "upheld"}, 403) // the complainant
		if got := rev2.step(id, map[string]any{"to": "reviewed", "reason": "复核：事实清楚", "review_result": "upheld"}, 200); got.Body["reviewed_by"] != "rev2" ||
			got.Body["outcome"] != "admonishing_talk" {
			t.Fatalf("review: %s", got.Raw)
		}
		// Items too: a declared conflict stands aside.
		item := map[string]any{"owner": f.DoctorA, "due_date": "2026-11-30", "description": "整改随访记录"}
		if got := lead2.mustReq("POST", path+"/items", item, 403); !strings.Contains(errMessage(got), "利害关系") {
			t.Fatalf("%s", got.Raw)
		}
		rev.mustReq("POST", path+"/items", item, 201)
	})

	t.Run("Consequences", func(t *testing.T) {
		a := doc.mustReq("GET", "/api/v1/staff/"+f.DoctorA+"/accountability?year=2026", nil, 200)
		ks, _ := a.Body["consequences"].([]any)
		if len(ks) != 1 || ks[0].(map[string]any)["period"] != "2026-11" || ks[0].(map[string]any)["cap"] != "not_excellent" {
			t.Fatalf("on the subject's page: %s", a.Raw)
		}
		csv := e.login(f.Bureau).mustReq("GET", "/api/v1/consequences?year=2026&format=csv", nil, 200)
		if !strings.Contains(string(csv.Raw), "不得评为优秀") || !strings.Contains(string(csv.Raw), "诫勉谈话") {
			t.Fatalf("csv: %s", csv.Raw)
		}
		pdf := rev.mustReq("GET", "/api/v1/consequences?year=2026&format=pdf", nil, 200)
		if !strings.HasPrefix(string(pdf.Raw), "%PDF") {
			t.Fatal("pdf")
		}
		doc.mustReq("GET", "/api/v1/consequences?year=2026", nil, 403)
		rev.mustReq("GET", "/api/v1/consequences?year=2026&format=xls", nil, 400)
	})
}
