package examform

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// MaxText is the longest free text an item takes, in characters.
const MaxText = 500

// Apply merges a patch into a section's answers, one level deep as a JSON
// merge patch does: an item given replaces its answer, an item given as
// null is cleared, an item not given is kept. Items kept in the exam's
// columns (Column) are not merged here: they are returned for the caller,
// which owns those columns. The merged answers are checked whole, each item
// and the section's cross-item rules; errors name "<section>.<item>".
//
// Returns EINVALID with every field at fault.
func (s *Section) Apply(cur Values, patch map[string]json.RawMessage, today civil.Date) (Values, map[string]json.RawMessage, error) {
	next := Values{}
	for k, v := range cur {
		next[k] = v
	}
	cols := map[string]json.RawMessage{}
	var fe apperr.FieldErrors
	for k, raw := range patch {
		f, ok := s.Field(k)
		if !ok {
			fe.Add(s.Key+"."+k, "不是「"+s.Label+"」的项目")
			continue
		}
		if f.Column {
			if f.Kind == Derived {
				fe.Add(k, "由身高和体重计算，不能填写")
				continue
			}
			if _, _, reason := f.decode(raw, today); reason != "" {
				fe.Add(k, reason)
				continue
			}
			cols[k] = raw
			continue
		}
		v, absent, err := f.decode(raw, today)
		if err != "" {
			fe.Add(s.Key+"."+k, err)
			continue
		}
		if absent {
			delete(next, k)
		} else {
			next[k] = v
		}
	}
	if len(fe) == 0 {
		fe = s.check(next)
	}
	if err := fe.Err(); err != nil {
		return nil, nil, err
	}
	return next, cols, nil
}

// check runs the section's cross-item rules over normalized answers.
func (s *Section) check(v Values) apperr.FieldErrors {
	var fe apperr.FieldErrors
	if s.rule != nil {
		s.rule(v, func(key, reason string) { fe.Add(s.Key+"."+key, reason) })
	}
	return fe
}

// Check validates answers given whole (a new exam's, an import's), as
// Apply does a patch onto nothing, and returns them normalized. Items kept
// in the exam's columns are refused here: they travel at the exam's top
// level.
func (s *Section) Check(v Values, today civil.Date) (Values, error) {
	patch := map[string]json.RawMessage{}
	for k, x := range v {
		b, err := json.Marshal(x)
		if err != nil {
			return nil, apperr.InvalidField(s.Key+"."+k, "无法读取")
		}
		patch[k] = b
	}
	out, cols, err := s.Apply(nil, patch, today)
	if err != nil {
		return nil, err
	}
	var fe apperr.FieldErrors
	for k := range cols {
		fe.Add(s.Key+"."+k, "记录在体检的顶层字段 "+k)
	}
	return out, fe.Err()
}

// Missing lists the required items a section lacks before it may be marked
// complete: its own answers v and the exam's column values cols (the items
// kept in columns, present when recorded). Errors name "<section>.<item>",
// or the column's own name for a column item.
func (s *Section) Missing(v, cols Values) error {
	var fe apperr.FieldErrors
	for _, f := range s.Fields {
		if !f.Required {
			continue
		}
		if f.Column {
			if _, ok := cols[f.Key]; !ok {
				fe.Add(f.Key, "标记为已完成前须填写「"+f.Label+"」")
			}
			continue
		}
		if _, ok := v[f.Key]; !ok {
			fe.Add(s.Key+"."+f.Key, "标记为已完成前须填写「"+f.Label+"」")
		}
	}
	if s.complete != nil {
		s.complete(v, cols, func(key, reason string) { fe.Add(key, reason) })
	}
	return fe.Err()
}

// decode reads one item's JSON answer. absent is true for null and for an
// empty text (both clear the item); reason is why the answer is refused.
func (f *Field) decode(raw json.RawMessage, today civil.Date) (v any, absent bool, reason string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true, ""
	}
	switch f.Kind {
	case Choice:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false, "应为代码（字符串）：" + f.codeHint()
		}
		if !f.hasCode(s) {
			return nil, false, "不是有效代码：" + f.codeHint()
		}
		return s, false, ""
	case Multi:
		var ss []string
		if json.Unmarshal(raw, &ss) != nil {
			return nil, false, "应为代码列表：" + f.codeHint()
		}
		if len(ss) == 0 {
			return nil, false, "至少选择一项；未检查则不填"
		}
		seen := map[string]bool{}
		out := make([]any, 0, len(ss))
		for _, s := range ss {
			if !f.hasCode(s) {
				return nil, false, "不是有效代码 " + strconv.Quote(s) + "：" + f.codeHint()
			}
			if seen[s] {
				return nil, false, "代码 " + s + " 重复"
			}
			seen[s] = true
			out = append(out, s)
		}
		if f.Exclusive != "" && seen[f.Exclusive] && len(ss) > 1 {
			return nil, false, "「" + f.CodeLabel(f.Exclusive) + "」不能与其他选项同时选择"
		}
		if f.MaxItems > 0 && len(ss) > f.MaxItems {
			return nil, false, "最多选择 " + strconv.Itoa(f.MaxItems) + " 项"
		}
		return out, false, ""
	case Number:
		var x float64
		if json.Unmarshal(raw, &x) != nil {
			return nil, false, "应为数值（" + f.unitText() + "）"
		}
		if math.IsNaN(x) || f.Min != nil && x < *f.Min || f.Max != nil && x > *f.Max {
			return nil, false, "超出合理范围 " + num(*f.Min) + "–" + num(*f.Max) + " " + f.unitText()
		}
		if f.Integer && x != math.Trunc(x) {
			return nil, false, "应为整数（" + f.unitText() + "）"
		}
		return x, false, ""
	case Text:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false, "应为文字"
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, true, ""
		}
		if utf8.RuneCountInString(s) > MaxText {
			return nil, false, "不能超过 " + strconv.Itoa(MaxText) + " 字"
		}
		return s, false, ""
	case Date:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false, "应为日期 YYYY-MM-DD"
		}
		d, err := civil.Parse(s)
		if err != nil {
			return nil, false, "应为日期 YYYY-MM-DD"
		}
		if d.After(today) {
			return nil, false, "不能晚于今天"
		}
		return d.String(), false, ""
	case Texts:
		var ss []string
		if json.Unmarshal(raw, &ss) != nil {
			return nil, false, "应为文字列表"
		}
		out := make([]any, 0, len(ss))
		for i, s := range ss {
			s = strings.TrimSpace(s)
			if s == "" || utf8.RuneCountInString(s) > MaxText {
				return nil, false, "第 " + strconv.Itoa(i+1) + " 项应为 1–" + strconv.Itoa(MaxText) + " 字"
			}
			out = append(out, s)
		}
		if f.MaxItems > 0 && len(out) > f.MaxItems {
			return nil, false, "最多 " + strconv.Itoa(f.MaxItems) + " 项"
		}
		return out, false, ""
	case Rows:
		return f.decodeRows(raw, today)
	case Derived:
		return nil, false, "由系统计算，不能填写"
	}
	return nil, false, "无法读取"
}

// decodeRows reads a table: a list of objects of the item's columns. An
// empty list is an answer: there were none (无).
func (f *Field) decodeRows(raw json.RawMessage, today civil.Date) (any, bool, string) {
	var rows []map[string]json.RawMessage
	if json.Unmarshal(raw, &rows) != nil {
		return nil, false, "应为列表，每行一个对象"
	}
	if f.MaxRows > 0 && len(rows) > f.MaxRows {
		return nil, false, "最多 " + strconv.Itoa(f.MaxRows) + " 行"
	}
	out := make([]any, 0, len(rows))
	for i, r := range rows {
		row := map[string]any{}
		at := "第 " + strconv.Itoa(i+1) + " 行"
		for k, raw := range r {
			var col *Field
			for j := range f.Columns {
				if f.Columns[j].Key == k {
					col = &f.Columns[j]
				}
			}
			if col == nil {
				return nil, false, at + "：没有「" + k + "」这一列"
			}
			v, absent, reason := col.decode(raw, today)
			if reason != "" {
				return nil, false, at + "「" + col.Label + "」" + reason
			}
			if !absent {
				row[k] = v
			}
		}
		for _, col := range f.Columns {
			if _, ok := row[col.Key]; col.Required && !ok {
				return nil, false, at + "须填写「" + col.Label + "」"
			}
		}
		out = append(out, row)
	}
	return out, false, ""
}

func (f *Field) hasCode(s string) bool {
	for _, c := range f.Codes {
		if c.Code == s {
			return true
		}
	}
	return false
}

// codeHint lists a short code list, or its range when long.
func (f *Field) codeHint() string {
	if len(f.Codes) > 8 {
		return "1–" + strconv.Itoa(len(f.Codes))
	}
	parts := make([]string, len(f.Codes))
	for i, c := range f.Codes {
		parts[i] = c.Code + " " + c.Label
	}
	return strings.Join(parts, "、")
}

func (f *Field) unitText() string {
	if f.Unit == "" {
		return "无单位"
	}
	return f.Unit
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func itoa(i int) string { return strconv.Itoa(i) }
