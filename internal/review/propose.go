package review

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"

	"healthrec/internal/apperr"
)

// Assessment is a published snapshot as the review sees it (DESIGN §7.1):
// its county, its kind, and the figures of its doctors and institutions.
// The snapshot publisher converts its own rows to these; review depends on
// no snapshot table.
type Assessment struct {
	SnapshotID  string
	County      string
	Kind        SnapshotKind
	PublishedAt time.Time
	// Figures are the doctor and institution rows, one per scope and
	// indicator; Rank is 0 and Rate nil without a denominator.
	Figures []Warning
}

// Place is a scope at the last place of an indicator in an assessment.
type Place struct {
	Level     string `json:"level"`
	ScopeCode string `json:"scope_code"`
	Indicator string `json:"indicator"`
}

// Places is a list of places stored as jsonb.
type Places []Place

// Value stores the places as JSON.
func (ps Places) Value() (driver.Value, error) {
	if ps == nil {
		return "[]", nil
	}
	return jsonText(ps)
}

// Scan reads a jsonb column.
func (ps *Places) Scan(src any) error { return scanJSON(src, ps) }

// Has reports whether the list holds the place.
func (ps Places) Has(p Place) bool { return slices.Contains(ps, p) }

// Check validates the figures and marks each one below its target and each
// one at the last place of its level and indicator: the worst rank, when
// someone ranks better (a level where every scope ties has no last place).
func (a *Assessment) Check() error {
	var fe apperr.FieldErrors
	if strings.TrimSpace(a.SnapshotID) == "" {
		fe.Add("snapshot_id", "快照编号不能为空")
	}
	if a.County == "" {
		fe.Add("county_code", "快照所属县不能为空")
	}
	if !a.Kind.Valid() {
		fe.Add("kind", "快照类型应为 pre_assessment 或 assessment")
	}
	worst := map[string]int{}
	for i := range a.Figures {
		w := &a.Figures[i]
		field := fmt.Sprintf("figures[%d]", i)
		switch w.Level {
		case LevelDoctor, LevelInstitution, "township", "county":
		default:
			fe.Add(field+".level", "层级应为 doctor、institution、township 或 county")
		}
		switch w.Indicator {
		case "coverage", "quality", "usage":
		default:
			fe.Add(field+".indicator", "指标应为 coverage、quality 或 usage")
		}
		if strings.TrimSpace(w.ScopeCode) == "" {
			fe.Add(field+".scope_code", "考核对象代码不能为空")
		}
		w.SnapshotID = a.SnapshotID
		w.BelowTarget = w.Gap != nil && *w.Gap < 0
		if w.Rate != nil && w.Rank > worst[w.Level+"\x00"+w.Indicator] {
			worst[w.Level+"\x00"+w.Indicator] = w.Rank
		}
	}
	for i := range a.Figures {
		w := &a.Figures[i]
		w.LastPlace = w.Rate != nil && w.Rank > 1 && w.Rank == worst[w.Level+"\x00"+w.Indicator]
	}
	return fe.Err()
}

// LastPlaces lists the doctors and institutions at the last place of an
// indicator; Check must have run.
func (a *Assessment) LastPlaces() Places {
	out := Places{}
	for _, w := range a.Figures {
		if w.LastPlace && (w.Level == LevelDoctor || w.Level == LevelInstitution) {
			out = append(out, Place{Level: w.Level, ScopeCode: w.ScopeCode, Indicator: w.Indicator})
		}
	}
	return out
}

// Escalation records why a case goes to the principal leader's talk: the
// scope was at the last place of the same indicators in the county's
// previous assessment too.
type Escalation struct {
	PreviousSnapshotID string   `json:"previous_snapshot_id"`
	Indicators         []string `json:"indicators"`
}

// Value stores the escalation as JSON.
func (e Escalation) Value() (driver.Value, error) { return jsonText(e) }

// Scan reads a jsonb column.
func (e *Escalation) Scan(src any) error { return scanJSON(src, e) }

// Proposal is one case proposed from an assessment: a doctor or institution
// below target on one or more indicators, with those figures.
type Proposal struct {
	SubjectType SubjectType
	SubjectCode string
	SubjectName string
	Triggers    Warnings
	// TalkBy is who holds a talk: deputy for a last place, principal for
	// a last place in two consecutive assessments, "" for none.
	TalkBy     string
	Escalation *Escalation
}

// Propose returns the cases an assessment proposes (§7.1), one per doctor
// or institution, ordered by level and scope code:
//   - a scope below its target on an indicator is proposed, naming each
//     such indicator with rate, target and gap (未完成年度工作目标);
//   - at the last place of an indicator as well, the deputy leader holds a
//     talk (分管领导谈话); last of the same indicator in the previous
//     assessment too (previous holds its last places), the principal leader
//     (主要领导谈话).
//
// Rank alone is never a case: a scope in the bottom three, or even last,
// while at or above its target gets a warning (§5.4) and no proposal. A
// pre-assessment proposes nothing. Check must have run.
func (a *Assessment) Propose(previousID string, previous Places) []Proposal {
	if a.Kind != KindAssessment {
		return nil
	}
	byScope := map[string]*Proposal{}
	var keys []string
	for _, w := range a.Figures {
		var st SubjectType
		switch w.Level {
		case LevelDoctor:
			st = SubjectStaff
		case LevelInstitution:
			st = SubjectInstitution
		default:
			continue
		}
		if !w.BelowTarget {
			continue
		}
		key := string(st) + "\x00" + w.ScopeCode
		p := byScope[key]
		if p == nil {
			p = &Proposal{SubjectType: st, SubjectCode: w.ScopeCode, SubjectName: w.ScopeName}
			byScope[key] = p
			keys = append(keys, key)
		}
		p.Triggers = append(p.Triggers, w)
		if !w.LastPlace {
			continue
		}
		if p.TalkBy == "" {
			p.TalkBy = TalkDeputy
		}
		if previousID != "" && previous.Has(Place{Level: w.Level, ScopeCode: w.ScopeCode, Indicator: w.Indicator}) {
			if p.Escalation == nil {
				p.Escalation = &Escalation{PreviousSnapshotID: previousID}
			}
			p.Escalation.Indicators = append(p.Escalation.Indicators, w.Indicator)
			p.TalkBy = TalkPrincipal
		}
	}
	slices.Sort(keys)
	out := make([]Proposal, len(keys))
	for i, k := range keys {
		out[i] = *byScope[k]
		if e := out[i].Escalation; e != nil {
			slices.Sort(e.Indicators)
		}
	}
	return out
}

// Facts is the proposed case's statement of facts, naming the indicators,
// gaps and any talk.
func (p *Proposal) Facts() string {
	parts := make([]string, len(p.Triggers))
	for i, w := range p.Triggers {
		parts[i] = w.Summary()
	}
	s := fmt.Sprintf("考核快照 %s：%s，未完成年度工作目标。", p.Triggers[0].SnapshotID, strings.Join(parts, "；"))
	switch {
	case p.Escalation != nil:
		names := make([]string, len(p.Escalation.Indicators))
		for i, ind := range p.Escalation.Indicators {
			names[i] = IndicatorName(ind)
		}
		s += fmt.Sprintf("连续两次考核（上次为快照 %s）%s倒数第一，建议由主要领导谈话。", p.Escalation.PreviousSnapshotID, strings.Join(names, "、"))
	case p.TalkBy == TalkDeputy:
		s += "指标倒数第一，建议由分管领导谈话。"
	}
	return s
}

// TalkRank orders talks: none < deputy < principal.
func TalkRank(t string) int {
	switch t {
	case TalkDeputy:
		return 1
	case TalkPrincipal:
		return 2
	}
	return 0
}
