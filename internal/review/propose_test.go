package review_test

import (
	"slices"
	"strings"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/review"
)

func f(v float64) *float64 { return &v }

// fig is a figure with rate, target and rank; the gap follows.
func fig(level, scope, ind string, rate, target float64, rank int) review.Warning {
	return review.Warning{Level: level, ScopeCode: scope, ScopeName: "名" + scope, Indicator: ind, Rate: f(rate), Target: target,
		Gap: f(rate - target), Rank: rank, BottomThree: rank >= 3}
}

// county has four doctors and two institutions: docD is last on coverage
// and below target; docC is bottom three but above target on quality
// (rank alone); docB is last on usage though above target; INSTA is below
// target on usage; a township below target is nobody's case.
func county() review.Assessment {
	return review.Assessment{SnapshotID: "S2", County: "330127", Kind: review.KindAssessment, Figures: []review.Warning{
		fig("doctor", "docA", "coverage", 95, 90, 1),
		fig("doctor", "docB", "coverage", 92, 90, 2),
		fig("doctor", "docC", "coverage", 91, 90, 3),
		fig("doctor", "docD", "coverage", 71.5, 90, 4),
		fig("doctor", "docA", "quality", 99, 90, 1),
		fig("doctor", "docB", "quality", 98, 90, 2),
		fig("doctor", "docC", "quality", 95, 90, 3),
		fig("doctor", "docD", "quality", 95, 90, 3),
		fig("doctor", "docA", "usage", 80, 60, 1),
		fig("doctor", "docB", "usage", 61, 60, 4),
		fig("doctor", "docC", "usage", 70, 60, 2),
		fig("doctor", "docD", "usage", 70, 60, 2),
		fig("institution", "INSTA", "usage", 50, 60, 2),
		fig("institution", "INSTB", "usage", 65, 60, 1),
		{Level: "institution", ScopeCode: "INSTB", Indicator: "coverage", Target: 90}, // no population: no rate
		fig("township", "330127100", "coverage", 50, 90, 1),
	}}
}

func TestPropose(t *testing.T) {
	a := county()
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	ps := a.Propose("", nil)
	var got []string
	for _, p := range ps {
		got = append(got, string(p.SubjectType)+":"+p.SubjectCode+":"+p.TalkBy)
	}
	// docB (last on usage, above target) and docC (bottom three, above
	// target) get no case: rank alone is a warning, not a fault.
	if want := []string{"institution:INSTA:deputy", "staff:docD:deputy"}; !slices.Equal(got, want) {
		t.Fatalf("proposals %v, want %v", got, want)
	}
	docD := ps[1]
	if len(docD.Triggers) != 1 || docD.Triggers[0].SnapshotID != "S2" || !docD.Triggers[0].LastPlace || !docD.Triggers[0].BelowTarget {
		t.Fatalf("docD triggers %+v", docD.Triggers)
	}
	facts := docD.Facts()
	for _, want := range []string{"S2", "建档率 71.5%", "低于目标 18.5 个百分点", "倒数第一", "分管领导谈话"} {
		if !strings.Contains(facts, want) {
			t.Errorf("facts %q lack %q", facts, want)
		}
	}
	if places := a.LastPlaces(); !slices.Contains(places, review.Place{Level: "doctor", ScopeCode: "docB", Indicator: "usage"}) ||
		slices.Contains(places, review.Place{Level: "doctor", ScopeCode: "docC", Indicator: "quality"}) == false {
		t.Fatalf("last places %+v: ties at the worst rank are all last", places)
	}

	t.Run("BelowTargetNotLast", func(t *testing.T) {
		a := review.Assessment{SnapshotID: "S", County: "c", Kind: review.KindAssessment, Figures: []review.Warning{
			fig("doctor", "docA", "coverage", 85, 90, 1), fig("doctor", "docB", "coverage", 80, 90, 2)}}
		if err := a.Check(); err != nil {
			t.Fatal(err)
		}
		ps := a.Propose("", nil)
		if len(ps) != 2 || ps[0].TalkBy != "" || ps[1].TalkBy != review.TalkDeputy {
			t.Fatalf("proposals %+v: both below target, only the last gets a talk", ps)
		}
	})
	t.Run("AllTiedNoLast", func(t *testing.T) {
		a := review.Assessment{SnapshotID: "S", County: "c", Kind: review.KindAssessment, Figures: []review.Warning{
			fig("doctor", "docA", "coverage", 80, 90, 1), fig("doctor", "docB", "coverage", 80, 90, 1)}}
		_ = a.Check()
		if ps := a.Propose("", nil); len(ps) != 2 || ps[0].TalkBy != "" || ps[1].TalkBy != "" {
			t.Fatalf("a level where all tie has no last place: %+v", ps)
		}
	})
	t.Run("PreAssessmentProposesNothing", func(t *testing.T) {
		a := county()
		a.Kind = review.KindPreAssessment
		if err := a.Check(); err != nil {
			t.Fatal(err)
		}
		if ps := a.Propose("", nil); len(ps) != 0 {
			t.Fatalf("a pre-assessment proposed %d cases", len(ps))
		}
	})
	t.Run("ErrBadFigure", func(t *testing.T) {
		a := review.Assessment{SnapshotID: "S", County: "c", Kind: "yearly", Figures: []review.Warning{
			{Level: "ward", ScopeCode: "x", Indicator: "coverage"}, {Level: "doctor", Indicator: "coverage"}}}
		e, ok := apperr.As(a.Check())
		if !ok || len(e.Fields) != 3 || e.Fields[0].Field != "kind" || e.Fields[1].Field != "figures[0].level" || e.Fields[2].Field != "figures[1].scope_code" {
			t.Fatalf("err = %v", e)
		}
	})
}

func TestEscalate(t *testing.T) {
	tests := []struct {
		name     string
		previous review.Places
		want     []string
	}{
		{"LastTwiceSameIndicator", review.Places{{Level: "doctor", ScopeCode: "docD", Indicator: "coverage"}}, []string{"coverage"}},
		{"OtherIndicator", review.Places{{Level: "doctor", ScopeCode: "docD", Indicator: "quality"}}, nil},
		{"OtherScope", review.Places{{Level: "doctor", ScopeCode: "docA", Indicator: "coverage"}}, nil},
		{"SameCodeOtherLevel", review.Places{{Level: "institution", ScopeCode: "docD", Indicator: "coverage"}}, nil},
		{"NoPrevious", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := county()
			if err := a.Check(); err != nil {
				t.Fatal(err)
			}
			p := a.Propose("S1", tt.previous)[1]
			if tt.want == nil {
				if p.Escalation != nil || p.TalkBy != review.TalkDeputy {
					t.Fatalf("escalated: %+v %s", p.Escalation, p.TalkBy)
				}
				return
			}
			if p.Escalation == nil || p.TalkBy != review.TalkPrincipal || p.Escalation.PreviousSnapshotID != "S1" || !slices.Equal(p.Escalation.Indicators, tt.want) {
				t.Fatalf("escalation %+v, want %v from S1", p.Escalation, tt.want)
			}
			if !strings.Contains(p.Facts(), "主要领导谈话") {
				t.Errorf("facts do not name the principal's talk: %s", p.Facts())
			}
		})
	}
}
