package webtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"healthrec/internal/review"
)

// fill sets a form's fields (by name) and submits it.
func fill(form string, values [][2]string) chromedp.Tasks {
	var ts chromedp.Tasks
	ts = append(ts, chromedp.WaitVisible("#"+form))
	for _, v := range values {
		ts = append(ts, setValue(fmt.Sprintf(`#%s [name="%s"]`, form, v[0]), v[1]))
	}
	return append(ts, chromedp.Click(fmt.Sprintf(`#%s button[type=submit]`, form)))
}

// waitFor waits until the query counts a row.
func (s *site) waitFor(q string, args ...any) {
	s.t.Helper()
	for i := 0; i < 100; i++ {
		if s.count(q, args...) > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("no row for %s", q)
}

// hash moves the page to a route as a link would, also right after signing
// in while the landing page is still loading (TestRouterLateRender).
func hash(h string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`location.hash = %q`, h), nil)
}

// TestReviewWorkspace: a case from proposed to archived through the
// reviewer's workspace at desk size — a reviewer lands on the workspace,
// accepts, starts the investigation, forms the group, determines; the
// doctor defends on their own page; a lead records the meeting's decision;
// the decision is served; the doctor appeals; a reviewer who took no part
// reviews; the case is archived. The bureau sees it read-only.
func TestReviewWorkspace(t *testing.T) {
	s := newSite(t)
	s.f.EnsurePanel(t, s.db)
	rate := func(v float64) *float64 { return &v }
	cases, err := s.db.ProposeFromAssessment(context.Background(), review.Assessment{SnapshotID: "2026A", County: s.f.County,
		Kind: review.KindAssessment, PublishedAt: s.db.Now(), Figures: []review.Warning{
			{Level: "doctor", ScopeCode: s.f.DoctorA, ScopeName: "人员docA", Indicator: "coverage", Rate: rate(70.2), Target: 90, Gap: rate(-19.8), Rank: 2},
			{Level: "doctor", ScopeCode: s.f.DoctorB, ScopeName: "人员docB", Indicator: "coverage", Rate: rate(95), Target: 90, Gap: rate(5), Rank: 1}}})
	if err != nil || len(cases) != 1 {
		t.Fatalf("proposal: %v %+v", err, cases)
	}
	id := cases[0].ID
	state := func(want string) chromedp.Action { return waitText(`#case-state`, want) }

	rev := browser(t, 1366, 900)
	run(t, rev, "a reviewer lands on the workspace, not a refusal",
		chromedp.Navigate(s.url+"/bureau"), signIn(s.f.Reviewer),
		chromedp.WaitVisible(`#case-filter`),
		waitText(`main h1`, "问责工作台"),
		setValue(`#case-filter [name=state]`, "proposed"),
		chromedp.Click(`#case-filter button[type=submit]`),
		waitText(`#case-list`, "待受理"),
		follow(fmt.Sprintf(`#case-list a[data-case="%d"]`, id)),
		state("待受理"),
	)
	shot(t, rev, "review-workspace-proposed")
	run(t, rev, "accept, investigate, group, determine",
		fill("form-accept", [][2]string{{"reason", "初步核实：建档率低于目标属实"}}), state("受理"),
		fill("form-group", [][2]string{{"members", "rev1、rev2"}}), waitText(`#case-group`, "rev1、rev2"),
		fill("form-investigate", [][2]string{{"reason", "调取建档原始资料"}}), state("调查"),
		fill("form-determine", [][2]string{{"responsibility", "direct"}, {"severity", "light"}, {"findings", "漏建档案 30 份"}, {"reason", "调查组认定"}}),
		state("责任认定"), waitText(`#case-defence`, "申辩期至"),
	)
	doc := browser(t, 1366, 900)
	run(t, doc, "the doctor defends on their own page",
		chromedp.Navigate(s.url+"/"), signIn(s.f.DoctorA),
		chromedp.Navigate(s.url+"/#/my-cases"),
		chromedp.WaitVisible(`main table`),
		follow(fmt.Sprintf(`main table a[href="#/my-cases/%d"]`, id)),
		chromedp.WaitVisible(`#defence-form textarea`),
		chromedp.SendKeys(`#defence-form textarea`, "部分居民长期外出，无法入户建档"),
		chromedp.Click(`#defence-form button[type=submit]`),
	)
	s.waitFor(`SELECT count(*) FROM cases WHERE id = $1 AND defence <> ''`, id) // the page reloads on success
	lead := browser(t, 1366, 900)
	run(t, lead, "a lead records the meeting's decision",
		chromedp.Navigate(s.url+"/bureau"), signIn("lead1"), hash(fmt.Sprintf("#/case/%d", id)),
		state("责任认定"), waitText(`#case-defence`, "部分居民长期外出"),
		fill("form-decide", [][2]string{{"outcome", "admonishing_talk"}, {"meeting.body", "局务会"}, {"meeting.members_present", "lead1、lead2"}, {"reason", "会议研究决定"}}),
		state("处理决定"), waitText(`#case-meeting`, "局务会"), waitText(`#case-outcome`, "不得评为优秀"),
		chromedp.WaitVisible(`#decision-pdf`),
	)
	shot(t, lead, "review-workspace-decided")
	run(t, rev, "the decision is served",
		hash(fmt.Sprintf("#/case/%d", id)), chromedp.Reload(), state("处理决定"),
		fill("form-serve", [][2]string{{"reason", "当面送达"}}), state("送达"),
	)
	run(t, doc, "the doctor appeals",
		chromedp.Navigate(s.url+"/#/my-cases"),
		chromedp.WaitVisible(`main table`),
		follow(fmt.Sprintf(`main table a[href="#/my-cases/%d"]`, id)),
		chromedp.WaitVisible(`#appeal-form textarea`),
		chromedp.SendKeys(`#appeal-form textarea`, "申请复核：外出居民已另行登记"),
		chromedp.Click(`#appeal-form button[type=submit]`),
	)
	s.waitFor(`SELECT count(*) FROM cases WHERE id = $1 AND state = 'appealed'`, id)
	other := browser(t, 1366, 900)
	run(t, other, "a reviewer who took no part reviews",
		chromedp.Navigate(s.url+"/bureau"), signIn("rev3"), hash(fmt.Sprintf("#/case/%d", id)),
		state("申请复核"),
		fill("form-review", [][2]string{{"review_result", "upheld"}, {"reason", "事实清楚，维持原决定"}}),
		state("复核决定"), waitText(`#case-outcome`, "维持原决定"),
	)
	run(t, rev, "archived",
		chromedp.Reload(), state("复核决定"),
		fill("form-archive", [][2]string{{"reason", "报人事部门备案"}}), state("备案"),
		waitText(`#case-timeline`, "备案"),
	)
	shot(t, rev, "review-workspace-archived")
	bureau := browser(t, 1366, 900)
	var forms int
	run(t, bureau, "the bureau reads the same page",
		chromedp.Navigate(s.url+"/bureau"), signIn(s.f.Bureau), hash(fmt.Sprintf("#/case/%d", id)),
		state("备案"), waitText(`#case-meeting`, "lead1、lead2"),
		chromedp.Evaluate(`document.querySelectorAll('#case-page form').length`, &forms),
	)
	if forms != 0 {
		t.Fatalf("the bureau sees %d forms", forms)
	}
	run(t, bureau, "the bureau's supervision page: on-time rate and an expert help visit",
		hash("#/supervision"), chromedp.WaitVisible(`#on-time`),
		fill("form-help-visit", [][2]string{{"scope_type", "institution"}, {"scope_code", s.f.InstA}, {"experts", "省疾控王专家、市卫健委李专家"},
			{"findings", "随访记录大量补录"}, {"items", "建立当日录入制度"}}),
		waitText(`#help-visits`, "王专家"),
	)
	shot(t, bureau, "review-supervision")
	if n := s.count(`SELECT count(*) FROM cases WHERE id = $1 AND state = 'archived' AND defence <> '' AND reviewed_by = 'rev3' AND decided_by = 'lead1'`, id); n != 1 {
		t.Fatalf("the case did not go through: %d", n)
	}
}
