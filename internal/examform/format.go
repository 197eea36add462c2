package examform

import (
	"strconv"
	"strings"
)

// Answer is an answer as a person reads it: code labels, numbers with their
// unit, rows one per line. Empty when nothing was recorded.
func (f *Field) Answer(v any) string {
	switch f.Kind {
	case Choice:
		s, _ := v.(string)
		if s == "" {
			return ""
		}
		return f.CodeLabel(s)
	case Multi:
		var out []string
		for _, c := range asStrings(v) {
			out = append(out, f.CodeLabel(c))
		}
		return strings.Join(out, "、")
	case Number, Derived:
		x, ok := v.(float64)
		if !ok {
			return ""
		}
		return strings.TrimSpace(num(x) + " " + f.Unit)
	case Texts:
		var out []string
		for i, s := range asStrings(v) {
			out = append(out, strconv.Itoa(i+1)+". "+s)
		}
		return strings.Join(out, "；")
	case Rows:
		rows, ok := v.([]any)
		if !ok {
			return ""
		}
		if len(rows) == 0 {
			return "无"
		}
		var lines []string
		for i, r := range rows {
			row, _ := r.(map[string]any)
			var parts []string
			for j := range f.Columns {
				c := &f.Columns[j]
				if a := c.Answer(row[c.Key]); a != "" {
					parts = append(parts, c.Label+" "+a)
				}
			}
			lines = append(lines, strconv.Itoa(i+1)+". "+strings.Join(parts, "，"))
		}
		return strings.Join(lines, "\n")
	default:
		s, _ := v.(string)
		return s
	}
}
