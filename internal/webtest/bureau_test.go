package webtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"healthrec/internal/civil"
)

// seedRates registers populations and a few residents of institution B, so
// that the county has townships and institutions to compare.
func (s *site) seedRates() {
	s.t.Helper()
	year := strconv.Itoa(civil.Of(s.db.Today()).Year())
	ra := s.login(s.f.AdminA)
	for _, v := range []string{s.f.VillageA1, s.f.VillageA2} {
		ra.must("PUT", "/api/v1/villages/"+v+"/populations/"+year, map[string]any{"population": 6}, nil)
	}
	rb := s.login(s.f.AdminB)
	for _, v := range []string{s.f.VillageB1, s.f.VillageB2} {
		rb.must("PUT", "/api/v1/villages/"+v+"/populations/"+year, map[string]any{"population": 10}, nil)
	}
	docB := s.login(s.f.DoctorB)
	docB.fileRecord(s.f.VillageB1, "孙桂芳", "1950-02-02", "F", nil)
}

// acceptDialogs answers every confirm() with OK, as a person who means it.
func acceptDialogs(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() { _ = chromedp.Run(ctx, page.HandleJavaScriptDialog(true)) }()
		}
	})
}

// TestBureauDashboard: the bureau analyst sees the county's three rates,
// drills down county → township → institution → doctor → the doctor's
// records, downloads the CSV, publishes a snapshot and sees it in the list
// and the trend.
func TestBureauDashboard(t *testing.T) {
	s := newSite(t)
	s.seed()
	s.seedRates()
	ctx := browser(t, 1366, 900)
	acceptDialogs(ctx)
	dl := t.TempDir()
	downloads := make(chan string, 4)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*cdpbrowser.EventDownloadProgress); ok && e.State == cdpbrowser.DownloadProgressStateCompleted {
			downloads <- e.GUID
		}
	})

	run(t, ctx, "sign in",
		chromedp.Navigate(s.url+"/bureau"),
		signIn(s.f.Bureau),
		chromedp.WaitVisible(`#charts svg.bars`),
		waitText(`main table`, "淳安县"),
	)
	run(t, ctx, "county → townships",
		chromedp.Click(`main table button[data-scope="330127"]`),
		waitText(`#level-title`, "乡镇"),
		waitText(`main table`, "千岛湖镇"),
		waitText(`main table`, "文昌镇"),
	)
	shot(t, ctx, "bureau-dashboard")
	shotAt(t, ctx, "bureau-dashboard-800x1280", 800, 1280, 1366, 900)
	run(t, ctx, "township → institutions",
		chromedp.Click(`main table button[data-scope="330127100"]`),
		waitText(`#level-title`, "机构"),
		waitText(`main table`, "千岛湖镇社区卫生服务中心"),
	)
	var body string
	run(t, ctx, "read institutions", chromedp.Text(`main table`, &body))
	if strings.Contains(body, "文昌镇卫生院") {
		t.Fatalf("the township's institutions include another township's: %q", body)
	}
	run(t, ctx, "institution → doctors → records",
		chromedp.Click(`main table button[data-scope="`+s.f.InstA+`"]`),
		waitText(`#level-title`, "责任医生"),
		chromedp.WaitVisible(`main table button[data-scope="`+s.f.DoctorA+`"]`),
		chromedp.Click(`main table button[data-scope="`+s.f.DoctorA+`"]`),
		waitText(`h1`, "档案问题清单"),
		chromedp.WaitVisible(`main table`),
	)

	run(t, ctx, "download the CSV",
		chromedp.Navigate(s.url+"/bureau#/"),
		chromedp.WaitVisible(`#download-csv`),
		cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(dl).WithEventsEnabled(true),
		chromedp.Click(`#download-csv`),
	)
	select {
	case guid := <-downloads:
		b, err := os.ReadFile(filepath.Join(dl, guid))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.SplitN(strings.TrimPrefix(string(b), "\ufeff"), "\n", 2)[0],
			"level,scope_code,scope_name,indicator,numerator,denominator,rate,target,gap,rank,warning"; strings.TrimSpace(got) != want {
			t.Fatalf("CSV header = %q, want %q", got, want)
		}
		if !strings.Contains(string(b), "county,330127,") {
			t.Fatalf("CSV has no county row:\n%s", b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the CSV download did not complete")
	}

	run(t, ctx, "publish a snapshot",
		chromedp.Click(`#publish`),
		chromedp.WaitVisible(`#publish-form`),
		chromedp.Click(`#publish-form input[value=pre_assessment]`),
		chromedp.Click(`#publish-confirm`),
		chromedp.WaitVisible(`main table`),
		waitText(`h1`, "已发布快照"),
		waitText(`main table`, "#1"),
		waitText(`main table`, "预考核"),
	)
	run(t, ctx, "a second publish of the date offers a correction",
		chromedp.Navigate(s.url+"/bureau#/"),
		chromedp.WaitVisible(`#publish`),
		chromedp.Click(`#publish`),
		chromedp.WaitVisible(`#publish-form`),
		chromedp.Click(`#publish-form input[value=pre_assessment]`),
		chromedp.Click(`#publish-confirm`),
		waitText(`#publish-confirm`, "取代快照 #1"),
		chromedp.SendKeys(`#publish-form textarea[name=reason]`, "补登人口后更正"),
		chromedp.Click(`#publish-confirm`),
		waitText(`h1`, "已发布快照"),
		waitText(`main table`, "已被 #2 取代"),
	)
	run(t, ctx, "trend over snapshots",
		chromedp.Click(`#nav a[href="#/trends"]`),
		chromedp.WaitVisible(`svg.trend`),
	)
	run(t, ctx, "cases",
		chromedp.Click(`#nav a[href="#/cases"]`),
		waitText(`h1`, "问责案件"),
		chromedp.WaitVisible(`main table, main .empty`),
	)
}
