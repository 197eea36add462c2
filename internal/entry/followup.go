package entry

import (
	"math"
	"strconv"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// Follow-up methods (随访方式).
const (
	MethodClinic = "clinic" // 门诊
	MethodHome   = "home"   // 家庭
	MethodPhone  = "phone"  // 电话
)

// Medication adherence (服药依从性).
const (
	AdherenceRegular      = "regular"      // 规律
	AdherenceIntermittent = "intermittent" // 间断
	AdherenceNone         = "none"         // 不服药
)

// Follow-up classifications (此次随访分类).
const (
	ClassSatisfactory    = "satisfactory"     // 控制满意
	ClassUnsatisfactory  = "unsatisfactory"   // 控制不满意
	ClassAdverseReaction = "adverse_reaction" // 不良反应
	ClassComplication    = "complication"     // 并发症
)

// FollowupNote is a follow-up's own record (随访记录, DESIGN §4.3), apart
// from the programme and next date, which are columns of their own.
type FollowupNote struct {
	Method           string   `json:"method"`
	Symptoms         []string `json:"symptoms"`
	Systolic         *int     `json:"systolic"`
	Diastolic        *int     `json:"diastolic"`
	FastingGlucose   *float64 `json:"fasting_glucose"` // mmol/L
	WeightKG         *float64 `json:"weight_kg"`
	LifestyleAdvice  string   `json:"lifestyle_advice"`
	Adherence        string   `json:"adherence"`
	AdverseReactions string   `json:"adverse_reactions"` // empty: none
	Classification   string   `json:"classification"`
}

// FollowupForm is what a client sends to record a follow-up.
type FollowupForm struct {
	Base
	Programme Programme `json:"programme"`
	// NextDate is the agreed next follow-up; when empty the next one is due
	// 3 months after this one.
	NextDate civil.Date `json:"next_date"`
	FollowupNote
}

// Followup is a follow-up of a hypertension or type-2 diabetes enrolment.
type Followup struct {
	Meta
	FollowupForm
}

// Form implements Entry.
func (f *Followup) Form() any { return &f.FollowupForm }

// Own implements Entry.
func (f *Followup) Own() any { return &f.FollowupNote }

// Validate implements Entry. A follow-up measured in person (clinic or home)
// carries the programme's measurement: blood pressure for hypertension,
// fasting glucose for diabetes; by phone it may not.
func (f *Followup) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	f.Base.validate(&fe, today)
	switch {
	case f.Programme == "":
		fe.Add("programme", "随访项目不能为空（hypertension 或 type2_diabetes）")
	case !f.Programme.FollowedUp():
		fe.Add("programme", "随访项目应为 hypertension（高血压）或 type2_diabetes（2 型糖尿病）")
	}
	if !f.NextDate.IsZero() && !f.ServiceDate.IsZero() && !f.NextDate.After(f.ServiceDate) {
		fe.Add("next_date", "下次随访日期应晚于本次随访日期")
	} else if !f.NextDate.IsZero() && f.NextDate.After(today.AddMonths(24)) {
		fe.Add("next_date", "下次随访日期不能晚于两年后")
	}
	if !oneOf(f.Method, MethodClinic, MethodHome, MethodPhone) {
		fe.Add("method", "随访方式应为 clinic（门诊）、home（家庭）或 phone（电话）")
	}
	if f.Adherence != "" && !oneOf(f.Adherence, AdherenceRegular, AdherenceIntermittent, AdherenceNone) {
		fe.Add("adherence", "服药依从性应为 regular（规律）、intermittent（间断）或 none（不服药）")
	}
	if !oneOf(f.Classification, ClassSatisfactory, ClassUnsatisfactory, ClassAdverseReaction, ClassComplication) {
		fe.Add("classification", "随访分类应为 satisfactory、unsatisfactory、adverse_reaction 或 complication")
	}
	if len(f.Symptoms) > 30 {
		fe.Add("symptoms", "症状最多 30 项")
	}
	for i := range f.Symptoms {
		text(&fe, "symptoms", &f.Symptoms[i], true, "症状")
	}
	if f.Symptoms == nil {
		f.Symptoms = []string{}
	}
	text(&fe, "lifestyle_advice", &f.LifestyleAdvice, false, "生活方式指导")
	text(&fe, "adverse_reactions", &f.AdverseReactions, false, "药物不良反应")
	if f.Classification == ClassAdverseReaction && f.AdverseReactions == "" {
		fe.Add("adverse_reactions", "分类为不良反应时须填写药物不良反应")
	}
	intIn(&fe, "systolic", f.Systolic, 50, 300)
	intIn(&fe, "diastolic", f.Diastolic, 20, 200)
	floatIn(&fe, "fasting_glucose", f.FastingGlucose, 0.5, 40)
	floatIn(&fe, "weight_kg", f.WeightKG, 1, 400)
	switch {
	case (f.Systolic == nil) != (f.Diastolic == nil):
		fe.Add("diastolic", "收缩压与舒张压须同时填写")
	case f.Systolic != nil && *f.Systolic <= *f.Diastolic:
		fe.Add("diastolic", "舒张压应低于收缩压")
	}
	if f.Method != MethodPhone {
		if f.Programme == Hypertension && f.Systolic == nil {
			fe.Add("systolic", "门诊或家庭随访高血压须测量血压")
		}
		if f.Programme == Type2Diabetes && f.FastingGlucose == nil {
			fe.Add("fasting_glucose", "门诊或家庭随访糖尿病须测空腹血糖")
		}
	}
	return fe.Err()
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

func intIn(fe *apperr.FieldErrors, field string, v *int, lo, hi int) {
	if v != nil && (*v < lo || *v > hi) {
		fe.Add(field, "超出合理范围 "+strconv.Itoa(lo)+"–"+strconv.Itoa(hi))
	}
}

func floatIn(fe *apperr.FieldErrors, field string, v *float64, lo, hi float64) {
	if v != nil && (math.IsNaN(*v) || *v < lo || *v > hi) {
		fe.Add(field, "超出合理范围 "+strconv.FormatFloat(lo, 'f', -1, 64)+"–"+strconv.FormatFloat(hi, 'f', -1, 64))
	}
}
