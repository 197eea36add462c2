package review

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"

	"healthrec/internal/apperr"
)

// Warning levels that give rise to a case. Township and county warnings are
// accepted by Propose and ignored: nobody answers for them personally.
const (
	LevelDoctor      = "doctor"
	LevelInstitution = "institution"
)

// Warning is one warning of a published snapshot (DESIGN §5.4): a scope in the
// bottom three of an indicator, or 10 or more points below its target, with
// the figures that triggered it. The snapshot publisher converts its own
// report rows to these; review depends on no snapshot table.
type Warning struct {
	SnapshotID string `json:"snapshot_id"`
	// Level is doctor, institution, township or county.
	Level string `json:"level"`
	// ScopeCode is the staff code of a doctor or the institution code.
	ScopeCode string `json:"scope_code"`
	ScopeName string `json:"scope_name"`
	// Indicator is coverage, quality or usage.
	Indicator string `json:"indicator"`
	// Rate and Gap are percentages (gap = rate − target, negative when
	// below); nil when the scope has no denominator.
	Rate        *float64 `json:"rate"`
	Target      float64  `json:"target"`
	Gap         *float64 `json:"gap"`
	Rank        int      `json:"rank"`
	BottomThree bool     `json:"bottom_three"`
}

// IndicatorName names an indicator in Chinese.
func IndicatorName(ind string) string {
	switch ind {
	case "coverage":
		return "建档率"
	case "quality":
		return "合格率"
	case "usage":
		return "使用率"
	}
	return ind
}

// Summary describes the warning in one Chinese phrase, for the case facts
// and the decision notice.
func (w Warning) Summary() string {
	var b strings.Builder
	b.WriteString(IndicatorName(w.Indicator))
	if w.Rate != nil {
		fmt.Fprintf(&b, " %.1f%%（目标 %.1f%%", *w.Rate, w.Target)
		switch {
		case w.Gap == nil:
		case *w.Gap < 0:
			fmt.Fprintf(&b, "，低于目标 %.1f 个百分点", -*w.Gap)
		default:
			fmt.Fprintf(&b, "，高于目标 %.1f 个百分点", *w.Gap)
		}
		b.WriteString("）")
	} else {
		fmt.Fprintf(&b, " 无法计算（目标 %.1f%%）", w.Target)
	}
	if w.Rank > 0 {
		fmt.Fprintf(&b, "，排名第 %d", w.Rank)
	}
	if w.BottomThree {
		b.WriteString("，位列后三名")
	}
	return b.String()
}

// Warnings is a list of warnings stored as jsonb.
type Warnings []Warning

// Value stores the warnings as JSON.
func (ws Warnings) Value() (driver.Value, error) {
	if ws == nil {
		return "[]", nil
	}
	return jsonText(ws)
}

// Scan reads a jsonb column.
func (ws *Warnings) Scan(src any) error { return scanJSON(src, ws) }

// Escalation records why a case goes to the principal leader's talk: the
// scope was in the bottom three of the same indicators in the previous
// published snapshot too.
type Escalation struct {
	PreviousSnapshotID string   `json:"previous_snapshot_id"`
	Indicators         []string `json:"indicators"`
}

// Value stores the escalation as JSON.
func (e Escalation) Value() (driver.Value, error) { return jsonText(e) }

// Scan reads a jsonb column.
func (e *Escalation) Scan(src any) error { return scanJSON(src, e) }

// Proposal is one case proposed from a snapshot: a warned doctor or
// institution with every warning it got.
type Proposal struct {
	SubjectType SubjectType
	SubjectCode string
	SubjectName string
	Triggers    Warnings
	Escalation  *Escalation
}

// Propose groups a snapshot's warnings into one proposal per warned doctor or
// institution, ordered by level and scope code. Township and county warnings
// are skipped. It returns Invalid for a warning without a scope or with an
// unknown level or indicator.
func Propose(snapshotID string, ws []Warning) ([]Proposal, error) {
	var fe apperr.FieldErrors
	if strings.TrimSpace(snapshotID) == "" {
		fe.Add("snapshot_id", "快照编号不能为空")
	}
	byScope := map[string]*Proposal{}
	var keys []string
	for i, w := range ws {
		field := fmt.Sprintf("warnings[%d]", i)
		var st SubjectType
		switch w.Level {
		case LevelDoctor:
			st = SubjectStaff
		case LevelInstitution:
			st = SubjectInstitution
		case "township", "county":
			continue
		default:
			fe.Add(field+".level", "层级应为 doctor、institution、township 或 county")
			continue
		}
		switch w.Indicator {
		case "coverage", "quality", "usage":
		default:
			fe.Add(field+".indicator", "指标应为 coverage、quality 或 usage")
			continue
		}
		if strings.TrimSpace(w.ScopeCode) == "" {
			fe.Add(field+".scope_code", "考核对象代码不能为空")
			continue
		}
		w.SnapshotID = snapshotID
		key := string(st) + "\x00" + w.ScopeCode
		p := byScope[key]
		if p == nil {
			p = &Proposal{SubjectType: st, SubjectCode: w.ScopeCode, SubjectName: w.ScopeName}
			byScope[key] = p
			keys = append(keys, key)
		}
		p.Triggers = append(p.Triggers, w)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	slices.Sort(keys)
	out := make([]Proposal, len(keys))
	for i, k := range keys {
		out[i] = *byScope[k]
	}
	return out, nil
}

// Escalate marks the proposal for the principal leader's talk when the scope
// was in the bottom three of one of the same indicators in the previous
// published snapshot (previous holds that snapshot's warnings).
func (p *Proposal) Escalate(previousID string, previous []Warning) {
	var inds []string
	for _, w := range p.Triggers {
		if !w.BottomThree {
			continue
		}
		for _, v := range previous {
			if v.BottomThree && v.Indicator == w.Indicator && v.ScopeCode == p.SubjectCode && v.Level == p.level() &&
				!slices.Contains(inds, w.Indicator) {
				inds = append(inds, w.Indicator)
			}
		}
	}
	if len(inds) > 0 {
		slices.Sort(inds)
		p.Escalation = &Escalation{PreviousSnapshotID: previousID, Indicators: inds}
	}
}

// level is the warning level of the proposal's subject.
func (p *Proposal) level() string {
	if p.SubjectType == SubjectInstitution {
		return LevelInstitution
	}
	return LevelDoctor
}

// Facts is the proposed case's statement of facts, naming the indicators and
// gaps.
func (p *Proposal) Facts() string {
	parts := make([]string, len(p.Triggers))
	for i, w := range p.Triggers {
		parts[i] = w.Summary()
	}
	s := fmt.Sprintf("考核快照 %s 预警：%s。", p.Triggers[0].SnapshotID, strings.Join(parts, "；"))
	if p.Escalation != nil {
		names := make([]string, len(p.Escalation.Indicators))
		for i, ind := range p.Escalation.Indicators {
			names[i] = IndicatorName(ind)
		}
		s += fmt.Sprintf("连续两次（上次为快照 %s）%s位列后三名，由主要负责人约谈。", p.Escalation.PreviousSnapshotID, strings.Join(names, "、"))
	}
	return s
}
