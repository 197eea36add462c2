package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"healthrec/internal/pdfdoc/pdftest"
	"healthrec/internal/review"
)

// TestDecisionPDF proposes an escalated case from two snapshots, decides it
// with a rectification item and reads the decision notice as the subject.
func TestDecisionPDF(t *testing.T) {
	e := newEnv(t)
	f := e.f
	ctx := context.Background()
	rate := func(v float64) *float64 { return &v }
	figs := []review.Warning{
		{Level: "doctor", ScopeCode: f.DoctorA, ScopeName: "人员docA", Indicator: "coverage", Rate: rate(70.2), Target: 90, Gap: rate(-19.8), Rank: 2},
		{Level: "doctor", ScopeCode: f.DoctorB, ScopeName: "人员docB", Indicator: "coverage", Rate: rate(95), Target: 90, Gap: rate(5), Rank: 1},
	}
	rev, doc, other := e.as(f.Reviewer), e.as(f.DoctorA), e.as(f.DoctorB)
	e.setDay("2026-06-30")
	first, err := e.db.ProposeFromAssessment(ctx, review.Assessment{SnapshotID: "2026H1", County: f.County, Kind: review.KindAssessment, PublishedAt: e.now, Figures: figs})
	if err != nil || len(first) != 1 {
		t.Fatal(err)
	}
	rev.step(fmt.Sprint(first[0].ID), map[string]any{"to": "dismissed", "reason": "上半年已约谈"}, 200)
	e.setDay("2026-08-31")
	cases, err := e.db.ProposeFromAssessment(ctx, review.Assessment{SnapshotID: "2026Q2", County: f.County, Kind: review.KindAssessment, PublishedAt: e.now, Figures: figs})
	if err != nil || len(cases) != 1 || !cases[0].Escalated {
		t.Fatalf("proposal: %+v %v", cases, err)
	}
	id := fmt.Sprint(cases[0].ID)

	t.Run("ErrBeforeDecision", func(t *testing.T) {
		r := doc.req("GET", "/api/v1/cases/"+id+"/decision.pdf", nil)
		if r.Status != 409 || errState(r) != "proposed" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	for _, b := range []map[string]any{{"to": "accepted", "reason": "初步核实：建档数据属实"}, {"to": "investigating", "reason": "核查建档数据"},
		{"to": "determined", "reason": "查实", "responsibility": "direct", "severity": "serious", "findings": "漏建档案 120 份"},
		{"to": "determined", "reason": "申辩：部分居民长期外出"},
		{"to": "decided", "reason": "决定", "outcome": "admonishing_talk"}} {
		rev.proc(id, b, 200)
	}
	if r := rev.req("POST", "/api/v1/cases/"+id+"/items", map[string]any{"owner": f.DoctorA, "due_date": "2026-10-30", "description": "补建漏建档案120份"}); r.Status != 201 {
		t.Fatalf("item: %d %s", r.Status, r.Raw)
	}
	if r := other.req("GET", "/api/v1/cases/"+id+"/decision.pdf", nil); r.Status != 403 {
		t.Fatalf("another doctor: %d", r.Status)
	}
	r := doc.req("GET", "/api/v1/cases/"+id+"/decision.pdf", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.Raw), "%PDF") {
		t.Fatalf("pdf: %d %s %.100s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	if out := os.Getenv("DECISION_PDF_OUT"); out != "" {
		_ = os.WriteFile(out, r.Raw, 0o600) // to look at the layout by eye
	}
	text := pdftest.Compact(t, r.Raw)
	for _, want := range []string{"问责决定书", "人员docA", "千岛湖镇社区卫生服务中心", "淳安县问责〔2026〕", "考核预警",
		"2026Q2", "建档率", "70.2%", "-19.8", "直接责任", "情节较重", "漏建档案120份", "诫勉谈话", "主要领导谈话",
		"2026年度考核不得评为优秀", "补建漏建档案120份",
		"当事人申辩", "部分居民长期外出", "会议研究", "局务会", "lead1、lead2", "从轻理由", "态度端正", "（2026-08）当月考核：不得评为优秀",
		"申请复核", "复核由未参与原处理决定的人员办理", "调查组", "rev1、rev2", "2026-10-30", "淳安县问责办公室"} {
		if !strings.Contains(text, want) {
			t.Errorf("decision notice lacks %q:\n%s", want, text)
		}
	}
}
