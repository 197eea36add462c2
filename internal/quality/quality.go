// Package quality holds the record quality rules Q1–Q15 of DESIGN §5.2: a
// record is qualified (合格) when every rule holds, and a failing record lists
// the rules it breaks so that a doctor can fix it.
//
// The rules split in two. Most depend only on the record's basic information
// (Q1, Q2, the missing/too-early part of Q3, Q4–Q9, Q12–Q15): they are computed once,
// at write time, into records.quality_failures (see the migrations
// 00008_quality_facts.sql and 00024_basic_info.sql, whose SQL mirrors Static
// and Table, and the conformance tests in internal/postgres and
// internal/demo). The rest depend on the report's as-of date (a
// birth date after it, Q10, Q11) and are evaluated per report by Dynamic.
package quality

import (
	"encoding/json"
	"strconv"
	"strings"

	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/record"
)

// Rule is one quality rule, Q1–Q11.
type Rule uint8

// The rules of DESIGN §5.2.
const (
	Q1  Rule = iota + 1 // name present
	Q2                  // sex is male or female
	Q3                  // birth date present, not after the as-of date, not before 1900-01-01
	Q4                  // identity number present and valid (check character, real date)
	Q5                  // identity number agrees with the birth date and sex
	Q6                  // residence type present
	Q7                  // ethnicity present
	Q8                  // a reachable phone: own or contact person's
	Q9                  // responsible doctor present
	Q10                 // a health examination on or before the as-of date
	Q11                 // the latest such examination has blood pressure, height and weight
	// The personal basic information table's items answered ("基础内容无
	// 缺失", DESIGN §5.2), "none" and "unknown" being answers:
	Q12 // blood type, ABO and Rh
	Q13 // education, occupation, marital status, payment types
	Q14 // drug allergies, exposures, past history, family history, hereditary disease
	Q15 // disabilities and living conditions
)

// Rules lists every rule in order.
var Rules = []Rule{Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8, Q9, Q10, Q11, Q12, Q13, Q14, Q15}

// RuleSet names the rules a report is computed with. A published snapshot
// keeps the one it was computed with (rate_snapshots.rule_set): those
// published before Q12–Q15 existed say RuleSetV1.
const (
	RuleSetV1 = "Q1-Q11"
	RuleSet   = "Q1-Q15"
)

// RuleSetChinese describes a rule set for the report's readers.
func RuleSetChinese(set string) string {
	switch set {
	case RuleSetV1:
		return "Q1–Q11（个人基本信息表结构化之前的规则）"
	case RuleSet:
		return "Q1–Q15（含个人基本信息表各项已填写 Q12–Q15）"
	}
	return set
}

// String returns the rule's ID, "Q1"…"Q15".
func (r Rule) String() string {
	if r < Q1 || r > Q15 {
		return "Q?"
	}
	return "Q" + strconv.Itoa(int(r))
}

// Chinese describes the rule as a doctor reads it.
func (r Rule) Chinese() string {
	switch r {
	case Q1:
		return "姓名已填写"
	case Q2:
		return "性别为男或女"
	case Q3:
		return "出生日期已填写，不晚于统计截止日，不早于 1900-01-01"
	case Q4:
		return "身份证号已填写且有效（校验码、出生日期真实）"
	case Q5:
		return "身份证号与出生日期、性别一致"
	case Q6:
		return "常住类型已填写"
	case Q7:
		return "民族已填写"
	case Q8:
		return "本人或联系人电话可联系：11 位手机号或带区号的固定电话"
	case Q9:
		return "责任医生已填写"
	case Q10:
		return "统计截止日及以前至少有一次健康体检"
	case Q11:
		return "最近一次体检记录了血压、身高和体重"
	case Q12:
		return "血型（ABO 和 Rh）已填写（“不详”也是回答）"
	case Q13:
		return "文化程度、职业、婚姻状况、医疗费用支付方式已填写"
	case Q14:
		return "药物过敏史、暴露史、既往史（疾病、手术、外伤、输血）、家族史（父亲、母亲、兄弟姐妹、子女）、遗传病史已填写（“无”也是回答）"
	case Q15:
		return "残疾情况和生活环境（厨房排风设施、燃料类型、饮水、厕所、禽畜栏）已填写"
	}
	return ""
}

// Set is a set of rules, bit r-1 for rule r. It is stored as a smallint.
type Set uint16

// StaticRules are the rules Static evaluates: those that do not depend on the
// as-of date (Q3 only in part: missing or before 1900).
const StaticRules Set = 1<<(Q1-1) | 1<<(Q2-1) | 1<<(Q3-1) | 1<<(Q4-1) | 1<<(Q5-1) | 1<<(Q6-1) | 1<<(Q7-1) | 1<<(Q8-1) | 1<<(Q9-1) |
	1<<(Q12-1) | 1<<(Q13-1) | 1<<(Q14-1) | 1<<(Q15-1)

// Of returns the set holding rules.
func Of(rules ...Rule) Set {
	var s Set
	for _, r := range rules {
		s = s.With(r)
	}
	return s
}

// With returns s with r added.
func (s Set) With(r Rule) Set { return s | 1<<(r-1) }

// Has reports whether r is in s.
func (s Set) Has(r Rule) bool { return s&(1<<(r-1)) != 0 }

// Rules lists the rules in s, in order.
func (s Set) Rules() []Rule {
	out := []Rule{}
	for _, r := range Rules {
		if s.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// Len is the number of rules in s.
func (s Set) Len() int { return len(s.Rules()) }

// IDs lists the IDs of the rules in s: ["Q4","Q8"].
func (s Set) IDs() []string {
	out := []string{}
	for _, r := range s.Rules() {
		out = append(out, r.String())
	}
	return out
}

// MarshalJSON writes the rule IDs.
func (s Set) MarshalJSON() ([]byte, error) { return json.Marshal(s.IDs()) }

// Basic is what the rules read from the personal basic information.
type Basic struct {
	Name              string
	Sex               string
	BirthDate         civil.Date
	IDNumber          string
	ResidenceType     string
	Ethnicity         string
	Phone             string
	ContactPhone      string
	ResponsibleDoctor string
	// Info is the rest of the table, for Q12–Q15.
	Info record.BasicInfo
}

// MinBirthDate is the earliest birth date Q3 accepts.
var MinBirthDate = civil.New(1900, 1, 1)

// Static evaluates the rules that do not depend on the as-of date.
//
// "Present" means not blank after trimming white space (the ideographic
// space U+3000 included). Q5 compares only when Q4 holds and only what is
// present: a missing birth date or sex is Q3's or Q2's failure, not Q5's.
func Static(b Basic) Set {
	var s Set
	if !present(b.Name) {
		s = s.With(Q1)
	}
	if b.Sex != "M" && b.Sex != "F" {
		s = s.With(Q2)
	}
	if b.BirthDate.IsZero() || b.BirthDate.Before(MinBirthDate) {
		s = s.With(Q3)
	}
	if n, err := ident.ParseIDNumber(b.IDNumber); err != nil {
		s = s.With(Q4)
	} else {
		sex := ident.Sex(b.Sex)
		if sex != ident.Male && sex != ident.Female {
			sex = ""
		}
		if n.CheckAgainst(b.BirthDate.Time(), sex) != nil {
			s = s.With(Q5)
		}
	}
	if !present(b.ResidenceType) {
		s = s.With(Q6)
	}
	if !present(b.Ethnicity) {
		s = s.With(Q7)
	}
	if !record.ValidPhone(b.Phone) && !record.ValidPhone(b.ContactPhone) {
		s = s.With(Q8)
	}
	if !present(b.ResponsibleDoctor) {
		s = s.With(Q9)
	}
	return s | Table(&b.Info)
}

// Table evaluates Q12–Q15 over the personal basic information table: each
// item answered. An answer is a code ("" is none given), a non-empty list
// of codes, or a list of items, empty for "none" (record.BasicInfo). The
// "other" texts are not items of their own.
func Table(i *record.BasicInfo) Set {
	var s Set
	if !present(i.BloodABO) || !present(i.BloodRh) {
		s = s.With(Q12)
	}
	if !present(i.Education) || !present(i.Occupation) || !present(i.MaritalStatus) || len(i.PaymentTypes) == 0 {
		s = s.With(Q13)
	}
	if len(i.DrugAllergies) == 0 || len(i.Exposures) == 0 || i.PastDiseases == nil || i.Operations == nil || i.Traumas == nil ||
		i.Transfusions == nil || len(i.FamilyFather) == 0 || len(i.FamilyMother) == 0 || len(i.FamilySiblings) == 0 ||
		len(i.FamilyChildren) == 0 || i.HereditaryDiseases == nil {
		s = s.With(Q14)
	}
	if len(i.Disabilities) == 0 || !present(i.KitchenExhaust) || !present(i.Fuel) || !present(i.Water) || !present(i.Toilet) ||
		!present(i.LivestockPen) {
		s = s.With(Q15)
	}
	return s
}

// LatestExam is the latest health examination dated on or before the as-of
// date; a zero Date means there is none.
type LatestExam struct {
	Date     civil.Date
	Complete bool // blood pressure, height and weight recorded
}

// Dynamic evaluates the rules that depend on the as-of date: a birth date
// after it (Q3), an examination on or before it (Q10), and that
// examination's completeness (Q11, only when there is one: a record without
// an examination fails Q10, and one examination fixes both).
func Dynamic(birth civil.Date, exam LatestExam, asOf civil.Date) Set {
	var s Set
	if !birth.IsZero() && birth.After(asOf) {
		s = s.With(Q3)
	}
	switch {
	case exam.Date.IsZero() || exam.Date.After(asOf):
		s = s.With(Q10)
	case !exam.Complete:
		s = s.With(Q11)
	}
	return s
}

// Check evaluates every rule as of a date.
func Check(b Basic, exam LatestExam, asOf civil.Date) Set {
	return Static(b) | Dynamic(b.BirthDate, exam, asOf)
}

// whiteSpace is what "present" trims; the migration's PL/pgSQL trims the
// same characters.
const whiteSpace = " \t\n\v\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

func present(s string) bool { return strings.Trim(s, whiteSpace) != "" }

// ParseRule reads a rule ID such as "Q4".
func ParseRule(s string) (Rule, bool) {
	for _, r := range Rules {
		if r.String() == s {
			return r, true
		}
	}
	return 0, false
}
