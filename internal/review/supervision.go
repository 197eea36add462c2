package review

import (
	"strings"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// OnTime is the on-time completion rate of items (督办事项按期完成率) of one
// institution in one month (§7.5): of the items due that month, how many
// were reported done by their due date.
type OnTime struct {
	InstitutionCode string   `json:"institution_code" db:"institution_code"`
	InstitutionName string   `json:"institution_name" db:"institution_name"`
	Month           string   `json:"month" db:"month"`
	Due             int      `json:"due" db:"due"`
	OnTime          int      `json:"on_time" db:"on_time"`
	Rate            *float64 `json:"rate" db:"-"`
}

// Compute sets the rate: nil when nothing fell due.
func (o *OnTime) Compute() {
	if o.Due == 0 {
		o.Rate = nil
		return
	}
	r := float64(o.OnTime) * 100 / float64(o.Due)
	o.Rate = &r
}

// HelpVisit is an expert help visit (定点解剖) to a scope with many problems.
type HelpVisit struct {
	ID         int64      `json:"id" db:"id"`
	CountyCode string     `json:"county_code" db:"county_code"`
	ScopeType  string     `json:"scope_type" db:"scope_type"`
	ScopeCode  string     `json:"scope_code" db:"scope_code"`
	VisitedOn  civil.Date `json:"visited_on" db:"visited_on"`
	Experts    Members    `json:"experts" db:"experts"`
	Findings   string     `json:"findings" db:"findings"`
	Items      Members    `json:"items" db:"items"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	CreatedBy  string     `json:"created_by" db:"created_by"`
}

// Validate checks a visit on today's date.
func (v *HelpVisit) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	v.ScopeCode, v.Findings = strings.TrimSpace(v.ScopeCode), strings.TrimSpace(v.Findings)
	switch v.ScopeType {
	case "institution", "township", "doctor":
	default:
		fe.Add("scope_type", "范围应为 institution、township 或 doctor")
	}
	if v.ScopeCode == "" || len(v.ScopeCode) > 32 {
		fe.Add("scope_code", "范围代码不能为空，最多 32 位")
	}
	switch {
	case v.VisitedOn.IsZero():
		fe.Add("visited_on", "请填写解剖日期")
	case v.VisitedOn.After(today):
		fe.Add("visited_on", "日期不能晚于今天")
	}
	experts := Members{}
	for _, e := range v.Experts {
		if e = strings.TrimSpace(e); e != "" {
			experts = append(experts, e)
		}
	}
	v.Experts = experts
	if len(v.Experts) == 0 || len(v.Experts) > 20 {
		fe.Add("experts", "请填写 1–20 名专家")
	}
	if v.Findings == "" || len([]rune(v.Findings)) > 10000 {
		fe.Add("findings", "请写明发现的问题，最多 10000 字")
	}
	items := Members{}
	for _, it := range v.Items {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	v.Items = items
	if len(v.Items) > 50 {
		fe.Add("items", "整改事项最多 50 条")
	}
	return fe.Err()
}
