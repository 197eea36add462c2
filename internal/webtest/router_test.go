package webtest

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRouterLateRender: a page's render that finishes after the person has
// moved on to another page does not cover it. The bureau's landing report
// is held by the server until the snapshots page, opened right after
// signing in, has loaded; then the report answers, and the snapshots page
// stays.
func TestRouterLateRender(t *testing.T) {
	s := newSite(t)
	var hold atomic.Bool
	hold.Store(true)
	release := make(chan struct{})
	inner := s.handler
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold.Load() && r.URL.Path == "/api/v1/reports/rates" {
			<-release
		}
		inner.ServeHTTP(w, r)
	})
	s.srv.Config.Handler = s.handler
	ctx := browser(t, 1366, 900)
	snapshots := func() int { return served(t, s, "/api/v1/snapshots", "GET") }
	run(t, ctx, "sign in: the landing report is on its way",
		chromedp.Navigate(s.url+"/bureau"),
		signIn(s.f.Bureau),
		waitText(`main`, "正在计算"),
		hash("#/snapshots"),
	)
	for i := 0; snapshots() == 0; i++ {
		if i > 100 {
			t.Fatal("the snapshots page never asked for the snapshots")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the snapshots page has drawn, if it may
	hold.Store(false)
	close(release)
	for i := 0; served(t, s, "/api/v1/reports/rates", "GET") == 0; i++ {
		if i > 100 {
			t.Fatal("the report was never answered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var title string
	run(t, ctx, "the snapshots page stays",
		waitText(`main h1`, "已发布快照"),
		waitText(`main`, "快照冻结发布时的数据"),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Text(`main h1`, &title),
	)
	if title != "已发布快照" {
		t.Fatalf("page after the late report: %q", title)
	}
}
