package webtest

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"healthrec/internal/civil"
)

// TestFeedbackJourney is the journey: a doctor gets a
// pre-assessment warning in the inbox, opens My assessment, fixes a record
// from the list and sees the figure move, with no case opened; then an
// assessment proposes a case, a reviewer accepts it on the bureau page,
// and the doctor sees it among their cases.
func TestFeedbackJourney(t *testing.T) {
	s := newSite(t)
	today := civil.Of(s.db.Today())
	doc := s.login(s.f.DoctorA)
	exam := map[string]any{"service_date": today.AddDays(-30).String(), "systolic": 128, "diastolic": 80, "height_cm": 160, "weight_kg": 60}
	good := doc.fileRecord(s.f.VillageA1, "钱好", "1960-01-01", "M", map[string]any{"id_number": idNumber("19600101", 1)})
	noPhone := doc.fileRecord(s.f.VillageA1, "孙缺", "1961-02-02", "F", map[string]any{"id_number": idNumber("19610202", 2), "phone": ""})
	// No exam: still failing after the fix.
	doc.fileRecord(s.f.VillageA1, "周无检", "1962-03-03", "M", map[string]any{"id_number": idNumber("19620303", 3)})
	for _, id := range []string{good, noPhone} {
		doc.must("POST", "/api/v1/records/"+id+"/exams", exam, nil)
	}
	docB := s.login(s.f.DoctorB)
	b := docB.fileRecord(s.f.VillageB1, "吴好", "1963-04-04", "F", map[string]any{"id_number": idNumber("19630404", 4)})
	docB.must("POST", "/api/v1/records/"+b+"/exams", exam, nil)
	bureau := s.login(s.f.Bureau)
	bureau.must("POST", "/api/v1/snapshots", map[string]any{"kind": "pre_assessment", "as_of": today.String(), "sample": "all", "seed": 1}, nil)

	ctx := browser(t, 1366, 900)
	run(t, ctx, "sign in; the badge counts the warning",
		chromedp.Navigate(s.url+"/"), signIn(s.f.DoctorA),
		waitText(`#inbox-count`, "1"),
	)
	run(t, ctx, "the warning in the inbox",
		chromedp.Click(`#inbox-badge`),
		chromedp.WaitVisible(`#inbox li[data-kind=warning]`),
		waitText(`#inbox`, "预考核预警"),
		waitText(`#inbox`, "个百分点"),
	)
	shot(t, ctx, "feedback-inbox")
	run(t, ctx, "open My assessment from the warning",
		chromedp.Click(`#inbox li[data-kind=warning] a.title`),
		chromedp.WaitVisible(`#my-figures`),
		waitText(`#my-figures [data-indicator=quality]`, "33.3%"),
		waitText(`#fix-list`, noPhone),
	)
	shot(t, ctx, "feedback-my-assessment")
	run(t, ctx, "one click to the field",
		chromedp.Click(fmt.Sprintf(`#fix-list li[data-record="%s"] a[data-rule=Q8]`, noPhone)),
		chromedp.WaitVisible(`#edit-form input[name=phone]`),
		chromedp.Poll(`document.activeElement && document.activeElement.name === 'phone'`, nil),
		chromedp.SendKeys(`#edit-form input[name=phone]`, "13912345678"),
		chromedp.Click(`#edit-form button[type=submit]`),
		waitText(`#h-basic + dl, main`, "13912345678"),
	)
	run(t, ctx, "the figure moves at once",
		chromedp.Navigate(s.url+"/#/my"),
		waitText(`#my-figures [data-indicator=quality]`, "66.7%"),
	)
	if n := s.count(`SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("a pre-assessment opened %d cases", n)
	}

	bureau.must("POST", "/api/v1/snapshots", map[string]any{"kind": "assessment", "as_of": today.String(), "sample": "all", "seed": 1}, nil)
	if n := s.count(`SELECT count(*) FROM cases WHERE subject_code = $1 AND state = 'proposed'`, s.f.DoctorA); n != 1 {
		t.Fatalf("the assessment proposed %d cases for the doctor", n)
	}
	caseID := s.count(`SELECT id FROM cases WHERE subject_code = $1`, s.f.DoctorA)
	accept := fmt.Sprintf(`button[data-accept="%d"]`, caseID)
	rctx := browser(t, 1366, 900)
	run(t, rctx, "a reviewer accepts the proposal",
		chromedp.Navigate(s.url+"/bureau#/cases"), signIn(s.f.Reviewer),
		chromedp.WaitVisible(accept),
		chromedp.Click(accept),
		chromedp.WaitVisible(`#proposal-form textarea`),
		chromedp.SendKeys(`#proposal-form textarea`, "初步核实：合格率低于目标属实"),
		chromedp.Click(`#proposal-confirm`),
		chromedp.Poll(fmt.Sprintf(`!document.getElementById('proposal-form') && !document.querySelector('%s') && !!document.querySelector('main table')`, accept), nil),
		waitText(`main table`, "调查"),
	)
	run(t, ctx, "the doctor sees the case",
		chromedp.Navigate(s.url+"/#/my-cases"),
		chromedp.WaitVisible(`main table`),
		waitText(`main table`, "受理"),
		waitText(`main table`, "调查期限"),
		chromedp.Click(`main table a[href^="#/my-cases/"]`),
		chromedp.WaitVisible(`#case-facts`),
		waitText(`main`, "合格率"),
		// The proposal, its acceptance and the assessment's own warning.
		chromedp.Poll(`Number(document.getElementById('inbox-count').textContent) >= 3`, nil),
	)
	shot(t, ctx, "feedback-my-case")
}

// idNumber makes a valid identity number of the fixture county for a birth
// date (YYYYMMDD); seq odd is a man, even a woman (GB 11643).
func idNumber(birth string, seq int) string {
	base := fmt.Sprintf("330127%s%03d", birth, seq)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}

// TestBureauRecordsAdmin: a records administrator's /bureau starts at their
// institution (it used to show "县（0）" and empty charts), with the inbox
// badge, and opens the institution's My assessment with its doctors.
func TestBureauRecordsAdmin(t *testing.T) {
	s := newSite(t)
	s.seed()
	s.seedRates()
	ctx := browser(t, 1366, 900)
	run(t, ctx, "the institution's report",
		chromedp.Navigate(s.url+"/bureau"), signIn(s.f.AdminA),
		waitText(`#level-title`, "机构（1）"),
		chromedp.WaitVisible(`#charts svg.bars rect`),
		waitText(`main table`, "千岛湖镇社区卫生服务中心"),
		chromedp.WaitVisible(`#inbox-badge`),
	)
	run(t, ctx, "down to its doctors",
		chromedp.Click(`main table button[data-scope="`+s.f.InstA+`"]`),
		waitText(`#level-title`, "责任医生"),
		chromedp.WaitVisible(`main table button[data-scope="`+s.f.DoctorA+`"]`),
	)
	run(t, ctx, "the institution's assessment",
		chromedp.Navigate(s.url+"/bureau#/my"),
		chromedp.WaitVisible(`#my-figures`),
		waitText(`main`, "本机构各责任医生"),
		waitText(`main`, "人员"+s.f.DoctorA),
	)
	shot(t, ctx, "bureau-records-admin")
}
