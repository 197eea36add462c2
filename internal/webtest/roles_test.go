package webtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRecordsAdminJourney: a records administrator creates a home-visit
// worker (a weak password refused at the field first), assigns a village,
// runs an import dry run that shows a bad row as file/line/field/reason,
// fixes the file and commits it.
func TestRecordsAdminJourney(t *testing.T) {
	s := newSite(t)
	ctx := browser(t, 1366, 900)
	const village = "330127100101" // the fixture's VillageA1, "村101"

	run(t, ctx, "sign in", chromedp.Navigate(s.url+"/"), signIn(s.f.AdminA))
	run(t, ctx, "staff page",
		follow(`#nav a[href="#/staff"]`),
		chromedp.WaitVisible(`#new-staff`),
		waitText(`main table`, s.f.DoctorA),
		waitText(`main p.muted`, "千岛湖镇社区卫生服务中心："), // the institution by name
	)
	run(t, ctx, "a weak password is refused at the field",
		chromedp.Click(`#new-staff`),
		chromedp.WaitVisible(`#staff-form input[name=staff_code]`),
		chromedp.SendKeys(`#staff-form input[name=staff_code]`, "hv9"),
		chromedp.SendKeys(`#staff-form input[name=name]`, "周随访"),
		chromedp.SendKeys(`#staff-form input[name=password]`, "password"),
		chromedp.Click(`#staff-form input[name=role][value=home_visit]`),
		chromedp.Click(`#staff-form button[type=submit]`),
		chromedp.WaitVisible(`#staff-form [data-field=password] .field-error`),
	)
	var reason string
	run(t, ctx, "read the reason", chromedp.Text(`#staff-form [data-field=password] .field-error`, &reason))
	if !strings.Contains(reason, "密码") {
		t.Fatalf("password reason = %q", reason)
	}
	run(t, ctx, "create with a good password",
		chromedp.SetValue(`#staff-form input[name=password]`, "千岛湖-青山绿水-2026"),
		chromedp.Click(`#staff-form button[type=submit]`),
		waitText(`main table`, "周随访"),
	)
	if n := s.count(`SELECT count(*) FROM staff_roles WHERE staff_code = 'hv9' AND role = 'home_visit'`); n != 1 {
		t.Fatalf("hv9 home_visit roles = %d", n)
	}
	run(t, ctx, "assign a village",
		pressUntil(`button[data-edit=hv9]`, `#villages-form`),
		press(`#villages-form input[value="`+village+`"]`),
		press(`#villages-form button[type=submit]`),
		chromedp.Poll(`[...document.querySelectorAll('main table tr')].some((tr) => tr.textContent.includes('hv9') && tr.textContent.includes('村101'))`, nil),
	)
	if n := s.count(`SELECT count(*) FROM staff_villages WHERE staff_code = 'hv9' AND village_code = $1`, village); n != 1 {
		t.Fatalf("hv9 villages = %d", n)
	}
	shot(t, ctx, "admin-staff")

	run(t, ctx, "village registry",
		follow(`#nav a[href="#/villages"]`),
		waitText(`main table`, "村101"),
	)
	// The save's message belonged to the staff page: leaving it cleared it
	// (it would otherwise stay up to 4 s).
	var toastText string
	run(t, ctx, "toast cleared", chromedp.Text(`#toast`, &toastText, chromedp.AtLeast(0)))
	if toastText != "" {
		t.Fatalf("toast after navigating: %q", toastText)
	}
	shot(t, ctx, "admin-villages")
	run(t, ctx, "a village's populations and doctors",
		follow(`a[href="#/villages/`+village+`"]`),
		chromedp.WaitVisible(`#population-form`),
		chromedp.SendKeys(`#population-form input[name=population]`, "1234"),
		chromedp.Click(`#population-form button[type=submit]`),
		waitText(`main`, "1234"),
	)
	shot(t, ctx, "admin-village")

	dir := t.TempDir()
	file := filepath.Join(dir, "residents.csv")
	header := "record_id,village_code,name,sex,birth_date,id_number,residence_type,ethnicity,phone,contact_name,contact_phone,responsible_doctor,filed_on,status,status_date\n"
	write := func(birth string) {
		t.Helper()
		body := header + fmt.Sprintf(",%s,迁入甲,F,1950-01-01,,户籍,汉族,,,,,2024-01-01,,\n,%s,迁入乙,M,%s,,户籍,汉族,,,,,2024-01-01,,\n", village, village, birth)
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("1955-02-30")
	run(t, ctx, "dry run with a bad row",
		follow(`#nav a[href="#/import"]`),
		chromedp.WaitVisible(`#import-files`),
		chromedp.SetUploadFiles(`#import-files`, []string{file}),
		chromedp.Click(`#import-dry`),
		chromedp.WaitVisible(`#import-errors table`),
		waitText(`#import-errors`, "birth_date"),
		waitText(`#import-errors`, "residents.csv"),
		waitText(`#import-errors`, "3"),
	)
	shot(t, ctx, "admin-import")
	if n := s.count(`SELECT count(*) FROM records WHERE name LIKE '迁入%'`); n != 0 {
		t.Fatalf("a dry run wrote %d records", n)
	}
	write("1955-02-28")
	run(t, ctx, "fixed, dry run, then commit",
		chromedp.SetUploadFiles(`#import-files`, []string{file}),
		chromedp.Click(`#import-dry`),
		waitText(`#import-verdict`, "试导入通过"),
		chromedp.Click(`#import-commit`),
		waitText(`#import-verdict`, "导入完成"),
	)
	if n := s.count(`SELECT count(*) FROM records WHERE name LIKE '迁入%'`); n != 2 {
		t.Fatalf("imported records = %d, want 2", n)
	}
}

// TestRequesterJourney: an outside requester files a request in the
// browser, follows it while the institution approves and records consent
// (through the API, as another person would), then reads the granted
// section; the sections the grant leaves out say so.
func TestRequesterJourney(t *testing.T) {
	s := newSite(t)
	doc := s.login(s.f.DoctorA)
	rid := doc.fileRecord(s.f.VillageA1, "林秀英", "1950-03-08", "F", nil)
	doc.must("POST", "/api/v1/records/"+rid+"/exams", map[string]any{"service_date": "2024-03-01", "systolic": 146, "diastolic": 92}, nil)
	doc.must("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-01"}, nil)
	ctx := browser(t, 1366, 900)

	run(t, ctx, "sign in: the requests page, no search",
		chromedp.Navigate(s.url+"/"), signIn(s.f.Requester),
		chromedp.WaitVisible(`#request-form`),
	)
	var nav string
	run(t, ctx, "nav", chromedp.Text(`#nav`, &nav))
	if strings.Contains(nav, "档案查询") || !strings.Contains(nav, "调阅申请") {
		t.Fatalf("requester nav = %q", nav)
	}
	run(t, ctx, "file a request",
		chromedp.SendKeys(`#request-form input[name=record_id]`, rid),
		chromedp.SendKeys(`#request-form textarea[name=purpose]`, "转诊至县人民医院心内科，需既往体检结果"),
		chromedp.Click(`#request-form input[name=section][value=exams]`),
		chromedp.Click(`#request-form button[type=submit]`),
		chromedp.WaitVisible(`#grant-scope`),
		waitText(`h1`, "待审批"),
	)
	shot(t, ctx, "requester-request")

	var req struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	ra := s.login(s.f.AdminA)
	ra.must("GET", "/api/v1/access-requests?state=submitted", nil, &req)
	if len(req.Items) != 1 {
		t.Fatalf("requests = %+v", req)
	}
	id := fmt.Sprint(req.Items[0].ID)
	ra.must("POST", "/api/v1/access-requests/"+id+"/approve", map[string]any{"reason": "转诊需要，材料齐全"}, nil)
	ra.must("POST", "/api/v1/access-requests/"+id+"/consent", map[string]any{"given": true, "given_by": "林秀英",
		"relationship": "本人", "method": "signed_form", "reference": "ZQ-1"}, nil)

	run(t, ctx, "the grant is active, with its history",
		reloadUntil(`document.querySelector('h1') && document.querySelector('h1').textContent.includes('授权生效')`),
		waitText(`#request-history`, "转诊需要"),
		waitText(`#grant-scope [data-section=programmes]`, "不在申请范围内"),
	)
	var steps int
	run(t, ctx, "count steps", chromedp.Evaluate(`document.querySelectorAll('#request-history li').length`, &steps))
	if steps != 3 {
		t.Fatalf("history steps = %d, want 3 (submitted, approved, active)", steps)
	}
	run(t, ctx, "read the granted section",
		follow(`#open-record`),
		chromedp.WaitVisible(`#h-exams`),
		waitText(`main`, "146/92"),
		waitText(`[data-withheld=programmes]`, "您的授权不包含「重点人群」"),
		waitText(`[data-withheld=basic]`, "您的授权不包含「基本信息」"),
		waitText(`[data-withheld=entries]`, "您的授权不包含"),
	)
	var text string
	run(t, ctx, "page text", chromedp.Text(`main`, &text))
	if strings.Contains(text, "未纳入重点人群管理") || strings.Contains(text, "角色无权访问") {
		t.Fatalf("the page misstates what is withheld: %q", text)
	}
	shot(t, ctx, "requester-record")

	// The records administrator's cards: the resident's name, the history,
	// and the rejected ones under 已驳回.
	other := doc.fileRecord(s.f.VillageA1, "周国强", "1948-05-05", "M", nil)
	req1 := s.login(s.f.Requester)
	var sub struct {
		ID int64 `json:"id"`
	}
	req1.must("POST", "/api/v1/access-requests", map[string]any{"record_id": other, "purpose": "保险理赔", "sections": []string{"basic"}, "days": 10}, &sub)
	ra.must("POST", fmt.Sprintf("/api/v1/access-requests/%d/reject", sub.ID), map[string]any{"reason": "用途与诊疗无关"}, nil)
	actx := browser(t, 1366, 900)
	run(t, actx, "the keeper's active card",
		chromedp.Navigate(s.url+"/#/requests?status=active"), signIn(s.f.AdminA),
		waitText(`[data-request="`+id+`"]`, "林秀英"),
		waitText(`[data-request="`+id+`"] .request-history`, "转诊需要，材料齐全"),
	)
	run(t, actx, "the rejected filter",
		follow(`a[href="#/requests?status=rejected"]`),
		waitText(`[data-request="`+fmt.Sprint(sub.ID)+`"]`, "周国强"),
		waitText(`[data-request="`+fmt.Sprint(sub.ID)+`"] .request-history`, "用途与诊疗无关"),
	)
	shot(t, actx, "admin-requests-rejected")
}

// pressUntil clicks sel by script until want exists: the list may render
// again (fresh data) after the click.
func pressUntil(sel, want string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { if (document.querySelector(%q)) return true;
		const e = document.querySelector(%q); if (e) e.click(); return false; })()`, want, sel), nil,
		chromedp.WithPollingInterval(200*time.Millisecond))
}

// press clicks an element by script once it exists: a passing toast may lie
// over it, where a mouse click would land on the toast.
func press(sel string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, sel), nil)
}

// TestDueListPaging: the due list pages 50 at a time and filters by village.
func TestDueListPaging(t *testing.T) {
	s := newSite(t)
	doc := s.login(s.f.DoctorA)
	enrol := func(village string, n int) {
		for i := 0; i < n; i++ {
			rid := doc.fileRecord(village, fmt.Sprintf("随访%02d", i), "1950-01-01", "F", nil)
			doc.must("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-01"}, nil)
		}
	}
	enrol(s.f.VillageA1, 52)
	enrol(s.f.VillageA2, 3)
	ctx := browser(t, 1366, 900)
	run(t, ctx, "due list, page 1 of 2",
		chromedp.Navigate(s.url+"/#/due"), signIn(s.f.DoctorA),
		waitText(`#due-page`, "第 1 / 2 页"),
	)
	var rows int
	run(t, ctx, "rows", chromedp.Evaluate(`document.querySelectorAll('main tbody tr').length`, &rows))
	if rows != 50 {
		t.Fatalf("page 1 rows = %d, want 50", rows)
	}
	run(t, ctx, "page 2", press(`#due-next`), waitText(`#due-page`, "第 2 / 2 页"))
	run(t, ctx, "rows", chromedp.Evaluate(`document.querySelectorAll('main tbody tr').length`, &rows))
	if rows != 5 {
		t.Fatalf("page 2 rows = %d, want 5", rows)
	}
	shot(t, ctx, "desk-due")
	run(t, ctx, "one village",
		chromedp.WaitReady(`#due-village option[value="`+s.f.VillageA2+`"]`),
		setValue(`#due-village`, s.f.VillageA2),
		waitText(`main`, "村001 3 项"),
	)
	run(t, ctx, "rows", chromedp.Evaluate(`document.querySelectorAll('main tbody tr').length`, &rows))
	if rows != 3 {
		t.Fatalf("village rows = %d, want 3", rows)
	}
}
