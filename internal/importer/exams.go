package importer

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"healthrec/internal/apperr"
	"healthrec/internal/examform"
	"healthrec/internal/record"
)

// examVitalColumns are the exam's typed items beyond blood pressure, height
// and weight, optional columns of entries.csv (fasting_glucose is a
// follow-up column that an exam may fill too).
var examVitalColumns = []string{"temperature", "pulse", "respiration", "systolic_right", "diastolic_right", "waist_cm"}

// examItemColumns are the optional columns of the health examination
// table: the vital signs above, then one column per item of the form,
// named "<section>.<item>" (GET /exam-form, docs/import.md).
var examItemColumns = examColumns()

func examColumns() []string {
	out := slices.Clone(examVitalColumns)
	for _, s := range examform.Form {
		for _, f := range s.Fields {
			if !f.Column && f.Kind != examform.Derived {
				out = append(out, s.Key+"."+f.Key)
			}
		}
	}
	return out
}

// listSeparators split a cell of several codes ("2|3", "2、3").
var listSeparators = regexp.MustCompile(`[|、,，;；\s]+`)

// examItems reads the optional exam columns of a row into e, checked as
// the API checks a section. A section with answers is complete when the
// file carries every item the form requires of it, else a draft.
func (im *importer) examItems(t *table, e *record.Exam) {
	at := examItemsStart(t)
	e.Temperature, e.Pulse, e.Respiration = t.decimal(at), t.integer(at+1), t.integer(at+2)
	e.SystolicRight, e.DiastolicRight, e.WaistCM = t.integer(at+3), t.integer(at+4), t.decimal(at+5)
	e.FastingGlucose = t.decimal(ecGlucose)
	e.Sections, e.SectionStates = examform.Sections{}, examform.States{}
	var cols examform.Values        // when a section is answered
	k := at + len(examVitalColumns) // the columns follow examColumns' order
	for i := range examform.Form {
		s := &examform.Form[i]
		patch := map[string]json.RawMessage{}
		for _, f := range s.Fields {
			if f.Column || f.Kind == examform.Derived {
				continue
			}
			cell := t.get(k)
			k++
			if cell == "" {
				continue
			}
			raw, reason := examCell(f, cell)
			if reason != "" {
				t.fail(s.Key+"."+f.Key, reason)
				continue
			}
			patch[f.Key] = raw
		}
		if len(patch) == 0 {
			continue
		}
		v, _, err := s.Apply(nil, patch, im.opt.Today)
		if ae, ok := apperr.As(err); ok {
			for _, f := range ae.Fields {
				t.fail(f.Field, f.Reason)
			}
			continue
		}
		e.Sections[s.Key] = v
		e.SectionStates[s.Key] = examform.Draft
		if cols == nil {
			cols = e.ColumnValues()
		}
		if s.Missing(v, cols) == nil {
			e.SectionStates[s.Key] = examform.Complete
		}
	}
	e.State = examform.State(e.SectionStates)
}

// examItemsStart is the position of the first exam column in t's columns:
// they come last.
func examItemsStart(t *table) int { return len(t.columns) - len(examItemColumns) }

// examCell turns a cell into the item's JSON answer: codes and texts as
// strings, several codes split on | 、 , ;, several texts on |, numbers as
// numbers, a table (medication, hospital stays) as the JSON array the API
// takes.
func examCell(f examform.Field, cell string) (json.RawMessage, string) {
	var v any = cell
	switch f.Kind {
	case examform.Multi:
		v = listSeparators.Split(cell, -1)
	case examform.Texts:
		var out []string
		for _, s := range strings.Split(cell, "|") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		v = out
	case examform.Number:
		x, err := strconv.ParseFloat(cell, 64)
		if err != nil || strings.ContainsAny(cell, "xXeEnN") {
			return nil, "应为数字: " + quote(cell)
		}
		v = x
	case examform.Rows:
		if !json.Valid([]byte(cell)) {
			return nil, "应为 JSON 数组，如 [{\"name\":\"…\"}]"
		}
		return json.RawMessage(cell), ""
	}
	b, _ := json.Marshal(v)
	return b, ""
}

// notExamItems refuses the exam columns on a row of another kind.
func (im *importer) notExamItems(t *table) {
	at := examItemsStart(t)
	for k, c := range examItemColumns {
		if t.get(at+k) != "" {
			t.fail(c, "只有体检（exam）填写 "+c)
		}
	}
}
