package webtest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"healthrec/internal/civil"
)

// TestTabletNewbornVisit: a newborn enrolled in child care is on the
// home-visit worker's list with its newborn home visit (新生儿家庭访视),
// overdue the day after its window; the worker goes offline, records the
// visit with the standard's items (birth and current weight, feeding,
// jaundice, umbilical cord), and on reconnecting it is created exactly once,
// also when the tablet syncs again; the visit then leaves the list.
func TestTabletNewbornVisit(t *testing.T) {
	s := newSite(t)
	s.seed()
	today := civil.Of(s.db.Today())
	doc := s.login(s.f.DoctorA)
	baby := doc.fileRecord(s.f.VillageA1, "王小宝", today.AddDays(-10).String(), "M", nil)
	doc.must("POST", "/api/v1/records/"+baby+"/programmes", map[string]any{"programme": "children_0_6",
		"enrolled_on": today.AddDays(-9).String(), "discharged_on": today.AddDays(-8).String()}, nil)
	visits := func() int {
		return s.count(`SELECT count(*) FROM entries WHERE record_id = $1 AND kind = 'child_visit'`, baby)
	}
	link := `#worklist-overdue a[data-record="` + baby + `"][data-service="newborn_visit"]`
	ctx := browser(t, 800, 1280)

	run(t, ctx, "sign in: the newborn visit is on the list, overdue",
		chromedp.Navigate(s.url+"/tablet/"),
		signIn(s.f.HomeVisitA),
		chromedp.WaitVisible(link),
		waitText(link, "新生儿家庭访视"),
		chromedp.Poll(`!!navigator.serviceWorker.controller`, nil, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	run(t, ctx, "go offline and reopen the app",
		offline(s),
		reloadUntil(`document.querySelector('`+link+`')`),
		waitText(`#net`, "离线"),
	)
	run(t, ctx, "record the newborn visit offline",
		follow(link),
		chromedp.WaitVisible(`#entry-form input[name=birth_weight_kg]`),
		chromedp.SendKeys(`#entry-form input[name=birth_weight_kg]`, "3.2"),
		chromedp.SendKeys(`#entry-form input[name=weight_kg]`, "3.6"),
		chromedp.Click(`#entry-form input[name=feeding][value=exclusive_breast]`),
		chromedp.Click(`#entry-form input[name=jaundice][value=face]`),
		chromedp.Click(`#entry-form input[name=umbilical_cord][value=not_fallen]`),
		chromedp.SendKeys(`#entry-form textarea[name=guidance]`, "母乳喂养，注意脐部护理"),
	)
	shot(t, ctx, "tablet-newborn-visit")
	run(t, ctx, "save it in the outbox",
		chromedp.Click(`#entry-form button[type=submit]`),
		badge(1),
		chromedp.WaitVisible(`#worklist-meta`),
	)
	if n := visits(); n != 0 {
		t.Fatalf("newborn visits on the server while offline: %d", n)
	}
	run(t, ctx, "come back online: it syncs",
		online(s),
		badge(0),
	)
	if n := visits(); n != 1 {
		t.Fatalf("newborn visits after the sync: %d, want 1", n)
	}
	run(t, ctx, "sync again: nothing more is created",
		chromedp.Navigate(s.url+"/tablet/#/outbox"),
		chromedp.WaitVisible(`#sync-now`),
		chromedp.Click(`#sync-now`),
		badge(0),
		chromedp.Navigate(s.url+"/tablet/#/"),
		chromedp.WaitVisible(`#worklist-meta`),
		chromedp.Poll(`!document.querySelector('`+link+`')`, nil, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	if n := visits(); n != 1 {
		t.Fatalf("newborn visits after a second sync: %d, want 1", n)
	}
	var done string
	if err := s.db.Get(&done, `SELECT COALESCE(done_on::text, '') FROM schedule_items WHERE record_id = $1 AND service = 'newborn_visit'`, baby); err != nil ||
		done != today.String() {
		t.Fatalf("schedule: newborn visit given on %q (%v), want today", done, err)
	}
}

// TestDeskKeyPopulation: on the desk a child's record shows its service
// plan, the newborn visit given; a doctor records the 满月 check with the
// children's form and sees it on the timeline and the plan.
func TestDeskKeyPopulation(t *testing.T) {
	s := newSite(t)
	s.seed()
	today := civil.Of(s.db.Today())
	doc := s.login(s.f.DoctorA)
	baby := doc.fileRecord(s.f.VillageA1, "李小宝", today.AddDays(-30).String(), "F", nil)
	doc.must("POST", "/api/v1/records/"+baby+"/programmes", map[string]any{"programme": "children_0_6",
		"enrolled_on": today.AddDays(-29).String()}, nil)
	doc.must("POST", "/api/v1/records/"+baby+"/child_visits", map[string]any{"service_date": today.AddDays(-25).String(),
		"service": "newborn_visit", "birth_weight_kg": 3.1, "weight_kg": 3.3, "feeding": "mixed", "jaundice": "none",
		"umbilical_cord": "fallen"}, nil)
	ctx := browser(t, 1366, 900)
	run(t, ctx, "open the child's record",
		chromedp.Navigate(s.url+"/"), signIn(s.f.DoctorA),
		chromedp.Navigate(s.url+"/#/record/"+baby),
		chromedp.WaitVisible(`ol.schedule li[data-service=newborn_visit]`),
		waitText(`ol.schedule li[data-service=newborn_visit]`, "已完成 "+today.AddDays(-25).String()),
		waitText(`ol.schedule li[data-service=check_1m]`, "应服务"),
		waitText(`#timeline`, "新生儿家庭访视"),
	)
	run(t, ctx, "record the 满月 check",
		chromedp.Click(`button[data-add=child_visit]`),
		chromedp.WaitVisible(`#entry-form select[name=service]`),
		setValue(`#entry-form select[name=service]`, "check_1m"),
		chromedp.SendKeys(`#entry-form input[name=weight_kg]`, "4.2"),
		chromedp.SendKeys(`#entry-form input[name=length_cm]`, "54.5"),
		chromedp.Click(`#entry-form input[name=development][value=normal]`),
		chromedp.Click(`#entry-form button[type=submit]`),
		waitText(`#timeline`, "满月健康检查"),
		waitText(`ol.schedule li[data-service=check_1m]`, "已完成"),
	)
	shot(t, ctx, "desk-record-child")
	if n := s.count(`SELECT count(*) FROM entries WHERE record_id = $1 AND kind = 'child_visit'`, baby); n != 2 {
		t.Fatalf("child visits: %d, want 2", n)
	}
}
