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
