package webtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// offline takes the tablet off the network: the server stops (every
// request fails, the service worker's too) and the browser reports itself
// offline (navigator.onLine, the offline event).
func offline(s *site) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		s.stop()
		return network.OverrideNetworkState(true, 0, -1, -1).Do(ctx)
	})
}

// online brings the server back on the same address and the browser online;
// the online event starts the sync.
func online(s *site) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		s.restart()
		return network.OverrideNetworkState(false, 0, -1, -1).Do(ctx)
	})
}

// evalAsync evaluates a promise-returning expression and stores its value.
func evalAsync(js string, out any) chromedp.Action {
	return chromedp.Evaluate(js, out, func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams {
		return p.WithAwaitPromise(true)
	})
}

// badge waits until the unsynced-entries badge shows n.
func badge(n int) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`document.getElementById('badge').dataset.count === '%d'`, n), nil,
		chromedp.WithPollingInterval(50*time.Millisecond))
}

// TestTabletOffline: a home-visit worker opens the day's worklist, loses the
// connection, reloads the app from the service worker, records two
// follow-ups (one the server will refuse), and reconnects. The good one is
// created exactly once — also when the tablet sends it again as if its
// answer had been lost — and the refused one stays with its reason until
// it is fixed.
func TestTabletOffline(t *testing.T) {
	s := newSite(t)
	data := s.seed()
	ctx := browser(t, 800, 1280)
	// followups counts a resident's follow-up rows in the database.
	followups := func(id string) int {
		return s.count(`SELECT count(*) FROM entries WHERE record_id = $1 AND kind = 'followup'`, id)
	}

	run(t, ctx, "sign in and download the worklist",
		chromedp.Navigate(s.url+"/tablet/"),
		signIn(s.f.HomeVisitA),
		chromedp.WaitVisible(`#worklist-overdue a[data-record="`+data.Wang+`"]`),
		waitText(`main`, "李建国"),
		// The service worker controls the page once it has cached the shell.
		chromedp.Poll(`!!navigator.serviceWorker.controller`, nil, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	var zhao bool
	run(t, ctx, "only the worker's villages", chromedp.Evaluate(`document.querySelector('main').textContent.includes('赵美兰')`, &zhao))
	if zhao {
		t.Fatal("the worklist shows a resident of a village the worker does not serve")
	}
	shot(t, ctx, "tablet-worklist")
	shotAt(t, ctx, "tablet-worklist-1280x800", 1280, 800, 800, 1280)

	run(t, ctx, "go offline and reopen the app from the service worker",
		offline(s),
		reloadUntil(`document.querySelector('#worklist-overdue a[data-record="`+data.Wang+`"]')`),
		waitText(`#net`, "离线"),
	)

	run(t, ctx, "record a follow-up offline",
		follow(`#worklist-overdue a[data-record="`+data.Wang+`"]`),
		chromedp.WaitVisible(`#entry-form input[name=systolic]`),
		chromedp.SendKeys(`#entry-form input[name=systolic]`, "150"),
		chromedp.SendKeys(`#entry-form input[name=diastolic]`, "95"),
		chromedp.Click(`#entry-form input[name=classification][value=unsatisfactory]`),
		chromedp.Click(`#entry-form button[type=submit]`),
		badge(1),
		chromedp.WaitVisible(`#worklist-meta`),
	)
	run(t, ctx, "record a follow-up the server will refuse (no glucose at a home visit)",
		follow(`a[data-record="`+data.Li+`"]`),
		chromedp.WaitVisible(`#entry-form input[name=fasting_glucose]`),
		chromedp.Click(`#entry-form input[name=classification][value=satisfactory]`),
		chromedp.Click(`#entry-form button[type=submit]`),
		badge(2),
		chromedp.WaitVisible(`#worklist-meta`),
		follow(`#outbox-link`),
		chromedp.WaitVisible(`#outbox .outbox-item`),
	)
	shot(t, ctx, "tablet-outbox-offline")
	if n := followups(data.Wang); n != 0 {
		t.Fatalf("follow-ups on the server while offline: %d", n)
	}
	// Keep a copy of the pending entry, to replay it after it went through,
	// as a tablet does whose answer was lost on the way back.
	var copied bool
	run(t, ctx, "copy the pending entry", evalAsync(`(async () => {
		const st = await import('/static/js/store.js');
		const items = await st.all('outbox');
		const it = items.find((i) => i.record_id === '`+data.Wang+`');
		await st.kvSet('test-copy', it);
		return !!it; })()`, &copied))
	if !copied {
		t.Fatal("no pending entry for the first resident")
	}

	run(t, ctx, "come back online: the good entry syncs, the refused one stays",
		online(s),
		badge(1),
		chromedp.WaitVisible(`#outbox .outbox-item.rejected`),
		waitText(`#outbox .outbox-item.rejected`, "空腹血糖"),
	)
	if n := followups(data.Wang); n != 1 {
		t.Fatalf("follow-ups after sync: %d, want 1", n)
	}
	shot(t, ctx, "tablet-outbox-rejected")

	run(t, ctx, "replay the delivered entry",
		evalAsync(`(async () => {
			const st = await import('/static/js/store.js');
			await st.put('outbox', await st.kvGet('test-copy'));
			return true; })()`, nil),
		chromedp.Navigate(s.url+"/tablet/#/outbox"),
		chromedp.WaitVisible(`#sync-now`),
		chromedp.Click(`#sync-now`),
		badge(1),
	)
	if n := followups(data.Wang); n != 1 {
		t.Fatalf("follow-up rows after a replay: %d, want 1", n)
	}

	run(t, ctx, "fix the refused entry",
		follow(`#outbox .outbox-item.rejected a.button`),
		chromedp.WaitVisible(`#entry-form [data-field=fasting_glucose] .field-error`),
		chromedp.SendKeys(`#entry-form input[name=fasting_glucose]`, "7.2"),
		chromedp.Click(`#entry-form button[type=submit]`),
		badge(0),
	)
	if n := followups(data.Li); n != 1 {
		t.Fatalf("follow-ups of the second resident: %d, want 1", n)
	}
	run(t, ctx, "worklist after the round",
		chromedp.Navigate(s.url+"/tablet/#/"),
		chromedp.WaitVisible(`#worklist-meta`),
		chromedp.Poll(`!document.querySelector('#worklist-overdue a[data-record="`+data.Wang+`"]')`, nil, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
}
