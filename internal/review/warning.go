package review

import (
	"database/sql/driver"
	"fmt"
	"strings"
)

// The levels whose scopes answer for their figures: a doctor or an
// institution. Township and county figures are ignored by Propose.
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
	// BelowTarget and LastPlace are set on the figures of an assessment
	// (§7.1): below the target (a fault of duty), and last of the level on
	// the indicator.
	BelowTarget bool `json:"below_target,omitempty"`
	LastPlace   bool `json:"last_place,omitempty"`
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
	if w.LastPlace {
		b.WriteString("，位列倒数第一")
	} else if w.BottomThree {
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
