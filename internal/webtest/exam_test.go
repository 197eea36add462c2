package webtest

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestExamJourney: a doctor records a health examination on the desk, is
// taken to its form, saves the symptoms complete and the general condition
// as a draft, sees a range error next to its item, and finds the exam on
// the record page with its state; the form prints.
func TestExamJourney(t *testing.T) {
	s := newSite(t)
	data := s.seed()
	ctx := browser(t, 1366, 900)

	run(t, ctx, "open record", chromedp.Navigate(s.url+"/"), signIn(s.f.DoctorA),
		chromedp.WaitVisible(`#q`),
		chromedp.Navigate(s.url+"/#/record/"+data.Wang),
		chromedp.WaitVisible(`#h-basic`))
	run(t, ctx, "new exam",
		chromedp.Click(`button[data-add=exam]`),
		chromedp.WaitVisible(`#entry-form input[name=systolic]`),
		chromedp.SendKeys(`#entry-form input[name=systolic]`, "138"),
		chromedp.SendKeys(`#entry-form input[name=diastolic]`, "86"),
		chromedp.Click(`#entry-form button[type=submit]`),
		chromedp.WaitVisible(`form[data-section-form=symptoms]`),
		waitText(`#exam-state`, "暂存"))
	run(t, ctx, "symptoms complete",
		chromedp.Click(`form[data-section-form=symptoms] input[name=symptoms][value="2"]`),
		chromedp.Click(`form[data-section-form=symptoms] input[name=symptoms][value="3"]`),
		chromedp.Click(`form[data-section-form=symptoms] button[value=complete]`),
		waitText(`#sec-symptoms h2`, "已完成"))
	run(t, ctx, "out-of-range item is marked",
		setValue(`form[data-section-form=general] input[name=temperature]`, "50"),
		chromedp.Click(`form[data-section-form=general] button[value=draft]`),
		chromedp.WaitVisible(`form[data-section-form=general] [data-field=temperature] .field-error`),
		waitText(`form[data-section-form=general] [data-field=temperature] .field-error`, "30–45"))
	run(t, ctx, "general draft",
		setValue(`form[data-section-form=general] input[name=temperature]`, "36.8"),
		setValue(`form[data-section-form=general] select[name=elderly_health_status]`, "2"),
		chromedp.Click(`form[data-section-form=general] button[value=draft]`),
		waitText(`#sec-general h2`, "暂存"))
	shot(t, ctx, "desk-exam")

	var got struct {
		Items []struct {
			Temperature   *float64          `json:"temperature"`
			Systolic      *float64          `json:"systolic"`
			SectionStates map[string]string `json:"section_states"`
			Sections      map[string]map[string]any
		} `json:"items"`
	}
	s.login(s.f.DoctorA).must("GET", "/api/v1/records/"+data.Wang+"/exams", nil, &got)
	x := got.Items[0]
	if x.Temperature == nil || *x.Temperature != 36.8 || x.Systolic == nil || *x.Systolic != 138 ||
		x.SectionStates["symptoms"] != "complete" || x.SectionStates["general"] != "draft" ||
		x.Sections["general"]["elderly_health_status"] != "2" {
		t.Fatalf("stored exam: %+v", x)
	}
	var pdf string
	run(t, ctx, "the form prints", evalAsync(`fetch(document.getElementById('exam-pdf').href)
		.then(r => r.status + ' ' + r.headers.get('Content-Type'))`, &pdf))
	if pdf != "200 application/pdf" {
		t.Fatalf("form.pdf: %q", pdf)
	}
	run(t, ctx, "record page links the exam",
		chromedp.Navigate(s.url+"/#/record/"+data.Wang),
		chromedp.WaitVisible(`#h-exams`),
		waitText(`#h-exams + *`, "待补全（1/11 部分已完成）"))
	run(t, ctx, "history names the items",
		chromedp.Navigate(s.url+"/#/record/"+data.Wang+"/history"),
		chromedp.WaitVisible(`main table`),
		waitText(`main table`, "一般状况·体温：（空） → 36.8 ℃"),
		waitText(`main table`, "症状：未填写 → 已完成"))
}
