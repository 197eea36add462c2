package entry

import "strings"

// An entry conforms to its service specification ("符合各类服务规范要求的有关记录",
// DESIGN §5.3) when its kind's required items are filled. Only conforming
// entries make a record "used". Whether an entry conforms is settled when
// it is written: the SQL function entry_conforms (migration 00027) computes
// the stored column entries.conforming by the same rules, and the
// conformance tests hold the two to each other (docs/rates.md, "Which
// entries count").
//
// A new kind declares its rule by implementing Conformer, and adds a branch
// to entry_conforms; a kind without a rule never conforms.

// Item is one required item of a kind: the form's field and its name on the
// paper form.
type Item struct {
	Field string `json:"field"`
	Label string `json:"label"`
}

// Conformer is implemented by every kind with a service specification.
type Conformer interface {
	// Missing lists the kind's required items the entry leaves empty.
	Missing() []Item
}

// Missing lists the required items e leaves empty; a kind without a rule
// misses its specification as a whole.
func Missing(e Entry) []Item {
	c, ok := e.(Conformer)
	if !ok {
		return []Item{{Field: "kind", Label: "服务规范"}}
	}
	return c.Missing()
}

// Conforms reports whether e meets its kind's service specification.
func Conforms(e Entry) bool { return len(Missing(e)) == 0 }

// blank is the negation of SQL's entry_filled: both trim the same ASCII
// white space (space, tab, newline, CR, form feed, vertical tab).
func blank(s string) bool { return strings.Trim(s, " \t\n\r\f\v") == "" }

// need appends item when missing is true.
func need(out []Item, missing bool, field, label string) []Item {
	if missing {
		return append(out, Item{Field: field, Label: label})
	}
	return out
}

// Missing implements Conformer: a visit records the complaint and the assessment.
func (v *Visit) Missing() []Item {
	out := need(nil, blank(v.Subjective), "subjective", "主诉")
	return need(out, blank(v.Assessment), "assessment", "评估")
}

// Missing implements Conformer: a referral slip names where to, why, and the
// preliminary impression.
func (r *Referral) Missing() []Item {
	out := need(nil, blank(r.ToInstitution), "to_institution", "转入机构")
	out = need(out, blank(r.Reason), "reason", "转出原因")
	return need(out, blank(r.Impression), "impression", "初步印象")
}

// Missing implements Conformer: a follow-up carries the vital sign its
// programme is managed by (blood pressure for hypertension, fasting glucose
// for diabetes), its classification and the next date — by phone too: a
// follow-up that measured nothing does not meet the specification.
func (f *Followup) Missing() []Item {
	var out []Item
	switch f.Programme {
	case Hypertension:
		out = need(out, f.Systolic == nil || f.Diastolic == nil, "systolic", "血压")
	case Type2Diabetes:
		out = need(out, f.FastingGlucose == nil, "fasting_glucose", "空腹血糖")
	default:
		out = need(out, true, "programme", "随访项目")
	}
	out = need(out, blank(f.Classification), "classification", "此次随访分类")
	return need(out, f.NextDate.IsZero(), "next_date", "下次随访日期")
}

// Missing implements Conformer: a consultation records its reason and opinion.
func (c *Consultation) Missing() []Item {
	out := need(nil, blank(c.Reason), "reason", "会诊原因")
	return need(out, blank(c.Opinion), "opinion", "会诊意见")
}

// Missing implements Conformer: a hospitalisation records the admission
// date, the hospital and the diagnosis.
func (h *Hospitalisation) Missing() []Item {
	out := need(nil, h.AdmittedOn.IsZero(), "admitted_on", "入院日期")
	out = need(out, blank(h.Hospital), "hospital", "医院")
	return need(out, blank(h.Diagnosis), "diagnosis", "诊断")
}

// Missing implements Conformer: every child visit weighs the child; the
// newborn visit records the birth weight, feeding, jaundice and the
// umbilical cord, a health check the length (新生儿家庭访视记录表,
// 儿童健康检查记录表).
func (v *ChildVisit) Missing() []Item {
	out := need(nil, v.WeightKG == nil, "weight_kg", "体重")
	if v.Service == NewbornVisit {
		out = need(out, v.BirthWeightKG == nil, "birth_weight_kg", "出生体重")
		out = need(out, blank(v.Feeding), "feeding", "喂养方式")
		out = need(out, blank(v.Jaundice), "jaundice", "黄疸部位")
		return need(out, blank(v.UmbilicalCord), "umbilical_cord", "脐带")
	}
	return need(out, v.LengthCM == nil, "length_cm", "身长（身高）")
}

// Missing implements Conformer: every maternal visit takes the blood
// pressure and classifies; an antenatal one records the gestational week
// and weight, from the second on the fundal height and fetal heart; a
// postpartum one the breasts, lochia, uterus and wound.
func (v *MaternalVisit) Missing() []Item {
	out := need(nil, v.Systolic == nil || v.Diastolic == nil, "systolic", "血压")
	out = need(out, blank(v.Classification), "classification", "分类")
	switch {
	case v.Service.prenatal():
		out = need(out, v.GestationalWeeks == nil, "gestational_weeks", "孕周")
		out = need(out, v.WeightKG == nil, "weight_kg", "体重")
		if v.Service != Prenatal1 {
			out = need(out, v.FundalHeightCM == nil, "fundal_height_cm", "宫底高度")
			out = need(out, v.FetalHeartRate == nil, "fetal_heart_rate", "胎心率")
		}
	case v.Service == Postpartum || v.Service == Postpartum42:
		out = need(out, blank(v.Breasts), "breasts", "乳房")
		out = need(out, blank(v.Lochia), "lochia", "恶露")
		out = need(out, blank(v.Uterus), "uterus", "子宫")
		out = need(out, blank(v.Wound), "wound", "伤口")
	}
	return out
}

// Missing implements Conformer: the annual health management answers the
// health self-assessment and every self-care item.
func (v *ElderlyCheck) Missing() []Item {
	out := need(nil, v.HealthSelfAssessment == nil, "health_self_assessment", "健康状态自我评估")
	for i, p := range v.SelfCare.items() {
		out = need(out, p == nil, "self_care."+selfCareScores[i].Field, "生活自理能力："+selfCareScores[i].Name)
	}
	return out
}
