package webtest

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDeskBasicInfoTable: a doctor files a record with the personal basic
// information table — an item answered none, one with an answer, a past
// disease with its month — sees an operation without a date refused at
// its control, finds every answer on the record page (the rest 未填写), and
// edits one item.
func TestDeskBasicInfoTable(t *testing.T) {
	s := newSite(t)
	ctx := browser(t, 1366, 900)
	run(t, ctx, "sign in", chromedp.Navigate(s.url+"/"), signIn(s.f.DoctorA))
	run(t, ctx, "fill the table",
		chromedp.Click(`#nav a[href="#/new"]`),
		chromedp.WaitReady(`#new-record select[name=village_code] option[value="`+s.f.VillageA1+`"]`, chromedp.ByQuery),
		setValue(`#new-record select[name=village_code]`, s.f.VillageA1),
		chromedp.SendKeys(`#new-record input[name=name]`, "吴表"),
		setValue(`#new-record select[name=sex]`, "M"),
		setValue(`#new-record input[name=birth_date]`, "1950-02-01"),
		setValue(`#new-record select[name=blood_abo]`, "3"),
		chromedp.Click(`#new-record input[name=drug_allergies][value="1"]`),
		chromedp.Click(`#new-record input[name=past_diseases][value="2"]`),
		setValue(`#new-record input[name="past_diseases.2"]`, "2015-06"),
		setValue(`#new-record select[name="traumas.state"]`, "none"),
		setValue(`#new-record select[name="operations.state"]`, "some"),
		chromedp.SendKeys(`#new-record textarea[name=operations]`, "阑尾切除术"),
		setValue(`#new-record select[name=toilet]`, "2"),
		chromedp.Click(`#new-record button[type=submit]`),
		waitText(`#new-record [data-field=operations] .field-error`, "时间"),
	)
	shot(t, ctx, "desk-basic-table-error")
	run(t, ctx, "file after giving the date",
		setValue(`#new-record textarea[name=operations]`, "阑尾切除术 1998-07"),
		chromedp.Click(`#new-record button[type=submit]`),
		chromedp.WaitVisible(`#basic-table`),
		waitText(`#basic-table`, "O型 / 未填写"),
		waitText(`#basic-table`, "高血压（确诊 2015-06）"),
		waitText(`#basic-table`, "阑尾切除术（1998-07）"),
		waitText(`#basic-table`, "一格或二格粪池式"),
	)
	shot(t, ctx, "desk-basic-table")
	var rec struct {
		Basic struct {
			DrugAllergies []string `json:"drug_allergies"`
			Traumas       []any    `json:"traumas"`
			Transfusions  []any    `json:"transfusions"`
			Toilet        string   `json:"toilet"`
		} `json:"basic"`
	}
	var id string
	run(t, ctx, "record id", chromedp.Evaluate(`location.hash.split('/')[2]`, &id))
	doc := s.login(s.f.DoctorA)
	doc.must("GET", "/api/v1/records/"+id, nil, &rec)
	if fmt.Sprint(rec.Basic.DrugAllergies) != "[1]" || rec.Basic.Traumas == nil || len(rec.Basic.Traumas) != 0 ||
		rec.Basic.Transfusions != nil || rec.Basic.Toilet != "2" {
		t.Fatalf("filed table: %+v", rec.Basic)
	}
	run(t, ctx, "edit one item",
		chromedp.Click(`button[data-add=edit]`),
		chromedp.WaitVisible(`#edit-form select[name=toilet]`),
		setValue(`#edit-form select[name=toilet]`, "1"),
		chromedp.Click(`#edit-form button[type=submit]`),
		waitText(`#basic-table`, "卫生厕所"),
	)
	var hist struct {
		Items []struct{ Changes map[string]any }
	}
	doc.must("GET", "/api/v1/records/"+id+"/history", nil, &hist)
	if len(hist.Items) == 0 || len(hist.Items[0].Changes) != 1 || hist.Items[0].Changes["toilet"] == nil {
		t.Fatalf("the edit changed more than the toilet: %+v", hist.Items)
	}
}
