package webtest

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// worklistStored waits until the tablet has stored a worklist other than
// the one fetched at `prev` (an RFC 3339 instant, "" for none) and returns
// when the new one was fetched.
func worklistStored(t *testing.T, ctx context.Context, prev string) string {
	t.Helper()
	var at string
	for i := 0; i < 200; i++ {
		run(t, ctx, "read the stored worklist", evalAsync(`(async () => {
			const st = await import('/static/js/store.js');
			const wl = await st.kvGet('worklist');
			return wl ? wl.fetched_at : ''; })()`, &at))
		if at != "" && at != prev {
			return at
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no new worklist stored after %q", prev)
	return ""
}

// waitAsync waits until a promise-returning expression yields true.
func waitAsync(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		var ok bool
		run(t, ctx, "poll", evalAsync(js, &ok))
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never true: %s", js)
}

// TestTabletDeltaSync: a second worklist view with nothing changed fetches
// no record (0 record requests, each listed resident logged once as a
// sync); a changed record is fetched again, and only it; a resident the
// tablet lacks is asked for by name. With a second village, the list
// groups by village and filters to one, and the choice stays.
func TestTabletDeltaSync(t *testing.T) {
	s := newSite(t)
	data := s.seed()
	ctx := browser(t, 800, 1280)
	records := func() int { return served(t, s, "/api/v1/records/:id", "GET") }

	run(t, ctx, "sign in and download the worklist",
		chromedp.Navigate(s.url+"/tablet/"),
		signIn(s.f.HomeVisitA),
		chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Wang+`"]`),
	)
	at := worklistStored(t, ctx, "")
	if n := records(); n != 2 {
		t.Fatalf("record requests of the first worklist: %d, want its 2 residents", n)
	}

	logged := s.count(`SELECT count(*) FROM access_log`)
	run(t, ctx, "view the worklist again", chromedp.Reload(), chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Wang+`"]`))
	at = worklistStored(t, ctx, at)
	if n := records(); n != 2 {
		t.Fatalf("record requests of a second worklist view with nothing changed: %d, want 0", n-2)
	}
	if n := s.count(`SELECT count(*) FROM access_log WHERE id > (SELECT max(id) FROM access_log) - 10
		AND action = 'sync' AND section = 'summary' AND staff_code = $1`, s.f.HomeVisitA); n != 2 {
		t.Fatalf("summary syncs logged: %d, want one per resident", n)
	}
	if n := s.count(`SELECT count(*) FROM access_log`) - logged; n > 4 {
		t.Fatalf("access-log rows of an unchanged sync: %d", n)
	}

	doc := s.login(s.f.DoctorA)
	doc.must("PATCH", "/api/v1/records/"+data.Wang, map[string]any{"phone": "13700001234"}, nil)
	run(t, ctx, "a changed record comes again", chromedp.Reload(), chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Wang+`"]`))
	at = worklistStored(t, ctx, at)
	if n := records(); n != 3 {
		t.Fatalf("record requests after one change: %d, want 1", n-2)
	}
	var phone string
	run(t, ctx, "the new phone is on the tablet", evalAsync(`(async () => {
		const st = await import('/static/js/store.js');
		return (await st.get('records', '`+data.Wang+`')).rec.basic.phone; })()`, &phone))
	if phone != "13700001234" {
		t.Fatalf("stored phone %q", phone)
	}

	run(t, ctx, "a resident missing here is asked for", evalAsync(`(async () => {
		const st = await import('/static/js/store.js');
		await st.del('records', '`+data.Li+`'); return true; })()`, nil),
		chromedp.Reload(), chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Wang+`"]`))
	at = worklistStored(t, ctx, at)
	if n := records(); n != 4 {
		t.Fatalf("record requests for one missing resident: %d, want 1", n-3)
	}
	var held bool
	run(t, ctx, "it is stored again", evalAsync(`(async () => {
		const st = await import('/static/js/store.js');
		return !!(await st.get('records', '`+data.Li+`')); })()`, &held))
	if !held {
		t.Fatal("the missing resident was not stored")
	}

	run(t, ctx, "a cursor the server does not take: the tablet starts over", evalAsync(`(async () => {
		const st = await import('/static/js/store.js');
		const wl = await st.kvGet('worklist');
		await st.kvSet('worklist', { ...wl, cursor: 'from-another-version' }); return true; })()`, nil),
		chromedp.Reload(), chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Wang+`"]`))
	at = worklistStored(t, ctx, at)
	if n := records(); n != 6 {
		t.Fatalf("record requests after an unusable cursor: %d, want both residents again", n-4)
	}

	s.login(s.f.AdminA).must("PUT", "/api/v1/staff/"+s.f.HomeVisitA+"/villages",
		map[string]any{"village_codes": []string{s.f.VillageA1, s.f.VillageA2}}, nil)
	run(t, ctx, "a second village: grouped by village",
		chromedp.Reload(),
		chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Zhao+`"]`),
		chromedp.WaitVisible(`#village-filter`),
		chromedp.WaitVisible(`#worklist-overdue h3.village[data-village="`+s.f.VillageA2+`"]`),
	)
	worklistStored(t, ctx, at)
	shot(t, ctx, "tablet-worklist-villages")
	run(t, ctx, "filter to one village, and the choice stays",
		setValue(`#village-filter`, s.f.VillageA2),
		chromedp.Poll(`!document.querySelector('a[data-record="`+data.Wang+`"]') && !!document.querySelector('a[data-record="`+data.Zhao+`"]')`, nil,
			chromedp.WithPollingInterval(50*time.Millisecond)),
		chromedp.Reload(),
		chromedp.WaitVisible(`a[data-record="`+data.Zhao+`"]`),
		chromedp.Poll(`!document.querySelector('a[data-record="`+data.Wang+`"]') && document.getElementById('village-filter').value === '`+s.f.VillageA2+`'`, nil,
			chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	shot(t, ctx, "tablet-worklist-village-filter")
}

// TestTabletLateReply: a worklist reply that arrives after the tablet went
// offline does not turn the header back to "在线".
func TestTabletLateReply(t *testing.T) {
	s := newSite(t)
	data := s.seed()
	var hold atomic.Bool
	release := make(chan struct{})
	inner := s.handler
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold.Load() && r.URL.Path == "/api/v1/followups/worklist" {
			<-release
		}
		inner.ServeHTTP(w, r)
	})
	s.srv.Config.Handler = s.handler
	ctx := browser(t, 800, 1280)
	run(t, ctx, "sign in",
		chromedp.Navigate(s.url+"/tablet/"),
		signIn(s.f.HomeVisitA),
		chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Wang+`"]`),
	)
	at := worklistStored(t, ctx, "")
	hold.Store(true)
	before := served(t, s, "/api/v1/followups/worklist", "GET")
	run(t, ctx, "the worklist is asked for again, and the tablet goes offline meanwhile",
		chromedp.Reload(),
		chromedp.WaitVisible(`#worklist-meta`),
		waitText(`#net`, "在线"),
		chromedp.Evaluate(`window.dispatchEvent(new Event('offline'))`, nil),
		waitText(`#net`, "离线"),
	)
	close(release)
	worklistStored(t, ctx, at)
	if served(t, s, "/api/v1/followups/worklist", "GET") <= before {
		t.Fatal("the held worklist was never answered")
	}
	var net string
	run(t, ctx, "the header still says offline",
		chromedp.Sleep(200*time.Millisecond),
		chromedp.Text(`#net`, &net))
	if net != "离线" {
		t.Fatalf("header after a late reply: %q, want 离线", net)
	}
}

// TestTabletFixKeepsProgramme: a refused follow-up opened for fixing at the
// address the form goes to when the server refuses it at once (no
// programme in it) keeps its programme, also when the list names another.
func TestTabletFixKeepsProgramme(t *testing.T) {
	s := newSite(t)
	data := s.seed()
	ctx := browser(t, 800, 1280)
	run(t, ctx, "sign in",
		chromedp.Navigate(s.url+"/tablet/"),
		signIn(s.f.HomeVisitA),
		chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Wang+`"]`),
	)
	worklistStored(t, ctx, "")
	// Wang is on the list for hypertension; the refused entry is a
	// diabetes follow-up (she is not enrolled, so the server refuses it).
	run(t, ctx, "a refused diabetes follow-up waits", evalAsync(fmt.Sprintf(`(async () => {
		const st = await import('/static/js/store.js');
		const day = new Date().toISOString().slice(0, 10);
		await st.put('outbox', { key: 'refused-1', record_id: %q, kind: 'followups', name: '王秀英', staff_code: %q,
			created_at: new Date().toISOString(), state: 'rejected', attempts: 1,
			error: { status: 400, code: 'invalid', message: '未纳入', fields: [] },
			body: { programme: 'type2_diabetes', service_date: day, method: 'home', fasting_glucose: 7.1, classification: 'satisfactory' } });
		return true; })()`, data.Wang, s.f.HomeVisitA), nil),
		chromedp.Navigate(s.url+"/tablet/#/resident/"+data.Wang+"/followup?edit=refused-1"),
		chromedp.WaitVisible(`#entry-form input[name=fasting_glucose]`),
	)
	var checked string
	run(t, ctx, "the form shows its programme", chromedp.Evaluate(
		`(document.querySelector('#entry-form input[name=programme]:checked') || {}).value || ''`, &checked))
	if checked != "type2_diabetes" {
		t.Fatalf("programme checked: %q", checked)
	}
	run(t, ctx, "save it again", chromedp.Click(`#entry-form button[type=submit]`))
	waitAsync(t, ctx, `(async () => {
		const st = await import('/static/js/store.js');
		const items = await st.all('outbox');
		return items.length === 1 && items[0].key !== 'refused-1' && items[0].state !== 'pending'; })()`)
	var programmes []string
	run(t, ctx, "read the outbox",
		evalAsync(`(async () => {
			const st = await import('/static/js/store.js');
			return (await st.all('outbox')).map((i) => i.body.programme || ''); })()`, &programmes),
	)
	if len(programmes) != 1 || programmes[0] != "type2_diabetes" {
		t.Fatalf("programme of the fixed entry: %q", programmes)
	}
}
