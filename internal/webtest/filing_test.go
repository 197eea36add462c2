package webtest

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestFilingJourney: a home-visit worker records two visits on a doctor's
// record; the doctor's desk shows the queue's length on the 待归档 link,
// lists both, and files them in one batch; the badge then clears.
func TestFilingJourney(t *testing.T) {
	s := newSite(t)
	doc := s.login(s.f.DoctorA)
	rec := doc.fileRecord(s.f.VillageA1, "钱归档", "1960-01-01", "M", map[string]any{"responsible_doctor": s.f.DoctorA})
	hv := s.login(s.f.HomeVisitA)
	for _, day := range []string{"2024-05-01", "2024-05-02"} {
		hv.must("POST", "/api/v1/records/"+rec+"/visits", map[string]any{"service_date": day, "subjective": "头晕", "assessment": "高血压"}, nil)
	}

	ctx := browser(t, 1366, 900)
	run(t, ctx, "sign in; the link counts the queue",
		chromedp.Navigate(s.url+"/"), signIn(s.f.DoctorA),
		waitText(`#filing-count`, "2"),
	)
	run(t, ctx, "the queue lists both visits",
		chromedp.Click(`#nav a[href="#/filing"]`),
		chromedp.WaitVisible(`#filing-submit`),
		waitText(`main h1`, "待归档（2 条）"),
		waitText(`main table`, "钱归档"),
		waitText(`main table`, "人员"+s.f.HomeVisitA),
	)
	shot(t, ctx, "filing-queue")
	run(t, ctx, "file them at once",
		chromedp.Click(`#filing-all`),
		chromedp.Click(`#filing-submit`),
		waitText(`main`, "没有待归档的服务记录"),
		chromedp.Poll(`document.getElementById('filing-count').hidden`, nil),
	)
	if n := s.count(`SELECT count(*) FROM entry_filings WHERE filed_by = $1`, s.f.DoctorA); n != 2 {
		t.Fatalf("%d entries filed, want 2", n)
	}
	if n := s.count(fmt.Sprintf(`SELECT count(*) FROM access_log WHERE record_id = '%s' AND section = 'filing' AND outcome = 'allowed'`, rec)); n != 1 {
		t.Errorf("%d filing rows in the access log, want 1", n)
	}
}
