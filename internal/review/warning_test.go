package review_test

import (
	"slices"
	"strings"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/review"
)

func f(v float64) *float64 { return &v }

func TestPropose(t *testing.T) {
	ws := []review.Warning{
		{Level: "doctor", ScopeCode: "docB", ScopeName: "李医生", Indicator: "usage", Rate: f(40), Target: 60, Gap: f(-20), Rank: 9, BottomThree: true},
		{Level: "doctor", ScopeCode: "docA", ScopeName: "张医生", Indicator: "coverage", Rate: f(71.5), Target: 90, Gap: f(-18.5), Rank: 8, BottomThree: true},
		{Level: "doctor", ScopeCode: "docA", ScopeName: "张医生", Indicator: "quality", Rate: f(79), Target: 90, Gap: f(-11), Rank: 3},
		{Level: "institution", ScopeCode: "INSTA", ScopeName: "千岛湖镇", Indicator: "coverage", Rate: nil, Target: 90},
		{Level: "township", ScopeCode: "330127100", Indicator: "coverage", Rate: f(50), Target: 90, Gap: f(-40)},
	}
	ps, err := review.Propose("S2", ws)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, string(p.SubjectType)+":"+p.SubjectCode)
	}
	if want := []string{"institution:INSTA", "staff:docA", "staff:docB"}; !slices.Equal(got, want) {
		t.Fatalf("proposals %v, want %v (one per warned doctor or institution, townships skipped)", got, want)
	}
	docA := ps[1]
	if len(docA.Triggers) != 2 || docA.Triggers[0].SnapshotID != "S2" {
		t.Fatalf("docA triggers %+v", docA.Triggers)
	}
	facts := docA.Facts()
	for _, want := range []string{"S2", "建档率 71.5%", "低于目标 18.5 个百分点", "合格率", "后三名"} {
		if !strings.Contains(facts, want) {
			t.Errorf("facts %q lack %q", facts, want)
		}
	}
	if !strings.Contains(ps[0].Facts(), "无法计算") {
		t.Errorf("a warning without a rate: %q", ps[0].Facts())
	}

	t.Run("ErrBadWarning", func(t *testing.T) {
		_, err := review.Propose("S2", []review.Warning{{Level: "ward", ScopeCode: "x", Indicator: "coverage"}, {Level: "doctor", Indicator: "coverage"}})
		e, ok := apperr.As(err)
		if !ok || len(e.Fields) != 2 || e.Fields[0].Field != "warnings[0].level" || e.Fields[1].Field != "warnings[1].scope_code" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestEscalate(t *testing.T) {
	current := []review.Warning{
		{Level: "doctor", ScopeCode: "docA", Indicator: "coverage", BottomThree: true},
		{Level: "doctor", ScopeCode: "docA", Indicator: "usage", Rate: f(45), Target: 60, Gap: f(-15)}, // below target, not bottom three
	}
	tests := []struct {
		name     string
		previous []review.Warning
		want     []string
	}{
		{"SameIndicatorBottomThreeTwice", []review.Warning{{Level: "doctor", ScopeCode: "docA", Indicator: "coverage", BottomThree: true}}, []string{"coverage"}},
		{"OtherIndicator", []review.Warning{{Level: "doctor", ScopeCode: "docA", Indicator: "quality", BottomThree: true}}, nil},
		{"PreviouslyOnlyBelowTarget", []review.Warning{{Level: "doctor", ScopeCode: "docA", Indicator: "coverage"}}, nil},
		{"NowOnlyBelowTarget", []review.Warning{{Level: "doctor", ScopeCode: "docA", Indicator: "usage", BottomThree: true}}, nil},
		{"OtherScope", []review.Warning{{Level: "doctor", ScopeCode: "docB", Indicator: "coverage", BottomThree: true}}, nil},
		{"SameCodeOtherLevel", []review.Warning{{Level: "institution", ScopeCode: "docA", Indicator: "coverage", BottomThree: true}}, nil},
		{"NoPrevious", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := review.Propose("S2", current)
			if err != nil {
				t.Fatal(err)
			}
			p := ps[0]
			p.Escalate("S1", tt.previous)
			if tt.want == nil {
				if p.Escalation != nil {
					t.Fatalf("escalated: %+v", p.Escalation)
				}
				return
			}
			if p.Escalation == nil || p.Escalation.PreviousSnapshotID != "S1" || !slices.Equal(p.Escalation.Indicators, tt.want) {
				t.Fatalf("escalation %+v, want %v from S1", p.Escalation, tt.want)
			}
			if !strings.Contains(p.Facts(), "主要负责人") {
				t.Errorf("facts do not name the principal's talk: %s", p.Facts())
			}
		})
	}
}
