// Package examform is the health examination table (健康体检表) of the
// national basic public health service standard (国家基本公共卫生服务规范
// 第三版, 附件 健康体检表 and its 填表说明): its sections, items, code lists,
// units and plausible ranges, and the rules an answer must keep.
//
// One declarative description serves everything that shows or checks the
// form: validation here, the desk's section forms and the record page (GET
// /exam-form), the printed form (PDF) and the import's optional columns. A
// code is the item's number on the paper form ("1", "2", …), as the
// standard's data set and the legacy systems' exports write it.
package examform

import (
	"database/sql/driver"
	"encoding/json"
	"strconv"
)

// Kind is how an item is answered.
type Kind string

// The kinds of item.
const (
	Choice  Kind = "choice"  // one code of the list
	Multi   Kind = "multi"   // one or more codes; Exclusive stands alone
	Number  Kind = "number"  // a measurement in Unit within [Min, Max]
	Text    Kind = "text"    // free text (what "其他" or "异常" is)
	Date    Kind = "date"    // YYYY-MM-DD, not after today
	Texts   Kind = "texts"   // a numbered list of texts (异常 1..n)
	Rows    Kind = "rows"    // a table of rows with Columns (medication)
	Derived Kind = "derived" // computed by the service (BMI), never entered
)

// Code is one answer of a code list.
type Code struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Field is one item of a section.
type Field struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Kind  Kind   `json:"kind"`
	Codes []Code `json:"codes,omitempty"`
	// Exclusive is the code of a Multi that is an answer on its own
	// (无症状, 未发现, 未见异常): given with any other code it is refused.
	Exclusive string   `json:"exclusive,omitempty"`
	MaxItems  int      `json:"max_items,omitempty"`
	Unit      string   `json:"unit,omitempty"`
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	Integer   bool     `json:"integer,omitempty"`
	// Column marks an item kept in the exam's own typed column (the vital
	// signs and fasting glucose the quality rules read): it travels at the
	// exam's top level, not inside the section.
	Column bool `json:"column,omitempty"`
	// Required items must be answered before the section is marked complete.
	Required bool `json:"required,omitempty"`
	// Note is the form's own remark on the item (who it applies to).
	Note    string  `json:"note,omitempty"`
	Columns []Field `json:"columns,omitempty"`
	MaxRows int     `json:"max_rows,omitempty"`
}

// Section is one block of the form.
type Section struct {
	Key    string  `json:"key"`
	Label  string  `json:"label"`
	Fields []Field `json:"fields"`
	// Rule, when set, is a cross-item check beyond each item's own.
	rule func(v Values, add func(key, reason string)) `json:"-"`
	// complete, when set, is a completeness check beyond Required items.
	complete func(v Values, cols Values, add func(key, reason string)) `json:"-"`
}

// Field returns the section's item of a key.
func (s *Section) Field(key string) (*Field, bool) {
	for i := range s.Fields {
		if s.Fields[i].Key == key {
			return &s.Fields[i], true
		}
	}
	return nil, false
}

// CodeLabel is the label of a code of the item, or the code itself when the
// list does not hold it.
func (f *Field) CodeLabel(code string) string {
	for _, c := range f.Codes {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

// Values are a section's answers by item key: a code string (Choice), a
// list of codes (Multi), a number (Number), a string (Text, Date), a list of
// strings (Texts) or a list of rows, each Values (Rows).
type Values map[string]any

// Sections are an exam's answers by section key.
type Sections map[string]Values

// States are the sections' states by section key: Draft or Complete. A
// section never touched has none.
type States map[string]string

// The states of a section and of an exam.
const (
	Draft    = "draft"
	Complete = "complete"
)

// Value stores Sections as JSON.
func (s Sections) Value() (driver.Value, error) { return jsonValue(s) }

// Scan reads a JSON column.
func (s *Sections) Scan(src any) error {
	*s = Sections{}
	return jsonScan(src, s)
}

// Value stores States as JSON.
func (s States) Value() (driver.Value, error) { return jsonValue(s) }

// Scan reads a JSON column.
func (s *States) Scan(src any) error {
	*s = States{}
	return jsonScan(src, s)
}

func jsonValue(v any) (driver.Value, error) {
	b, err := json.Marshal(v)
	if string(b) == "null" {
		b = []byte("{}")
	}
	// A string, not []byte: the driver sends []byte as binary, which jsonb
	// does not take.
	return string(b), err
}

func jsonScan(src, dst any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(v, dst)
	case string:
		return json.Unmarshal([]byte(v), dst)
	}
	return nil
}

// Lookup returns the section of a key.
func Lookup(key string) (*Section, bool) {
	for i := range Form {
		if Form[i].Key == key {
			return &Form[i], true
		}
	}
	return nil, false
}

// State is an exam's state from its sections': complete when every section
// of the form is complete, else draft.
func State(st States) string {
	for _, s := range Form {
		if st[s.Key] != Complete {
			return Draft
		}
	}
	return Complete
}

// codes numbers a code list as the paper form does, from 1.
func codes(labels ...string) []Code {
	out := make([]Code, len(labels))
	for i, l := range labels {
		out[i] = Code{Code: strconv.Itoa(i + 1), Label: l}
	}
	return out
}

func fptr(v float64) *float64 { return &v }

func choice(key, label string, labels ...string) Field {
	return Field{Key: key, Label: label, Kind: Choice, Codes: codes(labels...)}
}

// multi is a Multi whose first code (无症状, 未发现, 正常 …) stands alone.
func multi(key, label string, labels ...string) Field {
	return Field{Key: key, Label: label, Kind: Multi, Codes: codes(labels...), Exclusive: "1"}
}

func number(key, label, unit string, lo, hi float64) Field {
	return Field{Key: key, Label: label, Kind: Number, Unit: unit, Min: fptr(lo), Max: fptr(hi)}
}

func integer(key, label, unit string, lo, hi float64) Field {
	f := number(key, label, unit, lo, hi)
	f.Integer = true
	return f
}

func text(key, label string) Field { return Field{Key: key, Label: label, Kind: Text} }

func date(key, label string) Field { return Field{Key: key, Label: label, Kind: Date} }

func (f Field) required() Field { f.Required = true; return f }

func (f Field) column() Field { f.Column = true; return f }

func (f Field) note(n string) Field { f.Note = n; return f }

func (f Field) max(n int) Field { f.MaxItems = n; return f }
