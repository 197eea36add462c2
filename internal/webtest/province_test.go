package webtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"healthrec/internal/civil"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// seedProvince makes the site's database look like a province's: the
// province report reads plain tables (regions, institutions, populations,
// targets, the counters and the counties' heartbeats), which logical
// replication fills in production and this test fills directly. A second
// county 建德市 (330128) joins the fixture's 淳安县 (330127); 淳安县 beat
// just now, 建德市 three hours ago (its server is offline). It returns
// the province account's code.
func (s *site) seedProvince() string {
	s.t.Helper()
	ctx := context.Background()
	must := func(err error) {
		s.t.Helper()
		if err != nil {
			s.t.Fatal(err)
		}
	}
	year := civil.Of(s.db.Today()).Year()
	must(s.db.CreateRegion(ctx, &region.Region{Code: "330128", Name: "建德市"}))
	must(s.db.CreateInstitution(ctx, &region.Institution{Code: "INSTC", Name: "新安江街道社区卫生服务中心", CountyCode: "330128"}))
	must(s.db.CreateRegion(ctx, &region.Region{Code: "330128100", Name: "新安江街道"}))
	for _, v := range []string{"330128100101", "330128100102"} {
		must(s.db.CreateRegion(ctx, &region.Region{Code: v, Name: "社区" + v[9:], InstitutionCode: "INSTC"}))
		must(s.db.SetPopulation(ctx, "admin", region.Population{VillageCode: v, Year: year, Population: 4}))
	}
	for _, v := range []string{s.f.VillageA1, s.f.VillageA2, s.f.VillageB1, s.f.VillageB2} {
		must(s.db.SetPopulation(ctx, "admin", region.Population{VillageCode: v, Year: year, Population: 10}))
	}
	must(s.db.CreateStaff(ctx, &staff.Staff{Code: "docC", Name: "人员docC", InstitutionCode: "INSTC", Phone: "13800000000",
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain("INSTC")}}}, ""))
	pgtest.ResetPassword(s.t, s.db, "docC")
	must(s.db.CreateStaff(ctx, &staff.Staff{Code: "prov1", Name: "省卫健委审阅人",
		Grants: []staff.Grant{{Role: staff.Province, Domain: staff.ProvinceDomain("33")}}}, ""))
	pgtest.ResetPassword(s.t, s.db, "prov1")

	docA := s.login(s.f.DoctorA)
	docA.fileRecord(s.f.VillageA1, "省甲", "1960-01-01", "M", nil)
	docA.fileRecord(s.f.VillageA2, "省乙", "1961-01-01", "F", nil)
	docC := s.login("docC")
	docC.fileRecord("330128100101", "省丙", "1962-01-01", "M", nil)
	docC.fileRecord("330128100101", "省丁", "1963-01-01", "F", nil)
	docC.fileRecord("330128100102", "省戊", "1964-01-01", "M", nil)
	if _, err := s.db.FoldRateChanges(ctx); err != nil {
		s.t.Fatal(err)
	}
	su := pgtest.Superuser(s.t, s.db)
	su.MustExec(`INSERT INTO counter_heartbeats (county, beat_at) VALUES ('330127', now()), ('330128', now() - interval '3 hours')`)
	return "prov1"
}

// TestProvincePage: a province account signs in at the desk and lands on
// the province's page: each county's three rates by name with their
// province-wide ranks and targets, the offline county kept and marked with
// its data's age, CSV and PDF that download, a county opened down to its
// own townships and institutions, and another as-of date.
func TestProvincePage(t *testing.T) {
	s := newSite(t)
	prov := s.seedProvince()
	ctx := browser(t, 1366, 900)

	var path string
	run(t, ctx, "sign in at the desk, land on the province page",
		chromedp.Navigate(s.url+"/"),
		signIn(prov),
		chromedp.WaitVisible(`#province-table table`),
		chromedp.Evaluate(`location.pathname`, &path),
	)
	if path != "/province" {
		t.Fatalf("a province account landed on %q, want /province", path)
	}
	run(t, ctx, "every county's rates, by name, with the offline county's age",
		// 淳安县: 2 records over a population of 40; 建德市: 3 over 8.
		waitText(`#province-table`, "淳安县"),
		waitText(`#province-table`, "5.0%"),
		waitText(`#province-table`, "建德市"),
		waitText(`#province-table`, "37.5%"),
		waitText(`#province-table`, "全省第1名"),
		waitText(`#province-table`, "目标 90.0%"),
		waitText(`#province-table [data-stale="330128"]`, "已 3 小时"),
		waitText(`#province-table [data-stale="330128"]`, "数据截至"),
		waitText(`#stale-counties`, "建德市：数据截至"),
		waitText(`#h-stats`, "排名（全省）"),
		waitText(`main .stats`, "后三："),
		chromedp.WaitVisible(`#charts svg.bars`),
	)
	var fresh bool
	var text string
	run(t, ctx, "read the page",
		chromedp.Evaluate(`!document.querySelector('#province-table [data-stale="330127"]')`, &fresh),
		chromedp.Evaluate(`document.querySelector('main').textContent`, &text),
	)
	if !fresh {
		t.Error("淳安县, which beat just now, is marked stale")
	}
	// Names, not codes, wherever a person reads them.
	for _, code := range []string{"330127", "330128", "INSTA", "INSTC"} {
		if strings.Contains(text, code) {
			t.Errorf("the page shows the code %s", code)
		}
	}
	shot(t, ctx, "province-report")

	// The download links answer the CSV and the PDF of the same report.
	var got []string
	fetchJS := `Promise.all(['#download-csv', '#download-pdf'].map((sel) => fetch(document.querySelector(sel).href)
		.then(async (r) => r.status + ' ' + r.headers.get('Content-Type') + ' ' + (await r.text()).slice(0, 40))))`
	run(t, ctx, "download the CSV and the PDF",
		chromedp.Evaluate(fetchJS, &got, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	if len(got) != 2 || !strings.HasPrefix(got[0], "200 text/csv") || !strings.Contains(got[0], "level,scope_code,scope_name") ||
		!strings.HasPrefix(got[1], "200 application/pdf") || !strings.Contains(got[1], "%PDF") {
		t.Errorf("downloads: %q", got)
	}

	run(t, ctx, "open 建德市: its townships and institutions, and its data's age",
		chromedp.Click(`#province-table a[data-county="330128"]`),
		waitText(`h1`, "建德市"),
		waitText(`#county-age`, "已 3 小时"),
		waitText(`#township-table`, "新安江街道"),
		waitText(`#institution-table`, "新安江街道社区卫生服务中心"),
		waitText(`#county-figures`, "37.5%"),
	)
	var other bool
	run(t, ctx, "only the county's own institutions",
		chromedp.Evaluate(`document.querySelector('#institution-table').textContent.includes('千岛湖镇')`, &other),
	)
	if other {
		t.Error("建德市's page lists 淳安县's institution 千岛湖镇社区卫生服务中心")
	}
	shot(t, ctx, "province-county")

	lastYear := fmt.Sprintf("%d-12-31", civil.Of(s.db.Today()).Year()-1)
	run(t, ctx, "another as-of date",
		chromedp.Click(`.crumbs a`),
		chromedp.WaitVisible(`#province-table table`),
		setValue(`#params input[name=as_of]`, lastYear),
		chromedp.Click(`#params button[type=submit]`),
		waitText(`main p.muted`, "截至 "+lastYear),
		chromedp.Poll(fmt.Sprintf(`location.hash.includes('as_of=%s') && document.querySelector('#download-csv').href.includes('as_of=%s')`, lastYear, lastYear), nil),
		waitText(`#province-table`, "建德市"),
	)
}

// TestProvincePageTwoProvinces: an account of two provinces (the API then
// wants province_code) reads the first one's counties and picks the other,
// which has no county yet and says so.
func TestProvincePageTwoProvinces(t *testing.T) {
	s := newSite(t)
	s.seedProvince()
	if err := s.db.CreateStaff(context.Background(), &staff.Staff{Code: "prov2", Name: "两省审阅人",
		Grants: []staff.Grant{{Role: staff.Province, Domain: staff.ProvinceDomain("34")}, {Role: staff.Province, Domain: staff.ProvinceDomain("33")}}}, ""); err != nil {
		t.Fatal(err)
	}
	pgtest.ResetPassword(t, s.db, "prov2")
	ctx := browser(t, 1366, 900)
	run(t, ctx, "the first province's counties",
		chromedp.Navigate(s.url+"/province"),
		signIn("prov2"),
		waitText(`#province-table`, "建德市"),
		waitText(`main p.muted`, "省级代码 33"),
	)
	run(t, ctx, "the other province: no county yet",
		chromedp.SetValue(`#params select[name=province]`, "34"),
		chromedp.Click(`#params button[type=submit]`),
		waitText(`main [role=alert]`, "省 34 尚无任何县的数据"),
		chromedp.Poll(`location.hash.includes('province=34')`, nil),
	)
}
