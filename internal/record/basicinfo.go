package record

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// BasicInfo is the rest of the personal basic information table (个人基本
// 信息表, DESIGN §3) as coded answers (codes.go). Every item tells "not
// recorded" (未填写) from "none" (无):
//   - a single answer: "" is not recorded; "none" is the list's own code
//     where it has one (厨房排风设施 1 无);
//   - a list of codes: null is not recorded; "none" is the list's 无 code
//     (药物过敏史 1 无), alone; an empty list reads as not recorded;
//   - a list of items (past diseases, operations, trauma, transfusions,
//     hereditary diseases): null is not recorded, [] is none.
//
// It is stored as one jsonb column, basic_info, whose write-time quality
// rules (Q12–Q15, migration 00024) read these same JSON names.
type BasicInfo struct {
	BloodABO      string   `json:"blood_abo"`
	BloodRh       string   `json:"blood_rh"`
	Education     string   `json:"education"`
	Occupation    string   `json:"occupation"`
	MaritalStatus string   `json:"marital_status"`
	PaymentTypes  []string `json:"payment_types"`
	PaymentOther  string   `json:"payment_other"`
	DrugAllergies []string `json:"drug_allergies"`
	AllergyOther  string   `json:"drug_allergy_other"`
	Exposures     []string `json:"exposures"`
	// Past history (既往史).
	PastDiseases []PastDisease `json:"past_diseases"`
	Operations   []Event       `json:"operations"`
	Traumas      []Event       `json:"traumas"`
	Transfusions []Event       `json:"transfusions"`
	// Family history (家族史): each member's list of codes (FamilyCodes).
	FamilyFather   []string `json:"family_father"`
	FamilyMother   []string `json:"family_mother"`
	FamilySiblings []string `json:"family_siblings"`
	FamilyChildren []string `json:"family_children"`
	FamilyOther    string   `json:"family_history_other"`
	// HereditaryDiseases are the names of hereditary diseases (遗传病史).
	HereditaryDiseases []string `json:"hereditary_diseases"`
	Disabilities       []string `json:"disabilities"`
	DisabilityOther    string   `json:"disability_other"`
	// Living conditions (生活环境).
	KitchenExhaust string `json:"kitchen_exhaust"`
	Fuel           string `json:"fuel"`
	Water          string `json:"water"`
	Toilet         string `json:"toilet"`
	LivestockPen   string `json:"livestock_pen"`
}

// PastDisease is one disease of the past history, with its diagnosis date
// (确诊时间): a year and month, or a full date.
type PastDisease struct {
	Code        string `json:"code"`
	Note        string `json:"note,omitempty"` // which tumour, occupational disease, other…
	DiagnosedOn string `json:"diagnosed_on"`
}

// Event is an operation, a trauma or a transfusion: its name (for a
// transfusion, the reason) and date.
type Event struct {
	Name string `json:"name"`
	Date string `json:"date"`
}

// basicItem is one item of the table for the rules, the form and the
// history: its JSON name and Chinese label.
type basicItem struct {
	Name, Label string
	get         func(b *BasicInfo) any
}

// BasicItems lists the table's items in the form's order, as field name and
// Chinese label.
var basicItems = []basicItem{
	{"blood_abo", "血型", func(b *BasicInfo) any { return &b.BloodABO }},
	{"blood_rh", "Rh 血型", func(b *BasicInfo) any { return &b.BloodRh }},
	{"education", "文化程度", func(b *BasicInfo) any { return &b.Education }},
	{"occupation", "职业", func(b *BasicInfo) any { return &b.Occupation }},
	{"marital_status", "婚姻状况", func(b *BasicInfo) any { return &b.MaritalStatus }},
	{"payment_types", "医疗费用支付方式", func(b *BasicInfo) any { return &b.PaymentTypes }},
	{"payment_other", "其他支付方式", func(b *BasicInfo) any { return &b.PaymentOther }},
	{"drug_allergies", "药物过敏史", func(b *BasicInfo) any { return &b.DrugAllergies }},
	{"drug_allergy_other", "其他过敏药物", func(b *BasicInfo) any { return &b.AllergyOther }},
	{"exposures", "暴露史", func(b *BasicInfo) any { return &b.Exposures }},
	{"past_diseases", "既往史：疾病", func(b *BasicInfo) any { return &b.PastDiseases }},
	{"operations", "既往史：手术", func(b *BasicInfo) any { return &b.Operations }},
	{"traumas", "既往史：外伤", func(b *BasicInfo) any { return &b.Traumas }},
	{"transfusions", "既往史：输血", func(b *BasicInfo) any { return &b.Transfusions }},
	{"family_father", "家族史：父亲", func(b *BasicInfo) any { return &b.FamilyFather }},
	{"family_mother", "家族史：母亲", func(b *BasicInfo) any { return &b.FamilyMother }},
	{"family_siblings", "家族史：兄弟姐妹", func(b *BasicInfo) any { return &b.FamilySiblings }},
	{"family_children", "家族史：子女", func(b *BasicInfo) any { return &b.FamilyChildren }},
	{"family_history_other", "家族史：其他疾病", func(b *BasicInfo) any { return &b.FamilyOther }},
	{"hereditary_diseases", "遗传病史", func(b *BasicInfo) any { return &b.HereditaryDiseases }},
	{"disabilities", "残疾情况", func(b *BasicInfo) any { return &b.Disabilities }},
	{"disability_other", "其他残疾", func(b *BasicInfo) any { return &b.DisabilityOther }},
	{"kitchen_exhaust", "厨房排风设施", func(b *BasicInfo) any { return &b.KitchenExhaust }},
	{"fuel", "燃料类型", func(b *BasicInfo) any { return &b.Fuel }},
	{"water", "饮水", func(b *BasicInfo) any { return &b.Water }},
	{"toilet", "厕所", func(b *BasicInfo) any { return &b.Toilet }},
	{"livestock_pen", "禽畜栏", func(b *BasicInfo) any { return &b.LivestockPen }},
}

// BasicFields lists the JSON names of the table's items, in the form's order.
func BasicFields() []string {
	out := make([]string, len(basicItems))
	for i, it := range basicItems {
		out[i] = it.Name
	}
	return out
}

// BasicLabel returns the Chinese label of an item, "" for an unknown name.
func BasicLabel(name string) string {
	for _, it := range basicItems {
		if it.Name == name {
			return it.Label
		}
	}
	return ""
}

// Normalize trims the answers, drops duplicate codes, and reads an empty
// list of codes as not recorded.
func (b *BasicInfo) Normalize() {
	for _, s := range []*string{&b.BloodABO, &b.BloodRh, &b.Education, &b.Occupation, &b.MaritalStatus, &b.PaymentOther,
		&b.AllergyOther, &b.FamilyOther, &b.DisabilityOther, &b.KitchenExhaust, &b.Fuel, &b.Water, &b.Toilet, &b.LivestockPen} {
		*s = strings.TrimSpace(*s)
	}
	for _, l := range []*[]string{&b.PaymentTypes, &b.DrugAllergies, &b.Exposures, &b.FamilyFather, &b.FamilyMother,
		&b.FamilySiblings, &b.FamilyChildren, &b.Disabilities} {
		*l = uniqueCodes(*l)
	}
	for i := range b.PastDiseases {
		p := &b.PastDiseases[i]
		p.Code, p.Note, p.DiagnosedOn = strings.TrimSpace(p.Code), strings.TrimSpace(p.Note), strings.TrimSpace(p.DiagnosedOn)
	}
	for _, l := range [][]Event{b.Operations, b.Traumas, b.Transfusions} {
		for i := range l {
			l[i].Name, l[i].Date = strings.TrimSpace(l[i].Name), strings.TrimSpace(l[i].Date)
		}
	}
	if b.HereditaryDiseases != nil {
		names := []string{}
		for _, n := range b.HereditaryDiseases {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		b.HereditaryDiseases = names
	}
}

func uniqueCodes(l []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range l {
		if c = strings.TrimSpace(c); c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// partialDate is a year and month or a full date: the form asks the month
// of a diagnosis (确诊时间 年 月), and a resident seldom knows the day.
var partialDate = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$`)

func checkPartialDate(s string, today civil.Date) string {
	if s == "" {
		return "日期不能为空"
	}
	if !partialDate.MatchString(s) {
		return "日期应为 YYYY-MM 或 YYYY-MM-DD"
	}
	full := s
	if len(s) == 7 {
		full += "-01"
	}
	d, err := civil.Parse(full)
	if err != nil {
		return "日期不存在"
	}
	if d.After(today) {
		return "日期不能晚于今天"
	}
	if d.Before(civil.New(1900, 1, 1)) {
		return "日期不能早于 1900 年"
	}
	return ""
}

// Validate checks every answer against its code list (400 with the field
// and the reason). today bounds the dates.
func (b *BasicInfo) Validate(today civil.Date) apperr.FieldErrors {
	b.Normalize()
	var fe apperr.FieldErrors
	one := func(field, v string, l CodeList) {
		if v != "" && !l.Has(v) {
			fe.Add(field, fmt.Sprintf("未知代码 %q：应为%s", v, codeHint(l)))
		}
	}
	one("blood_abo", b.BloodABO, BloodABOCodes)
	one("blood_rh", b.BloodRh, BloodRhCodes)
	one("education", b.Education, EducationCodes)
	one("occupation", b.Occupation, OccupationCodes)
	one("marital_status", b.MaritalStatus, MaritalCodes)
	one("kitchen_exhaust", b.KitchenExhaust, KitchenCodes)
	one("fuel", b.Fuel, FuelCodes)
	one("water", b.Water, WaterCodes)
	one("toilet", b.Toilet, ToiletCodes)
	one("livestock_pen", b.LivestockPen, LivestockCodes)
	many := func(field string, v []string, l CodeList, otherField, other string) {
		for _, c := range v {
			if !l.Has(c) {
				fe.Add(field, fmt.Sprintf("未知代码 %q：应为%s", c, codeHint(l)))
				return
			}
		}
		if l.None != "" && len(v) > 1 && contains(v, l.None) {
			fe.Add(field, fmt.Sprintf("“%s”不能与其他选项同选", l.Label(l.None)))
		}
		if otherField != "" && other != "" && !contains(v, l.Other) {
			fe.Add(otherField, fmt.Sprintf("填写了其他内容，请同时选择“%s”", l.Label(l.Other)))
		}
	}
	many("payment_types", b.PaymentTypes, PaymentCodes, "payment_other", b.PaymentOther)
	many("drug_allergies", b.DrugAllergies, AllergyCodes, "drug_allergy_other", b.AllergyOther)
	many("exposures", b.Exposures, ExposureCodes, "", "")
	many("family_father", b.FamilyFather, FamilyCodes, "", "")
	many("family_mother", b.FamilyMother, FamilyCodes, "", "")
	many("family_siblings", b.FamilySiblings, FamilyCodes, "", "")
	many("family_children", b.FamilyChildren, FamilyCodes, "", "")
	many("disabilities", b.Disabilities, DisabilityCodes, "disability_other", b.DisabilityOther)
	if b.FamilyOther != "" && !contains(b.FamilyFather, FamilyCodes.Other) && !contains(b.FamilyMother, FamilyCodes.Other) &&
		!contains(b.FamilySiblings, FamilyCodes.Other) && !contains(b.FamilyChildren, FamilyCodes.Other) {
		fe.Add("family_history_other", "填写了其他疾病，请在相应亲属下选择“其他”")
	}
	for i, p := range b.PastDiseases {
		if !DiseaseCodes.Has(p.Code) {
			fe.Add("past_diseases", fmt.Sprintf("第 %d 项：未知代码 %q：应为%s（无既往疾病请填空列表）", i+1, p.Code, codeHint(DiseaseCodes)))
		} else if r := checkPartialDate(p.DiagnosedOn, today); r != "" {
			fe.Add("past_diseases", fmt.Sprintf("第 %d 项（%s）确诊时间：%s", i+1, DiseaseCodes.Label(p.Code), r))
		}
		if len([]rune(p.Note)) > 100 {
			fe.Add("past_diseases", fmt.Sprintf("第 %d 项：说明最多 100 个字", i+1))
		}
	}
	events := func(field, what string, l []Event) {
		for i, e := range l {
			if e.Name == "" {
				fe.Add(field, fmt.Sprintf("第 %d 项：%s不能为空", i+1, what))
			} else if len([]rune(e.Name)) > 100 {
				fe.Add(field, fmt.Sprintf("第 %d 项：%s最多 100 个字", i+1, what))
			}
			if r := checkPartialDate(e.Date, today); r != "" {
				fe.Add(field, fmt.Sprintf("第 %d 项时间：%s", i+1, r))
			}
		}
	}
	events("operations", "手术名称", b.Operations)
	events("traumas", "外伤名称", b.Traumas)
	events("transfusions", "输血原因", b.Transfusions)
	for _, t := range []struct{ field, v string }{{"payment_other", b.PaymentOther}, {"drug_allergy_other", b.AllergyOther},
		{"family_history_other", b.FamilyOther}, {"disability_other", b.DisabilityOther}} {
		if len([]rune(t.v)) > 100 {
			fe.Add(t.field, "最多 100 个字")
		}
	}
	for _, n := range b.HereditaryDiseases {
		if len([]rune(n)) > 100 {
			fe.Add("hereditary_diseases", "疾病名称最多 100 个字")
		}
	}
	return fe
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// codeHint lists a code list's answers for an error: "1（A型）、2（B型）…".
func codeHint(l CodeList) string {
	parts := make([]string, len(l.Codes))
	for i, c := range l.Codes {
		parts[i] = c.Code + "（" + c.Label + "）"
	}
	return strings.Join(parts, "、")
}

// IsZero reports whether no item is recorded: every text empty, every list
// nil. (reflect.DeepEqual with the zero table says the same in 560 ns
// against 160: half a second of a county's import, 2026-12-07.)
func (b *BasicInfo) IsZero() bool { return reflect.ValueOf(b).Elem().IsZero() }

// StoredBasicInfo is the table as the store reads and writes it, the
// jsonb column basic_info. A type of its own: BasicInfo is embedded in
// Record, and a Scan or Value of its own would make the whole record a
// Scanner and a Valuer.
type StoredBasicInfo BasicInfo

// Value stores the table as JSON text (jsonb takes no binary parameter); a
// table with nothing recorded as {} (a bulk import of a million rows
// without the table's columns need not send its members).
func (s StoredBasicInfo) Value() (driver.Value, error) {
	b := BasicInfo(s)
	if b.IsZero() {
		return "{}", nil
	}
	j, err := json.Marshal(b)
	return string(j), err
}

// Scan reads the jsonb column.
func (s *StoredBasicInfo) Scan(src any) error {
	b := (*BasicInfo)(s)
	*b = BasicInfo{}
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(v, b)
	case string:
		return json.Unmarshal([]byte(v), b)
	}
	return fmt.Errorf("basic_info: cannot scan %T", src)
}

// Answers prints each item's answer as a person reads it, in the form's
// order: the labels of its codes, "无" for none, "未填写" for not recorded.
// The record page's PDF prints these.
func (b *BasicInfo) Answers() [][2]string {
	none, unknown := "无", "未填写"
	label := func(l CodeList, code string) string {
		if code == "" {
			return unknown
		}
		if s := l.Label(code); s != "" {
			return s
		}
		return code
	}
	labels := func(l CodeList, codes []string, other string) string {
		if codes == nil {
			return unknown
		}
		parts := make([]string, 0, len(codes))
		for _, c := range codes {
			s := label(l, c)
			if c == l.Other && other != "" {
				s += "：" + other
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "、")
	}
	events := func(l []Event) string {
		if l == nil {
			return unknown
		}
		if len(l) == 0 {
			return none
		}
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = e.Name + "（" + e.Date + "）"
		}
		return strings.Join(parts, "；")
	}
	diseases := unknown
	if b.PastDiseases != nil {
		diseases = none
		parts := []string{}
		for _, p := range b.PastDiseases {
			s := label(DiseaseCodes, p.Code)
			if p.Note != "" {
				s += "：" + p.Note
			}
			parts = append(parts, s+"（确诊 "+p.DiagnosedOn+"）")
		}
		if len(parts) > 0 {
			diseases = strings.Join(parts, "；")
		}
	}
	hereditary := unknown
	if b.HereditaryDiseases != nil {
		hereditary = none
		if len(b.HereditaryDiseases) > 0 {
			hereditary = strings.Join(b.HereditaryDiseases, "、")
		}
	}
	family := func(codes []string) string {
		s := labels(FamilyCodes, codes, "")
		if contains(codes, FamilyCodes.Other) && b.FamilyOther != "" {
			s += "（其他：" + b.FamilyOther + "）"
		}
		return s
	}
	return [][2]string{
		{"血型", label(BloodABOCodes, b.BloodABO) + " / " + label(BloodRhCodes, b.BloodRh)},
		{"文化程度", label(EducationCodes, b.Education)},
		{"职业", label(OccupationCodes, b.Occupation)},
		{"婚姻状况", label(MaritalCodes, b.MaritalStatus)},
		{"医疗费用支付方式", labels(PaymentCodes, b.PaymentTypes, b.PaymentOther)},
		{"药物过敏史", labels(AllergyCodes, b.DrugAllergies, b.AllergyOther)},
		{"暴露史", labels(ExposureCodes, b.Exposures, "")},
		{"既往史：疾病", diseases},
		{"既往史：手术", events(b.Operations)},
		{"既往史：外伤", events(b.Traumas)},
		{"既往史：输血", events(b.Transfusions)},
		{"家族史：父亲", family(b.FamilyFather)},
		{"家族史：母亲", family(b.FamilyMother)},
		{"家族史：兄弟姐妹", family(b.FamilySiblings)},
		{"家族史：子女", family(b.FamilyChildren)},
		{"遗传病史", hereditary},
		{"残疾情况", labels(DisabilityCodes, b.Disabilities, b.DisabilityOther)},
		{"厨房排风设施", label(KitchenCodes, b.KitchenExhaust)},
		{"燃料类型", label(FuelCodes, b.Fuel)},
		{"饮水", label(WaterCodes, b.Water)},
		{"厕所", label(ToiletCodes, b.Toilet)},
		{"禽畜栏", label(LivestockCodes, b.LivestockPen)},
	}
}
