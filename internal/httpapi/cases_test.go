package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/staff"
)

// setDay moves the server clock to 09:00 on day.
func (e *env) setDay(day string) {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		e.t.Fatal(err)
	}
	e.now = t.Add(9 * time.Hour)
}

// session is a signed-in client that can sign in again: sessions last 12
// hours of server time, so moving the clock days ahead ends them.
type session struct {
	*client
	code string
}

func (e *env) as(code string) *session { return &session{client: e.login(code), code: code} }

// moveTo sets the clock to day and signs the sessions in again.
func (e *env) moveTo(day string, ss ...*session) {
	e.setDay(day)
	for _, s := range ss {
		s.client = e.login(s.code)
	}
}

// addStaff creates an account with the fixture password.
func (e *env) addStaff(code, inst string, grants ...staff.Grant) {
	e.t.Helper()
	if err := e.db.CreateStaff(context.Background(), &staff.Staff{Code: code, Name: "人员" + code, InstitutionCode: inst, Grants: grants}, ""); err != nil {
		e.t.Fatal(err)
	}
	pgtest.ResetPassword(e.t, e.db, code)
}

// openCase opens a complaint case about a subject as the client.
func (c *client) openCase(subjectType, subject string) string {
	c.e.t.Helper()
	r := c.req("POST", "/api/v1/cases", map[string]any{"source": "complaint", "subject_type": subjectType, "subject_code": subject,
		"facts": "群众投诉：入户随访记录与实际不符"})
	if r.Status != 201 {
		c.e.t.Fatalf("open case: %d %s", r.Status, r.Raw)
	}
	return fmt.Sprint(r.Body["id"])
}

// step posts a transition and checks the status.
func (c *client) step(id string, body map[string]any, want int) response {
	c.e.t.Helper()
	r := c.req("POST", "/api/v1/cases/"+id+"/transitions", body)
	if r.Status != want {
		c.e.t.Fatalf("transition %v: %d %s, want %d", body, r.Status, r.Raw, want)
	}
	return r
}

func errState(r response) any {
	e, _ := r.Body["error"].(map[string]any)
	return e["state"]
}

func errMessage(r response) string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestCaseWorkflow(t *testing.T) {
	e := newEnv(t)
	f := e.f
	e.setDay("2026-09-25")
	rev, doc, other, bureau := e.as(f.Reviewer), e.as(f.DoctorA), e.as(f.DoctorB), e.as(f.Bureau)
	all := []*session{rev, doc, other, bureau}

	r := rev.req("POST", "/api/v1/cases", map[string]any{"source": "complaint", "subject_type": "staff", "subject_code": f.DoctorA,
		"facts": "群众投诉：档案电话号码与本人不符"}, "Idempotency-Key", "k1")
	if r.Status != 201 || r.Header.Get("Location") != fmt.Sprintf("/api/v1/cases/%v", r.Body["id"]) {
		t.Fatalf("create: %d %s %s", r.Status, r.Header.Get("Location"), r.Raw)
	}
	id := fmt.Sprint(r.Body["id"])
	if r.Body["state"] != "accepted" || r.Body["county_code"] != f.County || r.Body["subject_institution"] != f.InstA ||
		r.Body["investigation_due"] != "2026-10-23" || r.Body["overdue"] != false || r.Body["talk_by"] != "deputy" {
		t.Fatalf("created case %s", r.Raw)
	}
	t.Run("IdempotentCreate", func(t *testing.T) {
		again := rev.req("POST", "/api/v1/cases", map[string]any{"source": "complaint", "subject_type": "staff", "subject_code": f.DoctorA,
			"facts": "群众投诉：档案电话号码与本人不符"}, "Idempotency-Key", "k1")
		if again.Status != 200 || fmt.Sprint(again.Body["id"]) != id {
			t.Fatalf("replay: %d %s", again.Status, again.Raw)
		}
	})
	t.Run("ErrCreate", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"UnknownSubject", map[string]any{"source": "complaint", "subject_type": "staff", "subject_code": "nobody", "facts": "x"}, "subject_code"},
			{"SnapshotByHand", map[string]any{"source": "snapshot", "subject_type": "staff", "subject_code": f.DoctorA, "facts": "x"}, "source"},
			{"NoFacts", map[string]any{"source": "inspection", "subject_type": "institution", "subject_code": f.InstA}, "facts"},
			{"UnknownField", map[string]any{"source": "inspection", "subject_type": "institution", "subject_code": f.InstA, "facts": "x", "x": 1}, "x"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if r := rev.req("POST", "/api/v1/cases", tt.body); r.Status != 400 || r.errField() != tt.field {
					t.Fatalf("%d %s, want 400 %s", r.Status, r.Raw, tt.field)
				}
			})
		}
		if r := doc.req("POST", "/api/v1/cases", map[string]any{"source": "complaint", "subject_type": "staff", "subject_code": f.DoctorB, "facts": "x"}); r.Status != 403 {
			t.Fatalf("doctor opens a case: %d", r.Status)
		}
	})

	t.Run("Visibility", func(t *testing.T) {
		var l struct {
			Items []map[string]any `json:"items"`
			Total int              `json:"total"`
		}
		if st := doc.do("GET", "/api/v1/cases", nil, &l); st != 200 || l.Total != 1 {
			t.Fatalf("subject lists own: %d %+v", st, l)
		}
		if st := other.do("GET", "/api/v1/cases", nil, &l); st != 200 || l.Total != 0 {
			t.Fatalf("another doctor lists: %d %+v", st, l)
		}
		if st := bureau.do("GET", "/api/v1/cases?subject="+f.DoctorA+"&year=2026", nil, &l); st != 200 || l.Total != 1 {
			t.Fatalf("bureau lists: %d %+v", st, l)
		}
		if got := doc.req("GET", "/api/v1/cases/"+id, nil); got.Status != 200 || len(got.Body["events"].([]any)) != 1 {
			t.Fatalf("subject reads own: %d %s", got.Status, got.Raw)
		}
		if got := other.req("GET", "/api/v1/cases/"+id, nil); got.Status != 403 {
			t.Fatalf("another doctor reads: %d", got.Status)
		}
		if got := rev.req("GET", "/api/v1/cases/999999", nil); got.Status != 404 {
			t.Fatalf("missing case: %d", got.Status)
		}
		if got := rev.req("GET", "/api/v1/cases?overdue=maybe", nil); got.Status != 400 || got.errField() != "overdue" {
			t.Fatalf("bad filter: %d %s", got.Status, got.Raw)
		}
	})

	rev.step(id, map[string]any{"to": "investigating", "reason": "立案调查"}, 200)
	t.Run("ErrItemBeforeDecision", func(t *testing.T) {
		r := rev.req("POST", "/api/v1/cases/"+id+"/items", map[string]any{"owner": f.DoctorA, "due_date": "2026-11-20", "description": "补录"})
		if r.Status != 409 || errState(r) != "investigating" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("ErrSubjectActs", func(t *testing.T) {
		r := doc.step(id, map[string]any{"to": "determined", "reason": "x", "responsibility": "direct", "severity": "light"}, 403)
		if !strings.Contains(errMessage(r), "复核") {
			t.Fatalf("message %q", errMessage(r))
		}
	})
	rev.step(id, map[string]any{"to": "investigating", "reason": "需调取原始登记本"}, 200)
	e.f.EnsurePanel(t, e.db)
	t.Run("ErrExtensionByRequester", func(t *testing.T) {
		// rev1 asked; a reviewer who is no lead may not approve either.
		if r := rev.req("POST", "/api/v1/cases/"+id+"/extension", map[string]any{"approve": true}); r.Status != 403 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	if r := e.login("lead1").req("POST", "/api/v1/cases/"+id+"/extension", map[string]any{"approve": true, "note": "同意延期"}); r.Status != 200 ||
		r.Body["extended"] != true || r.Body["extension_approved_by"] != "lead1" {
		t.Fatalf("approval: %d %s", r.Status, r.Raw)
	}
	rev.proc(id, map[string]any{"to": "determined", "reason": "查实", "responsibility": "direct", "severity": "light", "findings": "电话号码录入错误 12 份"}, 200)
	t.Run("ErrIllegal", func(t *testing.T) {
		r := rev.step(id, map[string]any{"to": "archived", "reason": "x"}, 409)
		if errState(r) != "determined" || r.errCode() != "conflict" {
			t.Fatalf("%s", r.Raw)
		}
	})
	t.Run("ErrMissingOutcome", func(t *testing.T) {
		if r := rev.proc(id, map[string]any{"to": "decided", "reason": "x"}, 400); r.errField() != "outcome" {
			t.Fatalf("%s", r.Raw)
		}
	})
	t.Run("ErrDecisionBeforeDefence", func(t *testing.T) {
		r := rev.proc(id, map[string]any{"to": "decided", "reason": "决定", "outcome": "admonishing_talk"}, 409)
		if e, _ := r.Body["error"].(map[string]any); e["defence_due"] == nil {
			t.Fatalf("%s", r.Raw)
		}
	})
	// The subject answers the findings in writing (申辩).
	doc.step(id, map[string]any{"to": "determined", "reason": "号码为居民本人提供，非录入错误"}, 200)
	e.moveTo("2026-09-30", all...)
	d := rev.proc(id, map[string]any{"to": "decided", "reason": "决定", "outcome": "admonishing_talk"}, 200)
	if d.Body["decided_on"] != "2026-09-30" || d.Body["serving_due"] != "2026-10-14" || d.Body["bars_excellent"] != true {
		t.Fatalf("decided: %s", d.Raw)
	}
	e.moveTo("2026-10-09", all...)
	s := rev.step(id, map[string]any{"to": "served", "reason": "当面送达"}, 200)
	if s.Body["appeal_due"] != "2026-10-23" {
		t.Fatalf("served: %s", s.Raw)
	}
	doc.step(id, map[string]any{"to": "appealed", "reason": "号码为居民本人提供，非录入错误"}, 200)
	t.Run("ErrSubjectReviews", func(t *testing.T) {
		doc.step(id, map[string]any{"to": "reviewed", "reason": "x", "review_result": "revoked"}, 403)
	})
	rev.proc(id, map[string]any{"to": "reviewed", "reason": "复核", "review_result": "upheld"}, 200)
	final := rev.step(id, map[string]any{"to": "archived", "reason": "备案"}, 200)
	events := final.Body["events"].([]any)
	if final.Body["state"] != "archived" || len(events) != 12 {
		t.Fatalf("archived case: %s", final.Raw)
	}
	if defence := events[6].(map[string]any); defence["actor"] != f.DoctorA || defence["from"] != "determined" || defence["to"] != "determined" {
		t.Fatalf("defence event %v", defence)
	}
	appeal := events[9].(map[string]any)
	if appeal["actor"] != f.DoctorA || appeal["to"] != "appealed" || appeal["at"] == "" || appeal["reason"] == "" {
		t.Fatalf("appeal event %v", appeal)
	}

	t.Run("AnnualSummary", func(t *testing.T) {
		r := doc.req("GET", "/api/v1/staff/"+f.DoctorA+"/accountability?year=2026", nil)
		if r.Status != 200 || r.Body["not_eligible_for_excellent"] != true || len(r.Body["reasons"].([]any)) != 1 {
			t.Fatalf("own summary: %d %s", r.Status, r.Raw)
		}
		if r := bureau.req("GET", "/api/v1/staff/"+f.DoctorA+"/accountability?year=2027", nil); r.Status != 200 || r.Body["not_eligible_for_excellent"] != false {
			t.Fatalf("next year: %d %s", r.Status, r.Raw)
		}
		if r := e.login(f.AdminA).req("GET", "/api/v1/staff/"+f.DoctorA+"/accountability", nil); r.Status != 200 {
			t.Fatalf("institution's records admin: %d %s", r.Status, r.Raw)
		}
		if r := other.req("GET", "/api/v1/staff/"+f.DoctorA+"/accountability", nil); r.Status != 403 {
			t.Fatalf("colleague elsewhere: %d", r.Status)
		}
		if r := other.req("GET", "/api/v1/staff/"+f.DoctorB+"/accountability?year=2026", nil); r.Status != 200 || r.Body["not_eligible_for_excellent"] != false {
			t.Fatalf("docB own: %d %s", r.Status, r.Raw)
		}
		if r := rev.req("GET", "/api/v1/staff/"+f.DoctorA+"/accountability?year=abc", nil); r.Status != 400 || r.errField() != "year" {
			t.Fatalf("bad year: %d", r.Status)
		}
	})
}

func TestCaseRecusal(t *testing.T) {
	e := newEnv(t)
	f := e.f
	// rev2 is a reviewer of the county who works at institution A.
	e.addStaff("rev2", f.InstA, staff.Grant{Role: staff.Reviewer, Domain: staff.CountyDomain(f.County)})
	rev, rev2 := e.login(f.Reviewer), e.login("rev2")
	aboutRev2 := rev.openCase("staff", "rev2")
	aboutInstA := rev.openCase("institution", f.InstA)
	aboutInstB := rev.openCase("institution", f.InstB)

	tests := []struct {
		name string
		do   func() response
	}{
		{"OpenAboutSelf", func() response {
			return rev2.req("POST", "/api/v1/cases", map[string]any{"source": "instruction", "subject_type": "staff", "subject_code": "rev2", "facts": "x"})
		}},
		{"OpenAboutOwnInstitution", func() response {
			return rev2.req("POST", "/api/v1/cases", map[string]any{"source": "instruction", "subject_type": "institution", "subject_code": f.InstA, "facts": "x"})
		}},
		{"ActOnOwnCase", func() response {
			return rev2.req("POST", "/api/v1/cases/"+aboutRev2+"/transitions", map[string]any{"to": "closed_no_fault", "reason": "查无过错"})
		}},
		{"ActOnOwnInstitution", func() response {
			return rev2.req("POST", "/api/v1/cases/"+aboutInstA+"/transitions", map[string]any{"to": "investigating", "reason": "x"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.Status != 403 || !strings.Contains(errMessage(r), "回避") {
				t.Fatalf("%d %s, want 403 naming recusal", r.Status, r.Raw)
			}
		})
	}
	t.Run("SubjectStillReads", func(t *testing.T) {
		if r := rev2.req("GET", "/api/v1/cases/"+aboutRev2, nil); r.Status != 200 {
			t.Fatalf("%d", r.Status)
		}
	})
	t.Run("OtherInstitutionOK", func(t *testing.T) {
		rev2.step(aboutInstB, map[string]any{"to": "investigating", "reason": "立案调查"}, 200)
	})
	t.Run("InstitutionAdminReadsNotActs", func(t *testing.T) {
		adm := e.login(f.AdminA)
		if r := adm.req("GET", "/api/v1/cases/"+aboutInstA, nil); r.Status != 200 {
			t.Fatalf("records admin reads own institution's case: %d", r.Status)
		}
		if r := adm.req("GET", "/api/v1/cases/"+aboutInstB, nil); r.Status != 403 {
			t.Fatalf("records admin reads another institution's case: %d", r.Status)
		}
		adm.step(aboutInstA, map[string]any{"to": "investigating", "reason": "x"}, 403)
	})
	t.Run("OtherCounty", func(t *testing.T) {
		// A reviewer of another county may not touch this county's cases.
		e.addStaff("rev9", "", staff.Grant{Role: staff.Reviewer, Domain: staff.CountyDomain("330106")})
		c := e.login("rev9")
		if r := c.req("GET", "/api/v1/cases/"+aboutInstB, nil); r.Status != 403 {
			t.Fatalf("read: %d", r.Status)
		}
		c.step(aboutInstB, map[string]any{"to": "determined", "reason": "x", "responsibility": "direct", "severity": "light"}, 403)
		var l struct{ Total int }
		if c.do("GET", "/api/v1/cases", nil, &l); l.Total != 0 {
			t.Fatalf("lists %d cases of another county", l.Total)
		}
	})
}

func TestCalendarAndOverdue(t *testing.T) {
	e := newEnv(t)
	f := e.f
	e.setDay("2026-09-25")
	admin, rev := e.login(f.Admin), e.as(f.Reviewer)
	id := rev.openCase("staff", f.DoctorA)

	holidays := []string{"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"}
	r := admin.req("PUT", "/api/v1/calendar/2026", map[string]any{"holidays": holidays, "workdays": []string{"2026-09-20", "2026-10-10"}})
	if r.Status != 200 || len(r.Body["holidays"].([]any)) != 7 || r.Body["year"] != float64(2026) {
		t.Fatalf("put: %d %s", r.Status, r.Raw)
	}
	if c := rev.req("GET", "/api/v1/cases/"+id, nil); c.Body["investigation_due"] != "2026-10-29" {
		t.Fatalf("deadline after the calendar: %v", c.Body["investigation_due"])
	}
	t.Run("Read", func(t *testing.T) {
		if r := rev.req("GET", "/api/v1/calendar/2026", nil); r.Status != 200 || len(r.Body["workdays"].([]any)) != 2 {
			t.Fatalf("reviewer reads: %d %s", r.Status, r.Raw)
		}
		if r := rev.req("PUT", "/api/v1/calendar/2026", map[string]any{"holidays": []string{}}); r.Status != 403 {
			t.Fatalf("reviewer writes: %d", r.Status)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		csv := "date,kind\n2027-01-01,holiday\n2027-02-06,workday\n"
		r := admin.req("PUT", "/api/v1/calendar/2027", csv, "Content-Type", "text/csv; charset=utf-8")
		if r.Status != 200 || len(r.Body["holidays"].([]any)) != 1 || len(r.Body["workdays"].([]any)) != 1 {
			t.Fatalf("csv: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tt := range []struct {
			name, path string
			body       any
			ct, field  string
		}{
			{"BadCSVRow", "/api/v1/calendar/2027", "date,kind\n2027-13-01,holiday\n", "text/csv", "date"},
			{"CSVOtherYear", "/api/v1/calendar/2027", "date,kind\n2026-12-31,holiday\n", "text/csv", "holidays[0]"},
			{"WeekdayWorkday", "/api/v1/calendar/2026", map[string]any{"workdays": []string{"2026-10-09"}}, "application/json", "workdays[0]"},
			{"BadDate", "/api/v1/calendar/2026", map[string]any{"holidays": []string{"2026-02-30"}}, "application/json", "holidays"},
			{"BadYear", "/api/v1/calendar/20x6", map[string]any{}, "application/json", "year"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := admin.req("PUT", tt.path, tt.body, "Content-Type", tt.ct)
				if r.Status != 400 || r.errField() != tt.field {
					t.Fatalf("%d %s, want 400 %s", r.Status, r.Raw, tt.field)
				}
			})
		}
		if r := rev.req("GET", "/api/v1/calendar/2026", nil); len(r.Body["holidays"].([]any)) != 7 {
			t.Fatal("a rejected PUT changed the calendar")
		}
	})

	t.Run("Overdue", func(t *testing.T) {
		var l struct {
			Items []map[string]any `json:"items"`
			Total int              `json:"total"`
		}
		e.moveTo("2026-10-29", rev)
		if rev.do("GET", "/api/v1/cases?overdue=true", nil, &l); l.Total != 0 {
			t.Fatalf("overdue on the deadline day: %+v", l)
		}
		e.moveTo("2026-10-30", rev)
		if rev.do("GET", "/api/v1/cases?overdue=true", nil, &l); l.Total != 1 || l.Items[0]["overdue"] != true || l.Items[0]["overdue_deadline"] != "investigation" {
			t.Fatalf("overdue list: %+v", l)
		}
		if rev.do("GET", "/api/v1/cases?overdue=false", nil, &l); l.Total != 0 {
			t.Fatalf("not-overdue list: %+v", l)
		}
		rev.step(id, map[string]any{"to": "investigating", "reason": "立案调查"}, 200)
		r := rev.step(id, map[string]any{"to": "investigating", "reason": "延期"}, 409)
		if errState(r) != "investigating" {
			t.Fatalf("extension after the deadline: %d %s", r.Status, r.Raw)
		}
	})
}

func TestItemsAndReminders(t *testing.T) {
	e := newEnv(t)
	f := e.f
	e.setDay("2026-11-02")
	rev, doc, other := e.as(f.Reviewer), e.as(f.DoctorA), e.as(f.DoctorB)
	id := rev.openCase("staff", f.DoctorA)
	for _, b := range []map[string]any{{"to": "investigating", "reason": "a"},
		{"to": "determined", "reason": "b", "responsibility": "direct", "severity": "light"},
		{"to": "determined", "reason": "申辩（书面，由问责办公室登记）"},
		{"to": "decided", "reason": "c", "outcome": "criticism_education"}} {
		rev.proc(id, b, 200)
	}
	r := rev.req("POST", "/api/v1/cases/"+id+"/items", map[string]any{"owner": f.DoctorA, "due_date": "2026-11-20", "description": "补齐 30 份健康体检"})
	if r.Status != 201 || r.Body["state"] != "open" || r.Body["owner_name"] == "" {
		t.Fatalf("create item: %d %s", r.Status, r.Raw)
	}
	item := fmt.Sprint(r.Body["id"])
	t.Run("ErrItem", func(t *testing.T) {
		if r := rev.req("POST", "/api/v1/cases/"+id+"/items", map[string]any{"owner": "nobody", "due_date": "2026-11-20", "description": "x"}); r.Status != 400 || r.errField() != "owner" {
			t.Fatalf("unknown owner: %d %s", r.Status, r.Raw)
		}
		if r := rev.req("POST", "/api/v1/cases/"+id+"/items", map[string]any{"owner": f.DoctorA, "due_date": "2026-11-01", "description": "x"}); r.Status != 400 || r.errField() != "due_date" {
			t.Fatalf("past due date: %d %s", r.Status, r.Raw)
		}
		if r := doc.req("POST", "/api/v1/cases/"+id+"/items", map[string]any{"owner": f.DoctorA, "due_date": "2026-11-20", "description": "x"}); r.Status != 403 {
			t.Fatalf("subject adds an item: %d", r.Status)
		}
	})
	t.Run("ListItems", func(t *testing.T) {
		var l struct{ Total int }
		if st := doc.do("GET", "/api/v1/cases/"+id+"/items", nil, &l); st != 200 || l.Total != 1 {
			t.Fatalf("subject lists: %d %+v", st, l)
		}
		if st := other.do("GET", "/api/v1/cases/"+id+"/items", nil, &l); st != 403 {
			t.Fatalf("outsider lists: %d", st)
		}
	})

	t.Run("Reminders", func(t *testing.T) {
		var l struct {
			Items []map[string]any `json:"items"`
		}
		e.moveTo("2026-11-12", rev, doc, other)
		if doc.do("GET", "/api/v1/reminders", nil, &l); len(l.Items) != 0 {
			t.Fatalf("before the window: %+v", l)
		}
		e.moveTo("2026-11-13", rev, doc, other)
		if doc.do("GET", "/api/v1/reminders", nil, &l); len(l.Items) != 1 || l.Items[0]["offset_days"] != float64(7) || l.Items[0]["sent_at"] != nil {
			t.Fatalf("7 days before, unsent: %+v", l)
		}
		for i := 0; i < 2; i++ {
			sent, err := e.db.SendDueReminders(context.Background(), e.now)
			if err != nil || len(sent) != 1-i {
				t.Fatalf("scheduler run %d sent %d (%v)", i+1, len(sent), err)
			}
		}
		if doc.do("GET", "/api/v1/reminders", nil, &l); len(l.Items) != 1 || l.Items[0]["sent_at"] == nil {
			t.Fatalf("7 days before, sent: %+v", l)
		}
		if other.do("GET", "/api/v1/reminders", nil, &l); len(l.Items) != 0 {
			t.Fatalf("someone else's reminders: %+v", l)
		}
	})

	t.Run("CloseAndVerify", func(t *testing.T) {
		if r := other.req("POST", "/api/v1/items/"+item+"/close", map[string]any{"evidence": "x"}); r.Status != 403 {
			t.Fatalf("non-owner closes: %d", r.Status)
		}
		if r := rev.req("POST", "/api/v1/items/"+item+"/verify", map[string]any{"accepted": true}); r.Status != 409 || errState(r) != "open" {
			t.Fatalf("verify open: %d %s", r.Status, r.Raw)
		}
		if r := doc.req("POST", "/api/v1/items/"+item+"/close", map[string]any{"evidence": "已补齐，见体检表扫描件"}); r.Status != 200 || r.Body["state"] != "closed" {
			t.Fatalf("close: %d %s", r.Status, r.Raw)
		}
		if r := doc.req("POST", "/api/v1/items/"+item+"/verify", map[string]any{"accepted": true}); r.Status != 403 {
			t.Fatalf("owner verifies: %d", r.Status)
		}
		if r := rev.req("POST", "/api/v1/items/"+item+"/verify", map[string]any{"accepted": false}); r.Status != 400 || r.errField() != "note" {
			t.Fatalf("reject without note: %d %s", r.Status, r.Raw)
		}
		if r := rev.req("POST", "/api/v1/items/"+item+"/verify", map[string]any{"accepted": false, "note": "抽查 5 份仍缺血压"}); r.Status != 200 || r.Body["state"] != "reopened" {
			t.Fatalf("reject: %d %s", r.Status, r.Raw)
		}
		doc.req("POST", "/api/v1/items/"+item+"/close", map[string]any{"evidence": "已补血压"})
		if r := rev.req("POST", "/api/v1/items/"+item+"/verify", map[string]any{"accepted": true, "note": "抽查合格"}); r.Status != 200 || r.Body["state"] != "verified" {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		if r := rev.req("POST", "/api/v1/items/"+item+"/verify", map[string]any{"accepted": true}); r.Status != 409 || errState(r) != "verified" {
			t.Fatalf("verify twice: %d %s", r.Status, r.Raw)
		}
		if r := rev.req("POST", "/api/v1/items/0/close", map[string]any{"evidence": "x"}); r.Status != 404 {
			t.Fatalf("missing item: %d", r.Status)
		}
		c := rev.req("GET", "/api/v1/cases/"+id, nil)
		if n := len(c.Body["events"].([]any)); n != 6+5 {
			t.Fatalf("case history has %d events, want the case's 6 (with the group) and the item's 5 (given, closed, reopened, closed, verified)", n)
		}
	})
}
