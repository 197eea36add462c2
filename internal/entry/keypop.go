package entry

import (
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// The forms of the key populations' scheduled services: one entry kind per
// population, the service it gives naming which of the standard's tables it
// is (a newborn home visit or a child health check, an antenatal or a
// postpartum visit, the elderly's annual health management).

// Answers of the forms' closed items.
const (
	Normal   = "normal"   // 未见异常
	Abnormal = "abnormal" // 异常
)

// Feeding (喂养方式).
var feedings = []string{"exclusive_breast", "mixed", "formula"} // 纯母乳、混合、人工

// Jaundice (黄疸部位): none, or where it shows.
var jaundices = []string{"none", "face", "trunk", "limbs", "palms_soles"} // 无、面部、躯干、四肢、手足

// Umbilical cord (脐带).
var cords = []string{"not_fallen", "fallen", "oozing", "other"} // 未脱、脱落、脐部有渗出、其他

// ChildVisitNote is the newborn home visit (新生儿家庭访视记录表) or a
// child health check (儿童健康检查记录表) of the 0–6 programme.
type ChildVisitNote struct {
	Service Service `json:"service"`
	// The newborn visit's own items.
	BirthWeightKG  *float64 `json:"birth_weight_kg"` // 出生体重
	GestationWeeks *int     `json:"gestation_weeks"` // 出生孕周
	Jaundice       string   `json:"jaundice"`
	UmbilicalCord  string   `json:"umbilical_cord"`
	TemperatureC   *float64 `json:"temperature_c"`
	// Every visit's.
	Feeding             string   `json:"feeding"`
	WeightKG            *float64 `json:"weight_kg"`             // 目前体重
	LengthCM            *float64 `json:"length_cm"`             // 身长（身高）
	HeadCircumferenceCM *float64 `json:"head_circumference_cm"` // 头围
	HemoglobinGL        *float64 `json:"hemoglobin_gl"`         // 血红蛋白 g/L
	Development         string   `json:"development"`           // 发育评估: normal (通过) / abnormal (未通过)
	Illness             string   `json:"illness"`               // 两次随访间患病情况
	Guidance            string   `json:"guidance"`              // 指导
}

// ChildVisitForm is what a client sends to record a child's visit.
type ChildVisitForm struct {
	Base
	ChildVisitNote
}

// ChildVisit is a service of the children's programme.
type ChildVisit struct {
	Meta
	ChildVisitForm
}

// Form implements Entry.
func (v *ChildVisit) Form() any { return &v.ChildVisitForm }

// Own implements Entry.
func (v *ChildVisit) Own() any { return &v.ChildVisitNote }

// Validate implements Entry. A newborn visit records birth and current
// weight, feeding, jaundice and the umbilical cord; a health check the
// weight and length.
func (v *ChildVisit) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	v.Base.validate(&fe, today)
	if v.Service.Programme() != Children06 {
		fe.Add("service", "服务应为 newborn_visit（新生儿家庭访视）或 check_1m … check_72m（健康检查）")
	}
	newborn := v.Service == NewbornVisit
	floatIn(&fe, "birth_weight_kg", v.BirthWeightKG, 0.3, 7)
	intIn(&fe, "gestation_weeks", v.GestationWeeks, 20, 45)
	floatIn(&fe, "temperature_c", v.TemperatureC, 30, 43)
	floatIn(&fe, "weight_kg", v.WeightKG, 0.3, 60)
	floatIn(&fe, "length_cm", v.LengthCM, 20, 150)
	floatIn(&fe, "head_circumference_cm", v.HeadCircumferenceCM, 20, 60)
	floatIn(&fe, "hemoglobin_gl", v.HemoglobinGL, 20, 250)
	choice(&fe, "feeding", v.Feeding, newborn, "喂养方式应为 exclusive_breast（纯母乳）、mixed（混合）或 formula（人工）", feedings...)
	choice(&fe, "jaundice", v.Jaundice, newborn, "黄疸部位应为 none（无）、face、trunk、limbs 或 palms_soles", jaundices...)
	choice(&fe, "umbilical_cord", v.UmbilicalCord, newborn, "脐带应为 not_fallen（未脱）、fallen（脱落）、oozing（有渗出）或 other", cords...)
	choice(&fe, "development", v.Development, false, "发育评估应为 normal（通过）或 abnormal（未通过）", Normal, Abnormal)
	if newborn && v.BirthWeightKG == nil {
		fe.Add("birth_weight_kg", "新生儿访视须填写出生体重")
	}
	if v.WeightKG == nil {
		fe.Add("weight_kg", "须填写目前体重")
	}
	if !newborn && v.Service != "" && v.LengthCM == nil {
		fe.Add("length_cm", "健康检查须测量身长（身高）")
	}
	if !newborn {
		for _, f := range []struct {
			name string
			set  bool
		}{{"birth_weight_kg", v.BirthWeightKG != nil}, {"jaundice", v.Jaundice != ""}, {"umbilical_cord", v.UmbilicalCord != ""}} {
			if f.set && v.Service != "" {
				fe.Add(f.name, "仅新生儿家庭访视填写此项")
			}
		}
	}
	text(&fe, "illness", &v.Illness, false, "两次随访间患病情况")
	text(&fe, "guidance", &v.Guidance, false, "指导")
	return fe.Err()
}

// MaternalVisitNote is an antenatal (第1次产前检查服务记录表, 第2~5次产前
// 随访服务记录表) or postpartum (产后访视记录表, 产后42天健康检查记录表)
// visit of the maternal programme.
type MaternalVisitNote struct {
	Service Service `json:"service"`
	// Antenatal items.
	GestationalWeeks         *int     `json:"gestational_weeks"` // 孕周
	Gravidity                *int     `json:"gravidity"`         // 孕次
	Parity                   *int     `json:"parity"`            // 产次
	HeightCM                 *float64 `json:"height_cm"`
	WeightKG                 *float64 `json:"weight_kg"`
	FundalHeightCM           *float64 `json:"fundal_height_cm"`           // 宫底高度
	AbdominalCircumferenceCM *float64 `json:"abdominal_circumference_cm"` // 腹围
	FetalHeartRate           *int     `json:"fetal_heart_rate"`           // 胎心率 次/分
	HemoglobinGL             *float64 `json:"hemoglobin_gl"`
	// Every visit's.
	Systolic  *int `json:"systolic"`
	Diastolic *int `json:"diastolic"`
	// Postpartum items: normal or abnormal; a wound also none (无伤口).
	TemperatureC *float64 `json:"temperature_c"`
	Breasts      string   `json:"breasts"` // 乳房
	Lochia       string   `json:"lochia"`  // 恶露
	Uterus       string   `json:"uterus"`  // 子宫
	Wound        string   `json:"wound"`   // 伤口
	// Classification (分类): normal, or abnormal with what is abnormal.
	Classification string `json:"classification"`
	Abnormality    string `json:"abnormality"`
	Guidance       string `json:"guidance"`
}

// MaternalVisitForm is what a client sends to record a maternal visit.
type MaternalVisitForm struct {
	Base
	MaternalVisitNote
}

// MaternalVisit is a service of the maternal programme.
type MaternalVisit struct {
	Meta
	MaternalVisitForm
}

// Form implements Entry.
func (v *MaternalVisit) Form() any { return &v.MaternalVisitForm }

// Own implements Entry.
func (v *MaternalVisit) Own() any { return &v.MaternalVisitNote }

// Validate implements Entry. Every visit takes the blood pressure and
// classifies; an antenatal visit records the gestational week and weight,
// from the second on the fundal height and fetal heart; a postpartum one the
// breasts, lochia, uterus and wound.
func (v *MaternalVisit) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	v.Base.validate(&fe, today)
	if v.Service.Programme() != Maternal {
		fe.Add("service", "服务应为 prenatal_1 … prenatal_5（产前检查/随访）、postpartum（产后访视）或 postpartum_42（产后42天检查）")
	}
	antenatal := v.Service.prenatal()
	postnatal := v.Service == Postpartum || v.Service == Postpartum42
	intIn(&fe, "gestational_weeks", v.GestationalWeeks, 1, 45)
	intIn(&fe, "gravidity", v.Gravidity, 1, 20)
	intIn(&fe, "parity", v.Parity, 0, 20)
	floatIn(&fe, "height_cm", v.HeightCM, 100, 220)
	floatIn(&fe, "weight_kg", v.WeightKG, 25, 200)
	floatIn(&fe, "fundal_height_cm", v.FundalHeightCM, 5, 50)
	floatIn(&fe, "abdominal_circumference_cm", v.AbdominalCircumferenceCM, 50, 160)
	intIn(&fe, "fetal_heart_rate", v.FetalHeartRate, 60, 220)
	floatIn(&fe, "hemoglobin_gl", v.HemoglobinGL, 20, 250)
	floatIn(&fe, "temperature_c", v.TemperatureC, 30, 43)
	intIn(&fe, "systolic", v.Systolic, 50, 300)
	intIn(&fe, "diastolic", v.Diastolic, 20, 200)
	switch {
	case v.Systolic == nil || v.Diastolic == nil:
		fe.Add("systolic", "须测量血压（收缩压与舒张压）")
	case *v.Systolic <= *v.Diastolic:
		fe.Add("diastolic", "舒张压应低于收缩压")
	}
	if antenatal {
		if v.GestationalWeeks == nil {
			fe.Add("gestational_weeks", "产前检查须填写孕周")
		}
		if v.WeightKG == nil {
			fe.Add("weight_kg", "产前检查须测量体重")
		}
		if v.Service != Prenatal1 && v.FundalHeightCM == nil {
			fe.Add("fundal_height_cm", "产前随访须测量宫底高度")
		}
		if v.Service != Prenatal1 && v.FetalHeartRate == nil {
			fe.Add("fetal_heart_rate", "产前随访须听胎心率")
		}
	}
	const item = "应为 normal（未见异常）或 abnormal（异常）"
	choice(&fe, "breasts", v.Breasts, postnatal, "乳房"+item, Normal, Abnormal)
	choice(&fe, "lochia", v.Lochia, postnatal, "恶露"+item, Normal, Abnormal)
	choice(&fe, "uterus", v.Uterus, postnatal, "子宫"+item, Normal, Abnormal)
	choice(&fe, "wound", v.Wound, postnatal, "伤口应为 none（无伤口）、normal（愈合良好）或 abnormal（异常）", "none", Normal, Abnormal)
	if antenatal {
		for _, f := range []struct{ name, v string }{{"breasts", v.Breasts}, {"lochia", v.Lochia}, {"uterus", v.Uterus}, {"wound", v.Wound}} {
			if f.v != "" {
				fe.Add(f.name, "产前检查不填写产后项目")
			}
		}
	}
	choice(&fe, "classification", v.Classification, true, "分类应为 normal（未见异常）或 abnormal（异常）", Normal, Abnormal)
	text(&fe, "abnormality", &v.Abnormality, v.Classification == Abnormal, "异常情况")
	text(&fe, "guidance", &v.Guidance, false, "指导")
	return fe.Err()
}

// SelfCare is the elderly self-care ability assessment (老年人生活自理能力
// 评估表): for each item the level 0 (可自理) … 3 (不能自理) of the
// standard's columns.
type SelfCare struct {
	Eating    *int `json:"eating"`    // 进餐
	Grooming  *int `json:"grooming"`  // 梳洗
	Dressing  *int `json:"dressing"`  // 穿衣
	Toileting *int `json:"toileting"` // 如厕
	Activity  *int `json:"activity"`  // 活动
}

// selfCareScores are the standard's scores of each item's four levels.
var selfCareScores = []struct {
	Field  string
	Name   string
	Scores [4]int
}{
	{"eating", "进餐", [4]int{0, 0, 3, 5}},
	{"grooming", "梳洗", [4]int{0, 1, 3, 7}},
	{"dressing", "穿衣", [4]int{0, 0, 3, 5}},
	{"toileting", "如厕", [4]int{0, 1, 5, 10}},
	{"activity", "活动", [4]int{0, 1, 5, 10}},
}

func (s *SelfCare) items() []*int {
	return []*int{s.Eating, s.Grooming, s.Dressing, s.Toileting, s.Activity}
}

// Score is the assessment's total (0–37), when every item is answered.
func (s *SelfCare) Score() (int, bool) {
	total := 0
	for i, v := range s.items() {
		if v == nil || *v < 0 || *v > 3 {
			return 0, false
		}
		total += selfCareScores[i].Scores[*v]
	}
	return total, true
}

// SelfCareLevel classifies a total as the standard does: 0–3 可自理
// (independent), 4–8 轻度依赖 (mild), 9–18 中度依赖 (moderate), ≥ 19 不能
// 自理 (dependent).
func SelfCareLevel(score int) string {
	switch {
	case score <= 3:
		return "independent"
	case score <= 8:
		return "mild"
	case score <= 18:
		return "moderate"
	}
	return "dependent"
}

// ElderlyCheckNote is the annual health management of a resident aged 65
// or more (老年人健康管理): the self-assessments, their screens and the
// guidance. The score and level are computed, never taken from a client.
type ElderlyCheckNote struct {
	Service Service `json:"service"` // annual
	// HealthSelfAssessment is 老年人健康状态自我评估: 1 满意, 2 基本满意,
	// 3 说不清楚, 4 不太满意, 5 不满意.
	HealthSelfAssessment *int     `json:"health_self_assessment"`
	SelfCare             SelfCare `json:"self_care"`
	SelfCareScore        int      `json:"self_care_score"`
	SelfCareLevel        string   `json:"self_care_level"`
	Cognition            string   `json:"cognition"` // 认知功能粗筛: negative (阴性) / positive (阳性)
	Emotion              string   `json:"emotion"`   // 情感状态粗筛
	Guidance             string   `json:"guidance"`
}

// ElderlyCheckForm is what a client sends to record the annual health management.
type ElderlyCheckForm struct {
	Base
	ElderlyCheckNote
}

// ElderlyCheck is a service of the elderly programme.
type ElderlyCheck struct {
	Meta
	ElderlyCheckForm
}

// Form implements Entry.
func (v *ElderlyCheck) Form() any { return &v.ElderlyCheckForm }

// Own implements Entry.
func (v *ElderlyCheck) Own() any { return &v.ElderlyCheckNote }

// Validate implements Entry: the health self-assessment and every
// self-care item are answered; the score and level follow from them.
func (v *ElderlyCheck) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	v.Base.validate(&fe, today)
	if v.Service == "" {
		v.Service = Annual
	}
	if v.Service != Annual {
		fe.Add("service", "服务应为 annual（年度健康管理）")
	}
	if v.HealthSelfAssessment == nil {
		fe.Add("health_self_assessment", "须填写健康状态自我评估（1–5）")
	}
	intIn(&fe, "health_self_assessment", v.HealthSelfAssessment, 1, 5)
	for i, p := range v.SelfCare.items() {
		f := "self_care." + selfCareScores[i].Field
		switch {
		case p == nil:
			fe.Add(f, "须评估"+selfCareScores[i].Name+"（0 可自理 … 3 不能自理）")
		case *p < 0 || *p > 3:
			fe.Add(f, selfCareScores[i].Name+"应为 0–3（可自理、轻度依赖、中度依赖、不能自理）")
		}
	}
	const screen = "应为 negative（阴性）或 positive（阳性）"
	choice(&fe, "cognition", v.Cognition, false, "认知功能粗筛"+screen, "negative", "positive")
	choice(&fe, "emotion", v.Emotion, false, "情感状态粗筛"+screen, "negative", "positive")
	text(&fe, "guidance", &v.Guidance, false, "健康指导")
	if score, ok := v.SelfCare.Score(); ok {
		v.SelfCareScore, v.SelfCareLevel = score, SelfCareLevel(score)
	}
	return fe.Err()
}

// choice checks a closed item: one of options, or empty when not required.
func choice(fe *apperr.FieldErrors, field, v string, required bool, reason string, options ...string) {
	if v == "" && !required {
		return
	}
	if !oneOf(v, options...) {
		fe.Add(field, reason)
	}
}
