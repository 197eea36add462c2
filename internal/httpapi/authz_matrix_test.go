package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAuthorizationMatrix sends every record endpoint as every kind of
// caller and checks, for each combination, the exact status; that the
// attempt is in the access log with the right outcome, section, role and
// grant; and that no answer the caller may not read carries the resident's
// name or identity number.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	f := e.f
	const name, name2 = "林秀英", "周桂兰"
	idNumber, idNumber2 := validID("1955-03-08", 24), validID("1955-03-08", 26)
	doc := e.login(f.DoctorA)
	rec := doc.fileRecord(f.VillageA1, name, map[string]any{"id_number": idNumber, "contact_name": "林建国"})
	rec2 := doc.fileRecord(f.VillageA2, name2, map[string]any{"id_number": idNumber2})
	exam := map[string]any{"service_date": "2024-06-01", "systolic": 128, "diastolic": 82, "height_cm": 160, "weight_kg": 64}
	if r := doc.req("POST", "/api/v1/records/"+rec+"/exams", exam); r.Status != 201 {
		t.Fatalf("exam: %d %s", r.Status, r.Raw)
	}

	// Outside requesters, one per state of their request on rec. The
	// expired grant runs one day, the others thirty; the clock then moves
	// on a day and a half, which ends only the one-day grant.
	ra := e.login(f.AdminA)
	requests := map[string]int64{}
	for _, g := range []struct {
		code, state string
		days        int
		sections    []string
	}{
		{"req_submitted", "submitted", 30, []string{"basic", "exams"}},
		{"req_approved", "approved", 30, []string{"basic", "exams"}},
		{"req_active", "active", 30, []string{"basic", "exams"}},
		{"req_expired", "active", 1, []string{"basic", "exams"}},
		{"req_revoked", "revoked", 30, []string{"basic", "exams"}},
		{"req_rejected", "rejected", 30, []string{"basic", "exams"}},
		{"req_refused", "refused", 30, []string{"basic", "exams"}},
		{"req_exams", "active", 30, []string{"exams"}},
		{"req_entries", "active", 30, []string{"entries"}},
	} {
		e.addRequester(g.code)
		requests[g.code] = grantTo(e.login(g.code), ra, rec, g.days, g.state, g.sections...)
	}
	e.now = e.now.Add(36 * time.Hour)
	// Sessions last 12 hours of the same clock.
	doc, ra = e.login(f.DoctorA), e.login(f.AdminA)
	today := e.now.Format("2006-01-02")
	if st := e.login("req_expired").req("GET", fmt.Sprintf("/api/v1/access-requests/%d", requests["req_expired"]), nil).Body["state"]; st != "expired" {
		t.Fatalf("setup: one-day grant is %v after 36 hours", st)
	}

	type endpoint struct {
		name   string
		method string
		path   string // %s is the record ID
		body   any
		// sections is what an attempt is logged under.
		sections []string
		// basic: a successful answer shows the basic section.
		basic bool
		// fresh: acts on a record filed for the row, in the target's
		// village (a status change is one-way).
		fresh bool
	}
	endpoints := []endpoint{
		{name: "GetRecord", method: "GET", path: "/api/v1/records/%s", sections: []string{"basic", "exams", "programmes"}, basic: true},
		{name: "PatchRecord", method: "PATCH", path: "/api/v1/records/%s", body: map[string]any{"phone": "13800000001"}, sections: []string{"basic"}, basic: true},
		{name: "Status", method: "POST", path: "/api/v1/records/%s/status", body: map[string]any{"status": "moved_out", "status_date": today, "destination": "杭州市"},
			sections: []string{"basic"}, basic: true, fresh: true},
		{name: "History", method: "GET", path: "/api/v1/records/%s/history", sections: []string{"history"}, basic: true},
		{name: "AccessLog", method: "GET", path: "/api/v1/records/%s/access-log", sections: []string{"access_log"}},
		{name: "ListExams", method: "GET", path: "/api/v1/records/%s/exams", sections: []string{"exams"}},
		{name: "AddExam", method: "POST", path: "/api/v1/records/%s/exams", body: exam, sections: []string{"exams"}},
		{name: "Search", method: "GET", path: "/api/v1/records?q=%s", sections: []string{"summary"}, basic: true},
	}
	all := []string{"basic", "exams", "programmes", "history", "access_log", "summary"}
	doctor := []string{"basic", "exams", "programmes", "history", "summary"}
	type caller struct {
		code   string
		role   string
		target string
		// sections the caller may read or write on the target; a search
		// finds the target when "summary" is among them.
		sections []string
		grant    bool
		want     [8]int // per endpoint, in order
	}
	denied := [8]int{403, 403, 403, 403, 403, 403, 403, 403}
	otherInst := [8]int{403, 403, 403, 403, 403, 403, 403, 200}
	grantee := [8]int{200, 403, 403, 403, 403, 200, 403, 403}
	callers := []caller{
		{f.DoctorA, "doctor", rec, doctor, false, [8]int{200, 200, 200, 200, 403, 200, 201, 200}},
		{f.DoctorB, "doctor", rec, nil, false, otherInst},
		{f.AdminA, "records_admin", rec, all, false, [8]int{200, 200, 200, 200, 200, 200, 201, 200}},
		{f.AdminB, "records_admin", rec, nil, false, otherInst},
		{f.HomeVisitA, "home_visit", rec, []string{"basic", "exams", "programmes", "summary"}, false, [8]int{200, 403, 403, 403, 403, 200, 403, 200}},
		{f.HomeVisitA, "home_visit", rec2, nil, false, otherInst},
		{f.Bureau, "bureau", rec, nil, false, denied},
		{f.Reviewer, "reviewer", rec, nil, false, denied},
		{f.Admin, "admin", rec, nil, false, denied},
		{f.Requester, "requester", rec, nil, false, denied},
		{"req_submitted", "requester", rec, nil, false, denied},
		{"req_approved", "requester", rec, nil, false, denied},
		{"req_active", "requester", rec, []string{"basic", "exams"}, true, grantee},
		{"req_expired", "requester", rec, nil, false, denied},
		{"req_revoked", "requester", rec, nil, false, denied},
		{"req_rejected", "requester", rec, nil, false, denied},
		{"req_refused", "requester", rec, nil, false, denied},
		{"req_exams", "requester", rec, []string{"exams"}, true, grantee},
		{"req_entries", "requester", rec, nil, false, denied},
	}

	type logRow struct {
		Section string `db:"section"`
		Outcome string `db:"outcome"`
		Roles   string `db:"roles"`
		Reason  string `db:"reason"`
		GrantID *int64 `db:"grant_id"`
	}
	for _, c := range callers {
		cl := e.login(c.code)
		for i, ep := range endpoints {
			target := c.target
			where := map[string]string{rec: "village A1", rec2: "village A2"}[target]
			t.Run(fmt.Sprintf("%s@%s/%s", c.code, where, ep.name), func(t *testing.T) {
				if ep.fresh {
					village := f.VillageA1
					if target == rec2 {
						village = f.VillageA2
					}
					target = doc.fileRecord(village, name, nil)
				}
				var before int64
				if err := e.db.Get(&before, `SELECT COALESCE(max(id), 0) FROM access_log`); err != nil {
					t.Fatal(err)
				}
				r := cl.req(ep.method, fmt.Sprintf(ep.path, target), ep.body)
				want := c.want[i]
				if r.Status != want {
					t.Fatalf("status %d, want %d: %s", r.Status, want, r.Raw)
				}

				// The answer carries personal details only where the caller
				// may read the basic section.
				mayRead := want < 300 && ep.basic && slices.Contains(c.sections, "basic")
				if ep.name == "Search" {
					mayRead = want < 300 && slices.Contains(c.sections, "summary")
				}
				if !mayRead {
					for _, secret := range []string{name, name2, idNumber, idNumber2, "林建国"} {
						if strings.Contains(string(r.Raw), secret) {
							t.Fatalf("answer leaks %q: %s", secret, r.Raw)
						}
					}
				}
				if want == 403 && (r.errCode() != "forbidden" || r.Body["error"].(map[string]any)["message"] == "") {
					t.Fatalf("denial without code or reason: %s", r.Raw)
				}

				var rows []logRow
				if err := e.db.Select(&rows, `SELECT section, outcome, roles, reason, grant_id FROM access_log
					WHERE id > $1 AND staff_code = $2 AND record_id = $3 ORDER BY id`, before, c.code, target); err != nil {
					t.Fatal(err)
				}
				var grantID *int64
				if c.grant {
					id := requests[c.code]
					grantID = &id
				}
				if ep.name == "Search" {
					// A search is not an attempt on a record; what it shows is.
					found := want == 200 && slices.Contains(c.sections, "summary")
					if total, _ := r.Body["total"].(float64); found != (total == 1) {
						t.Fatalf("search found %v records: %s", r.Body["total"], r.Raw)
					}
					if !found {
						if len(rows) != 0 {
							t.Fatalf("search that showed nothing logged %+v", rows)
						}
						return
					}
				}
				if len(rows) == 0 {
					t.Fatal("attempt not in the access log")
				}
				var allowed []string
				for _, row := range rows {
					if !slices.Contains(ep.sections, row.Section) {
						t.Errorf("logged section %q, want one of %v", row.Section, ep.sections)
					}
					if !strings.Contains(row.Roles, c.role) {
						t.Errorf("logged roles %q lack %s", row.Roles, c.role)
					}
					switch row.Outcome {
					case "allowed":
						allowed = append(allowed, row.Section)
						if (row.GrantID == nil) != (grantID == nil) || (grantID != nil && *row.GrantID != *grantID) {
							t.Errorf("allowed %s via grant %v, want %v", row.Section, row.GrantID, grantID)
						}
					case "denied":
						if row.Reason == "" || row.GrantID != nil {
							t.Errorf("denial logged with reason %q, grant %v", row.Reason, row.GrantID)
						}
					}
				}
				var wantAllowed []string
				if want < 300 {
					for _, s := range ep.sections {
						if slices.Contains(c.sections, s) {
							wantAllowed = append(wantAllowed, s)
						}
					}
				}
				if !slices.Equal(allowed, wantAllowed) {
					t.Fatalf("allowed sections %v, want %v (log %+v)", allowed, wantAllowed, rows)
				}
			})
		}
	}

	t.Run("GranteeSeesOnlyGrantedSections", func(t *testing.T) {
		r := e.login("req_exams").req("GET", "/api/v1/records/"+rec, nil)
		if r.Body["basic"] != nil || fmt.Sprint(r.Body["sections"]) != "[exams]" || len(r.Body["exams"].([]any)) == 0 {
			t.Fatalf("exams-only grant: %s", r.Raw)
		}
		r = e.login("req_active").req("GET", "/api/v1/records/"+rec2, nil)
		if r.Status != 403 {
			t.Fatalf("grant on one record used on another: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("DenialReasons", func(t *testing.T) {
		cases := []struct {
			who, path, want string
		}{
			{f.DoctorA, rec + "/access-log", "角色 doctor 无权"},
			{f.DoctorB, rec, "不在本人机构或村居范围内"},
			{f.HomeVisitA, rec2, "入户随访人员只能访问分配给本人的村居"},
			{"req_entries", rec + "/exams", fmt.Sprintf("授权 #%d 不包含 exams", requests["req_entries"])},
			{f.Bureau, rec, "角色无权访问 GET /api/v1/records/:id"},
		}
		for _, tc := range cases {
			r := e.login(tc.who).req("GET", "/api/v1/records/"+tc.path, nil)
			if msg, _ := r.Body["error"].(map[string]any)["message"].(string); r.Status != 403 || !strings.Contains(msg, tc.want) {
				t.Errorf("%s %s: %d %q, want a reason containing %q", tc.who, tc.path, r.Status, msg, tc.want)
			}
		}
	})

	t.Run("WhoHasSeenMyRecord", func(t *testing.T) {
		r := ra.req("GET", "/api/v1/records/"+rec+"/access-log?per_page=500", nil)
		items := r.Body["items"].([]any)
		if r.Status != 200 || len(items) < 50 || r.Body["total"].(float64) < float64(len(items)) {
			t.Fatalf("%d, %d items", r.Status, len(items))
		}
		var prev float64
		seen := map[string]bool{}
		for i, it := range items {
			m := it.(map[string]any)
			if id := m["id"].(float64); i > 0 && id >= prev {
				t.Fatalf("not newest first at %d", i)
			} else {
				prev = id
			}
			seen[m["staff_code"].(string)+"/"+m["outcome"].(string)] = true
		}
		for _, want := range []string{"req_active/allowed", "req_expired/denied", f.Bureau + "/denied", f.DoctorB + "/denied"} {
			if !seen[want] {
				t.Errorf("access log lacks %s", want)
			}
		}
		// Reading the log is itself logged, so page 2, read after page 1,
		// starts one entry earlier than page 1 ended.
		p1 := ra.req("GET", "/api/v1/records/"+rec+"/access-log?per_page=5", nil).Body["items"].([]any)
		p2 := ra.req("GET", "/api/v1/records/"+rec+"/access-log?per_page=5&page=2", nil).Body["items"].([]any)
		if len(p1) != 5 || len(p2) != 5 || p2[0].(map[string]any)["id"].(float64) != p1[4].(map[string]any)["id"].(float64) {
			t.Fatalf("page 2 does not follow page 1: %v / %v", p1, p2)
		}
	})
}

// TestReachMatrix sends the routes whose reach is decided beside the
// record gate (access/reach.go: report counties and drill-downs, case
// standing, staff reach, list reach) as every kind of caller, and checks
// the exact status and that every refusal is in the access log.
func TestReachMatrix(t *testing.T) {
	e := newRatesEnv(t)
	f := e.f
	caseID := e.login(f.Reviewer).openCase("staff", f.DoctorA)
	instCase := e.login(f.Reviewer).openCase("institution", f.InstA)
	endpoints := []struct{ name, path string }{
		{"Report", "/api/v1/reports/rates"},
		{"ReportOtherCounty", "/api/v1/reports/rates?county_code=330100"},
		{"DrillDoctorA", "/api/v1/reports/rates/records?level=doctor&scope_code=" + f.DoctorA},
		{"DrillInstitutionB", "/api/v1/reports/rates/records?level=institution&scope_code=" + f.InstB},
		{"StaffA", "/api/v1/staff/" + f.DoctorA},
		{"StaffNoInstitution", "/api/v1/staff/" + f.Bureau},
		{"CaseAboutDoctorA", "/api/v1/cases/" + caseID},
		{"CaseAboutInstA", "/api/v1/cases/" + instCase},
		{"DueVillageB1", "/api/v1/followups/due?village_code=" + f.VillageB1},
		{"DueVillageA1", "/api/v1/followups/due?village_code=" + f.VillageA1},
	}
	callers := []struct {
		code string
		want [10]int
	}{
		{f.DoctorA, [10]int{403, 403, 200, 403, 403, 403, 200, 403, 403, 200}},
		{f.DoctorB, [10]int{403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{f.AdminA, [10]int{200, 403, 200, 403, 200, 403, 403, 200, 403, 200}},
		{f.AdminB, [10]int{200, 403, 403, 200, 403, 403, 403, 403, 200, 403}},
		{f.HomeVisitA, [10]int{403, 403, 403, 403, 403, 403, 403, 403, 403, 200}},
		{f.Bureau, [10]int{200, 403, 200, 200, 403, 403, 200, 200, 403, 403}},
		{f.Reviewer, [10]int{403, 403, 403, 403, 403, 403, 200, 200, 403, 403}},
		{f.Admin, [10]int{403, 403, 403, 403, 200, 200, 403, 403, 403, 403}},
		{f.Requester, [10]int{403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
	}
	for _, c := range callers {
		cl := e.login(c.code)
		for i, ep := range endpoints {
			t.Run(c.code+"/"+ep.name, func(t *testing.T) {
				path := strings.SplitN(ep.path, "?", 2)[0]
				before := e.deniedRows(c.code, "", path)
				r := cl.req("GET", ep.path, nil)
				if r.Status != c.want[i] {
					t.Fatalf("status %d, want %d: %s", r.Status, c.want[i], r.Raw)
				}
				if r.Status == 403 {
					if r.errCode() != "forbidden" || r.errMessage() == "" {
						t.Fatalf("refusal without code or reason: %s", r.Raw)
					}
					if n := e.deniedRows(c.code, "", path); n != before+1 {
						t.Fatalf("refusal logged %d times, want once", n-before)
					}
				}
			})
		}
	}
}
