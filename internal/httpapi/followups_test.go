package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestFollowupsDue checks the due list of DESIGN §4.3: due at the set next
// date, else 3 calendar months after the last follow-up or the enrolment
// (clamped to the month's end, leap days included), overdue after that;
// earliest due first; only active hypertension and diabetes enrolments of
// active records, in the caller's villages.
func TestFollowupsDue(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	hv := e.login(f.HomeVisitA)
	file := func(village, name string, enrolments ...[2]string) string {
		rid := doc.fileRecord(village, name, nil)
		for _, en := range enrolments {
			doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": en[0], "enrolled_on": en[1]}, 201)
		}
		return rid
	}
	followup := func(rid, date, next string) {
		hv.mustReq("POST", "/api/v1/records/"+rid+"/followups", followupBody(date, next), 201)
	}
	// Month end: enrolled Jan 31, no follow-up since: due Apr 30.
	file(f.VillageA1, "甲", [2]string{"hypertension", "2024-01-31"})
	// Leap year: last follow-up Nov 29 2023 with no next date: due Feb 29 2024.
	b := file(f.VillageA1, "乙", [2]string{"hypertension", "2023-08-01"})
	followup(b, "2023-11-29", "")
	// Non-leap: enrolled Nov 30 2022: due Feb 28 2023.
	file(f.VillageA1, "丙", [2]string{"hypertension", "2022-11-30"})
	// A set next date wins; a late entry of an older follow-up changes nothing.
	d := file(f.VillageA1, "丁", [2]string{"hypertension", "2024-01-01"})
	followup(d, "2024-03-15", "2024-04-10")
	followup(d, "2024-02-01", "")
	// Diabetes, last follow-up May 31: due Aug 31.
	dm := file(f.VillageA1, "戊", [2]string{"type2_diabetes", "2024-01-01"})
	hv.mustReq("POST", "/api/v1/records/"+dm+"/followups", map[string]any{"service_date": "2024-05-31", "programme": "type2_diabetes",
		"method": "clinic", "fasting_glucose": 7.8, "adherence": "intermittent", "classification": "unsatisfactory"}, 201)
	// Never listed: a programme without a schedule (tuberculosis; the
	// elderly's annual service is TestKeyPopulations'); an ended enrolment;
	// a deceased resident.
	file(f.VillageA1, "己", [2]string{"tuberculosis", "2024-01-01"})
	ended := file(f.VillageA1, "庚", [2]string{"hypertension", "2024-01-01"})
	r := doc.mustReq("GET", "/api/v1/records/"+ended+"/programmes", nil, 200)
	doc.mustReq("POST", fmt.Sprintf("/api/v1/records/%s/programmes/%.0f/end", ended, r.Body["items"].([]any)[0].(map[string]any)["id"]), nil, 200)
	dead := file(f.VillageA1, "辛", [2]string{"hypertension", "2024-01-01"})
	doc.mustReq("POST", "/api/v1/records/"+dead+"/status", map[string]any{"status": "deceased", "status_date": "2024-06-30"}, 200)
	// Another village of the institution: the doctor's list, not the home-visit worker's.
	file(f.VillageA2, "壬", [2]string{"hypertension", "2024-01-15"})

	list := func(c *client, query string) (string, response) {
		t.Helper()
		r := c.mustReq("GET", "/api/v1/followups/due?"+query, nil, 200)
		var out []string
		for _, it := range r.Body["items"].([]any) {
			m := it.(map[string]any)
			s := fmt.Sprintf("%v:%v", m["name"], m["due_date"])
			if m["overdue"] == true {
				s += fmt.Sprintf("+%v", m["days_overdue"])
			} else if m["days_until_due"] != 0.0 {
				s += fmt.Sprintf("-%v", m["days_until_due"])
			}
			out = append(out, s)
		}
		return strings.Join(out, " "), r
	}
	cases := []struct {
		name  string
		c     *client
		query string
		want  string
	}{
		{"DayBeforeMonthEnd", hv, "as_of=2024-04-29", "丙:2023-02-28+426 乙:2024-02-29+60 丁:2024-04-10+19"},
		{"DueOnClampedDate", hv, "as_of=2024-04-30", "丙:2023-02-28+427 乙:2024-02-29+61 丁:2024-04-10+20 甲:2024-04-30"},
		{"OverdueTheDayAfter", hv, "as_of=2024-05-01", "丙:2023-02-28+428 乙:2024-02-29+62 丁:2024-04-10+21 甲:2024-04-30+1"},
		{"LeapDayDue", hv, "as_of=2024-02-29", "丙:2023-02-28+366 乙:2024-02-29"},
		{"LeapDayNotYet", hv, "as_of=2024-02-28", "丙:2023-02-28+365"},
		{"LookAhead", hv, "as_of=2024-06-30&within_days=62",
			"丙:2023-02-28+488 乙:2024-02-29+122 丁:2024-04-10+81 甲:2024-04-30+61 戊:2024-08-31-62"},
		{"DoctorSeesInstitutionVillages", doc, "as_of=2024-04-30",
			"丙:2023-02-28+427 乙:2024-02-29+61 丁:2024-04-10+20 壬:2024-04-15+15 甲:2024-04-30"},
		{"DoctorOneVillage", doc, "as_of=2024-04-30&village_code=" + f.VillageA2, "壬:2024-04-15+15"},
		{"OtherInstitution", e.login(f.DoctorB), "as_of=2024-04-30", ""},
		{"Paged", hv, "as_of=2024-05-01&per_page=2&page=2", "丁:2024-04-10+21 甲:2024-04-30+1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := list(tc.c, tc.query); got != tc.want {
				t.Fatalf("due list\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	t.Run("ResponseFields", func(t *testing.T) {
		_, r := list(hv, "as_of=2024-05-01&per_page=2")
		if r.Body["as_of"] != "2024-05-01" || r.Body["total"] != 4.0 || r.Body["per_page"] != 2.0 {
			t.Fatalf("list: %s", r.Raw)
		}
		first := r.Body["items"].([]any)[0].(map[string]any)
		for _, k := range []string{"enrolment_id", "record_id", "programme", "enrolled_on", "last_followup_date", "due_date", "village_code", "phone"} {
			if _, ok := first[k]; !ok {
				t.Errorf("item lacks %s: %v", k, first)
			}
		}
		if first["last_followup_date"] != nil || first["enrolled_on"] != "2022-11-30" {
			t.Fatalf("never followed up: %v", first)
		}
	})
	t.Run("DefaultsToToday", func(t *testing.T) {
		e.at("2024-05-01")
		got, r := list(hv, "")
		e.at("2024-06-30")
		if r.Body["as_of"] != "2024-05-01" || !strings.HasSuffix(got, "甲:2024-04-30+1") {
			t.Fatalf("default as_of: %s %s", r.Body["as_of"], got)
		}
	})
	t.Run("FollowupMovesSchedule", func(t *testing.T) {
		a := doc.mustReq("GET", "/api/v1/records?q=甲", nil, 200).Body["items"].([]any)[0].(map[string]any)["record_id"].(string)
		followup(a, "2024-05-02", "")
		r := doc.mustReq("GET", "/api/v1/records/"+a+"/programmes", nil, 200)
		en := r.Body["items"].([]any)[0].(map[string]any)
		if en["last_followup_date"] != "2024-05-02" || en["next_followup_due"] != "2024-08-02" {
			t.Fatalf("schedule after follow-up: %v", en)
		}
		if got, _ := list(hv, "as_of=2024-05-02"); strings.Contains(got, "甲") {
			t.Fatalf("followed-up resident still due: %s", got)
		}
	})
	t.Run("ErrVillageNotMine", func(t *testing.T) {
		hv.mustReq("GET", "/api/v1/followups/due?village_code="+f.VillageA2, nil, 403)
		e.login(f.DoctorB).mustReq("GET", "/api/v1/followups/due?village_code="+f.VillageA1, nil, 403)
	})
	t.Run("ErrParams", func(t *testing.T) {
		for _, q := range []string{"as_of=2024-02-30", "as_of=x", "within_days=-1", "within_days=400", "per_page=0"} {
			if r := hv.req("GET", "/api/v1/followups/due?"+q, nil); r.Status != 400 {
				t.Errorf("%s: %d %s", q, r.Status, r.Raw)
			}
		}
	})
	t.Run("ErrRole", func(t *testing.T) {
		for _, who := range []string{f.Bureau, f.Requester, f.Reviewer} {
			e.login(who).mustReq("GET", "/api/v1/followups/due", nil, 403)
		}
	})
}
