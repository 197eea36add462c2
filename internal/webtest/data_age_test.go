package webtest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBureauShowsDataAge: the report page says how old its figures are
// when X-Data-As-Of (a replica's last replay) is more than a minute behind
// the reader's clock, and says nothing when they are current. The browser's
// clock is moved two minutes ahead of the server's answer, which is what a
// replica two minutes behind looks like from the page.
func TestBureauShowsDataAge(t *testing.T) {
	s := newSite(t)
	s.seed()
	s.seedRates()
	ctx := browser(t, 1366, 900)
	var stale bool
	run(t, ctx, "current figures: no notice",
		chromedp.Navigate(s.url+"/bureau"),
		signIn(s.f.Bureau),
		chromedp.WaitVisible(`#charts svg.bars`),
		chromedp.Evaluate(`!!document.querySelector('#data-as-of')`, &stale),
	)
	if stale {
		t.Fatal("current figures carry a data-age notice")
	}
	run(t, ctx, "figures two minutes old: the notice",
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(`{ const now = Date.now; Date.now = () => now() + 120000; }`).Do(ctx)
			return err
		}),
		chromedp.Reload(),
		chromedp.WaitVisible(`#charts svg.bars`),
		waitText(`#data-as-of`, "约 2 分钟前"),
	)
	shot(t, ctx, "bureau-data-age")
}
