package record

import (
	"math"
	"strconv"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// Exam is a health examination (健康体检表). Vitals are typed because the
// quality rules read them; the rest of the form (symptoms, lifestyle, organ
// function, physical examination, auxiliary tests, problems, medication,
// assessment and guidance) lives in Details.
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
	CreatedAt       time.Time  `json:"created_at" db:"created_at"`
	CreatedBy       string     `json:"created_by" db:"created_by"`
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
	return fe.Err()
}

func rangeReason(lo, hi float64) string {
	return "超出合理范围 " + strconv.FormatFloat(lo, 'f', -1, 64) + "–" + strconv.FormatFloat(hi, 'f', -1, 64)
}
