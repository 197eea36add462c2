package record

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/examform"
)

// Exam is a health examination (健康体检表). Vitals and fasting glucose are
// typed because the quality rules read them; the rest of the form is in
// Sections, one per section of the form (internal/examform), each saved as
// a draft and finished later. Details keeps the free text of exams from
// before the sections.
type Exam struct {
	ID              int64      `json:"id" db:"id"`
	RecordID        string     `json:"record_id" db:"record_id"`
	ExamDate        civil.Date `json:"service_date" db:"exam_date"`
	Doctor          string     `json:"staff_code" db:"doctor"`
	InstitutionCode string     `json:"institution_code" db:"institution_code"`
	Temperature     *float64   `json:"temperature" db:"temperature"`
	Pulse           *int       `json:"pulse" db:"pulse"`
	Respiration     *int       `json:"respiration" db:"respiration"`
	Systolic        *int       `json:"systolic" db:"systolic"`
	Diastolic       *int       `json:"diastolic" db:"diastolic"`
	SystolicRight   *int       `json:"systolic_right" db:"systolic_right"`
	DiastolicRight  *int       `json:"diastolic_right" db:"diastolic_right"`
	HeightCM        *float64   `json:"height_cm" db:"height_cm"`
	WeightKG        *float64   `json:"weight_kg" db:"weight_kg"`
	WaistCM         *float64   `json:"waist_cm" db:"waist_cm"`
	FastingGlucose  *float64   `json:"fasting_glucose" db:"fasting_glucose"`
	BMI             *float64   `json:"bmi" db:"-"`
	Details         Details    `json:"details" db:"details"`
	// Sections are the form's answers by section key; SectionStates the
	// state of each section saved, and State the exam's: complete once
	// every section is.
	Sections      examform.Sections `json:"sections" db:"sections"`
	SectionStates examform.States   `json:"section_states" db:"section_states"`
	State         string            `json:"state" db:"state"`
	CreatedAt     time.Time         `json:"created_at" db:"created_at"`
	CreatedBy     string            `json:"created_by" db:"created_by"`
	UpdatedAt     *time.Time        `json:"updated_at" db:"updated_at"`
	UpdatedBy     string            `json:"updated_by" db:"updated_by"`
}

// Complete reports whether the exam has blood pressure, height and weight
// (quality rule Q11).
func (e *Exam) Complete() bool {
	bp := e.Systolic != nil && e.Diastolic != nil || e.SystolicRight != nil && e.DiastolicRight != nil
	return bp && e.HeightCM != nil && e.WeightKG != nil
}

// DeriveBMI sets BMI from height and weight, to one decimal.
func (e *Exam) DeriveBMI() {
	e.BMI = nil
	if e.HeightCM != nil && e.WeightKG != nil && *e.HeightCM > 0 {
		m := *e.HeightCM / 100
		v := math.Round(*e.WeightKG/(m*m)*10) / 10
		e.BMI = &v
	}
}

// Validate checks an exam's date and that vitals are physiologically possible.
func (e *Exam) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	if e.ExamDate.IsZero() {
		fe.Add("service_date", "体检日期不能为空")
	} else if e.ExamDate.After(today) {
		fe.Add("service_date", "体检日期不能晚于今天")
	}
	rangeF := func(field string, v *float64, lo, hi float64) {
		if v != nil && (*v < lo || *v > hi || math.IsNaN(*v)) {
			fe.Add(field, rangeReason(lo, hi))
		}
	}
	rangeI := func(field string, v *int, lo, hi int) {
		if v != nil && (*v < lo || *v > hi) {
			fe.Add(field, rangeReason(float64(lo), float64(hi)))
		}
	}
	rangeF("temperature", e.Temperature, 30, 45)
	rangeI("pulse", e.Pulse, 20, 250)
	rangeI("respiration", e.Respiration, 4, 80)
	rangeI("systolic", e.Systolic, 50, 300)
	rangeI("diastolic", e.Diastolic, 20, 200)
	rangeI("systolic_right", e.SystolicRight, 50, 300)
	rangeI("diastolic_right", e.DiastolicRight, 20, 200)
	rangeF("height_cm", e.HeightCM, 30, 250)
	rangeF("weight_kg", e.WeightKG, 1, 400)
	rangeF("waist_cm", e.WaistCM, 20, 250)
	rangeF("fasting_glucose", e.FastingGlucose, 0.5, 40)
	if (e.Systolic == nil) != (e.Diastolic == nil) {
		fe.Add("diastolic", "收缩压与舒张压须同时填写")
	} else if e.Systolic != nil && *e.Systolic <= *e.Diastolic {
		fe.Add("diastolic", "舒张压应低于收缩压")
	}
	if (e.SystolicRight == nil) != (e.DiastolicRight == nil) {
		fe.Add("diastolic_right", "收缩压与舒张压须同时填写")
	}
	if e.Details == nil {
		e.Details = Details{}
	}
	e.DeriveBMI()
	if err := fe.Err(); err != nil {
		return err
	}
	return e.validateSections(today)
}

// validateSections checks every section's answers and state: answers
// normalized, states draft or complete, a complete section answered in
// full. It sets the exam's state from its sections'.
func (e *Exam) validateSections(today civil.Date) error {
	if e.Sections == nil {
		e.Sections = examform.Sections{}
	}
	if e.SectionStates == nil {
		e.SectionStates = examform.States{}
	}
	var fe apperr.FieldErrors
	keep := func(err error) {
		if ae, ok := apperr.As(err); ok && len(ae.Fields) > 0 {
			fe = append(fe, ae.Fields...)
		} else if err != nil {
			fe.Add("sections", err.Error())
		}
	}
	var cols examform.Values // read when a complete section needs them
	for key, v := range e.Sections {
		s, ok := examform.Lookup(key)
		if !ok {
			fe.Add("sections."+key, "体检表没有这一部分")
			continue
		}
		norm, err := s.Check(v, today)
		keep(err)
		if err == nil {
			e.Sections[key] = norm
		}
	}
	for key, st := range e.SectionStates {
		s, ok := examform.Lookup(key)
		switch {
		case !ok:
			fe.Add("section_states."+key, "体检表没有这一部分")
		case st != examform.Draft && st != examform.Complete:
			fe.Add("section_states."+key, "应为 draft（暂存）或 complete（已完成）")
		case st == examform.Complete:
			if cols == nil {
				cols = e.ColumnValues()
			}
			keep(s.Missing(e.Sections[key], cols))
		}
	}
	// A section answered without a state is a draft.
	for key := range e.Sections {
		if _, ok := e.SectionStates[key]; !ok {
			e.SectionStates[key] = examform.Draft
		}
	}
	e.State = examform.State(e.SectionStates)
	return fe.Err()
}

// ColumnValues are the form's items kept in the exam's typed columns that
// are recorded, by item key, as numbers.
func (e *Exam) ColumnValues() examform.Values {
	out := examform.Values{}
	v := reflect.ValueOf(e).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		switch x := f.Elem().Interface().(type) {
		case float64:
			out[tag] = x
		case int:
			out[tag] = float64(x)
		}
	}
	return out
}

// ApplySection merges a patch into one section of the form (examform
// Apply): the section's own items into Sections, its column items into the
// typed fields. The section's state becomes state, or stays as it was (a
// draft when new) when state is empty. The whole exam is then validated.
//
// Returns NotFound for a section the form does not have, Invalid with the
// fields at fault.
func (e *Exam) ApplySection(key string, patch map[string]json.RawMessage, state string, today civil.Date) error {
	s, ok := examform.Lookup(key)
	if !ok {
		return apperr.NotFoundf("体检表没有「%s」这一部分", key)
	}
	if e.Sections == nil {
		e.Sections = examform.Sections{}
	}
	if e.SectionStates == nil {
		e.SectionStates = examform.States{}
	}
	next, cols, err := s.Apply(e.Sections[key], patch, today)
	if err != nil {
		return err
	}
	if len(cols) > 0 {
		// Column items merge as the section's do: given replaces, null
		// clears (a pointer set to nil).
		var fe apperr.FieldErrors
		for k, raw := range cols {
			b, _ := json.Marshal(map[string]json.RawMessage{k: raw})
			if err := json.Unmarshal(b, e); err != nil {
				fe.Add(k, "应为数值")
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
	}
	e.Sections[key] = next
	switch {
	case state != "":
		e.SectionStates[key] = state
	case e.SectionStates[key] == "":
		e.SectionStates[key] = examform.Draft
	}
	return e.Validate(today)
}

func rangeReason(lo, hi float64) string {
	return "超出合理范围 " + strconv.FormatFloat(lo, 'f', -1, 64) + "–" + strconv.FormatFloat(hi, 'f', -1, 64)
}
