package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"healthrec/internal/civil"
)

// mustReq sends a request and fails the test unless the status is want.
func (c *client) mustReq(method, path string, body any, want int, headers ...string) response {
	c.e.t.Helper()
	r := c.req(method, path, body, headers...)
	if r.Status != want {
		c.e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// at sets the server's clock to noon of a date.
func (e *env) at(date string) {
	d := civil.MustParse(date).Time()
	e.now = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, time.Local)
}

// lastAccess returns the newest access-log line of a record.
func (e *env) lastAccess(recordID string) (staff, section, outcome string) {
	e.t.Helper()
	var row struct {
		Staff   string `db:"staff_code"`
		Section string `db:"section"`
		Outcome string `db:"outcome"`
	}
	if err := e.db.Get(&row, `SELECT staff_code, section, outcome FROM access_log WHERE record_id = $1 ORDER BY id DESC LIMIT 1`,
		recordID); err != nil {
		e.t.Fatalf("access log of %s: %v", recordID, err)
	}
	return row.Staff, row.Section, row.Outcome
}

func (e *env) lastServiceDate(recordID string) string {
	e.t.Helper()
	var d civil.Date
	if err := e.db.Get(&d, `SELECT last_service_date FROM records WHERE record_id = $1`, recordID); err != nil {
		e.t.Fatal(err)
	}
	return d.String()
}

func visitBody(date string) map[string]any {
	return map[string]any{"service_date": date, "subjective": "头晕三天", "objective": "血压 150/95 mmHg", "assessment": "高血压",
		"plan": "调整用药，两周后复诊"}
}

func followupBody(date, next string) map[string]any {
	b := map[string]any{"service_date": date, "programme": "hypertension", "method": "home", "symptoms": []string{"头痛头晕"},
		"systolic": 142, "diastolic": 88, "weight_kg": 66.5, "lifestyle_advice": "限盐，每日步行 30 分钟", "adherence": "regular",
		"classification": "unsatisfactory"}
	if next != "" {
		b["next_date"] = next
	}
	return b
}

// TestEntryKinds records one entry of every kind through the API, reads it
// back through its list, its Location and the timeline, and checks the
// record's last service date moved with it.
func TestEntryKinds(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "张秀英", nil)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-10"}, 201)
	cases := []struct {
		kind, path string
		body       map[string]any
		check      string // a kind-specific member that must come back
	}{
		{"visit", "visits", visitBody("2024-06-01"), "assessment"},
		{"referral", "referrals", map[string]any{"service_date": "2024-06-02", "to_institution": "淳安县第一人民医院",
			"to_department": "心内科", "impression": "高血压 3 级", "history": "高血压 10 年", "treatment": "氨氯地平",
			"reason": "血压控制不佳"}, "to_department"},
		{"followup", "followups", followupBody("2024-06-03", "2024-07-03"), "classification"},
		{"consultation", "consultations", map[string]any{"service_date": "2024-06-04", "reason": "血压难以控制",
			"consultants": []map[string]string{{"institution": "淳安县第一人民医院", "doctor": "王主任"}}, "opinion": "加用利尿剂"}, "opinion"},
		{"hospitalisation", "hospitalisations", map[string]any{"hospital": "淳安县第一人民医院", "admitted_on": "2024-06-05",
			"discharged_on": "2024-06-12", "diagnosis": "高血压急症"}, "diagnosis"},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			r := doc.mustReq("POST", "/api/v1/records/"+rid+"/"+tc.path, tc.body, 201)
			if r.Body["kind"] != tc.kind || r.Body["record_id"] != rid || r.Body["staff_code"] != e.f.DoctorA ||
				r.Body["institution_code"] != e.f.InstA || r.Body["created_by"] != e.f.DoctorA || r.Body[tc.check] == nil {
				t.Fatalf("created: %s", r.Raw)
			}
			loc := r.Header.Get("Location")
			if want := fmt.Sprintf("/api/v1/records/%s/%s/%.0f", rid, tc.path, r.Body["id"]); loc != want {
				t.Fatalf("Location = %q, want %q", loc, want)
			}
			got := doc.mustReq("GET", loc, nil, 200)
			if !bytes.Equal(got.Raw, r.Raw) {
				t.Fatalf("GET Location:\n%s\nwant\n%s", got.Raw, r.Raw)
			}
			l := doc.mustReq("GET", "/api/v1/records/"+rid+"/"+tc.path, nil, 200)
			if l.Body["total"] != 1.0 {
				t.Fatalf("list: %s", l.Raw)
			}
			if got, want := e.lastServiceDate(rid), r.Body["service_date"]; got != want {
				t.Fatalf("last_service_date = %s, want %s", got, want)
			}
		})
	}
	t.Run("ReferralIssued", func(t *testing.T) {
		l := doc.mustReq("GET", "/api/v1/records/"+rid+"/referrals", nil, 200)
		ref := l.Body["items"].([]any)[0].(map[string]any)
		if ref["status"] != "issued" || ref["back"] != nil {
			t.Fatalf("new referral: %v", ref)
		}
	})
	t.Run("OlderEntryKeepsLastServiceDate", func(t *testing.T) {
		doc.mustReq("POST", "/api/v1/records/"+rid+"/visits", visitBody("2024-02-01"), 201)
		if got := e.lastServiceDate(rid); got != "2024-06-05" {
			t.Fatalf("last_service_date = %s after an older visit", got)
		}
	})
	t.Run("WrongKindAtLocation", func(t *testing.T) {
		l := doc.mustReq("GET", "/api/v1/records/"+rid+"/visits", nil, 200)
		id := l.Body["items"].([]any)[0].(map[string]any)["id"]
		doc.mustReq("GET", fmt.Sprintf("/api/v1/records/%s/referrals/%.0f", rid, id), nil, 404)
		other := doc.fileRecord(e.f.VillageA1, "李四", nil)
		doc.mustReq("GET", fmt.Sprintf("/api/v1/records/%s/visits/%.0f", other, id), nil, 404)
		doc.mustReq("GET", "/api/v1/records/"+rid+"/visits/abc", nil, 404)
	})
}

func TestEntryValidation(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "王芳", nil)
	cases := []struct {
		name, path string
		body       any
		field      string
	}{
		{"VisitNoComplaint", "visits", map[string]any{"service_date": "2024-06-01", "assessment": "x"}, "subjective"},
		{"VisitFuture", "visits", visitBody("2024-07-01"), "service_date"},
		{"VisitBadDate", "visits", visitBody("2024-02-30"), "service_date"},
		{"VisitBeforeBirth", "visits", visitBody("1950-01-01"), "service_date"},
		{"VisitUnknownField", "visits", map[string]any{"service_date": "2024-06-01", "subjective": "x", "assessment": "y", "status": "closed"}, "status"},
		{"VisitServerField", "visits", map[string]any{"service_date": "2024-06-01", "subjective": "x", "assessment": "y", "id": 5}, "id"},
		{"VisitUnknownDoctor", "visits", map[string]any{"service_date": "2024-06-01", "subjective": "x", "assessment": "y", "staff_code": "nobody"}, "staff_code"},
		{"VisitWrongType", "visits", map[string]any{"service_date": "2024-06-01", "subjective": 5, "assessment": "y"}, "subjective"},
		{"VisitNUL", "visits", map[string]any{"service_date": "2024-06-01", "subjective": "a\u0000b", "assessment": "y"}, "subjective"},
		{"ReferralNoReason", "referrals", map[string]any{"service_date": "2024-06-01", "to_institution": "县医院", "impression": "x"}, "reason"},
		{"ReferralStatusSent", "referrals", map[string]any{"service_date": "2024-06-01", "to_institution": "县医院", "impression": "x",
			"reason": "y", "status": "returned"}, "status"},
		{"ReferralUnknownInstitution", "referrals", map[string]any{"service_date": "2024-06-01", "to_institution_code": "NOPE",
			"impression": "x", "reason": "y"}, "to_institution_code"},
		{"ReferralToOwnInstitution", "referrals", map[string]any{"service_date": "2024-06-01", "to_institution_code": e.f.InstA,
			"impression": "x", "reason": "y"}, "to_institution_code"},
		{"FollowupNotEnrolled", "followups", followupBody("2024-06-01", ""), "programme"},
		{"FollowupBadMethod", "followups", func() map[string]any { b := followupBody("2024-06-01", ""); b["method"] = "fax"; return b }(), "method"},
		{"ConsultationNoOpinion", "consultations", map[string]any{"service_date": "2024-06-01", "reason": "x",
			"consultants": []map[string]string{{"institution": "a", "doctor": "b"}}}, "opinion"},
		{"HospitalisationNoHospital", "hospitalisations", map[string]any{"admitted_on": "2024-06-01", "diagnosis": "x"}, "hospital"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := doc.req("POST", "/api/v1/records/"+rid+"/"+tc.path, tc.body)
			if r.Status != 400 || r.errField() != tc.field {
				t.Fatalf("status %d field %q, want 400 %q: %s", r.Status, r.errField(), tc.field, r.Raw)
			}
		})
	}
	t.Run("NotJSON", func(t *testing.T) {
		if r := doc.req("POST", "/api/v1/records/"+rid+"/visits", "{"); r.Status != 400 {
			t.Fatalf("status %d", r.Status)
		}
	})
	t.Run("NoRecord", func(t *testing.T) {
		doc.mustReq("POST", "/api/v1/records/"+e.f.VillageA1+"9999/visits", visitBody("2024-06-01"), 404)
	})
	t.Run("FollowupBeforeEnrolment", func(t *testing.T) {
		doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-03-01"}, 201)
		r := doc.req("POST", "/api/v1/records/"+rid+"/followups", followupBody("2024-02-28", ""))
		if r.Status != 400 || r.errField() != "service_date" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("DeceasedRecord", func(t *testing.T) {
		dead := doc.fileRecord(e.f.VillageA1, "赵六", nil)
		doc.mustReq("POST", "/api/v1/records/"+dead+"/status", map[string]any{"status": "deceased", "status_date": "2024-06-30"}, 200)
		r := doc.mustReq("POST", "/api/v1/records/"+dead+"/visits", visitBody("2024-06-01"), 409)
		if got := r.Body["error"].(map[string]any)["state"]; got != "deceased" {
			t.Fatalf("state = %v", got)
		}
	})
}

func TestProgrammes(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "刘桂兰", nil) // F, born 1955-03-08
	path := "/api/v1/records/" + rid + "/programmes"
	var firstID float64
	t.Run("Enrol", func(t *testing.T) {
		r := doc.mustReq("POST", path, map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-31"}, 201)
		if r.Body["status"] != "active" || r.Body["next_followup_due"] != "2024-04-30" || r.Body["last_followup_date"] != nil {
			t.Fatalf("enrolment: %s", r.Raw)
		}
		firstID = r.Body["id"].(float64)
		if loc := r.Header.Get("Location"); loc != fmt.Sprintf("%s/%.0f", path, firstID) {
			t.Fatalf("Location %q", loc)
		}
		doc.mustReq("GET", r.Header.Get("Location"), nil, 200)
	})
	t.Run("ErrSecondActive", func(t *testing.T) {
		r := doc.mustReq("POST", path, map[string]any{"programme": "hypertension", "enrolled_on": "2024-02-01"}, 409)
		if got := r.Body["error"].(map[string]any)["existing_enrolment_id"]; got != firstID {
			t.Fatalf("existing_enrolment_id = %v, want %v", got, firstID)
		}
	})
	t.Run("OtherProgrammes", func(t *testing.T) {
		doc.mustReq("POST", path, map[string]any{"programme": "type2_diabetes", "enrolled_on": "2024-02-01"}, 201)
		r := doc.mustReq("POST", path, map[string]any{"programme": "elderly", "enrolled_on": "2024-03-08"}, 201)
		if r.Body["next_followup_due"] != nil {
			t.Fatalf("elderly has a follow-up schedule: %s", r.Raw)
		}
		doc.mustReq("POST", path, map[string]any{"programme": "tuberculosis", "enrolled_on": "2019-01-01", "status": "ended",
			"ended_on": "2019-07-01", "end_reason": "治愈"}, 201)
	})
	t.Run("ErrRules", func(t *testing.T) {
		for body, field := range map[string]string{
			`{"programme":"children_0_6","enrolled_on":"2024-01-01"}`: "programme",
			`{"programme":"flu","enrolled_on":"2024-01-01"}`:          "programme",
			`{"programme":"maternal"}`:                                "enrolled_on",
			`{"programme":"maternal","enrolled_on":"2024-13-01"}`:     "enrolled_on",
		} {
			if r := doc.req("POST", path, body); r.Status != 400 || r.errField() != field {
				t.Errorf("%s: %d %s", body, r.Status, r.Raw)
			}
		}
	})
	t.Run("End", func(t *testing.T) {
		end := fmt.Sprintf("%s/%.0f/end", path, firstID)
		r := doc.mustReq("POST", end, map[string]any{"ended_on": "2024-06-01", "reason": "迁往外地"}, 200)
		if r.Body["status"] != "ended" || r.Body["ended_on"] != "2024-06-01" || r.Body["end_reason"] != "迁往外地" {
			t.Fatalf("ended: %s", r.Raw)
		}
		r = doc.mustReq("POST", end, nil, 409)
		if got := r.Body["error"].(map[string]any)["state"]; got != "ended" {
			t.Fatalf("state = %v", got)
		}
		doc.mustReq("POST", path+"/999999/end", nil, 404)
		doc.mustReq("POST", path, map[string]any{"programme": "hypertension", "enrolled_on": "2024-06-20"}, 201)
	})
	t.Run("List", func(t *testing.T) {
		r := doc.mustReq("GET", path, nil, 200)
		items := r.Body["items"].([]any)
		if r.Body["total"] != 5.0 || items[0].(map[string]any)["status"] != "active" || items[4].(map[string]any)["status"] != "ended" {
			t.Fatalf("list: %s", r.Raw)
		}
	})
	t.Run("RecordPage", func(t *testing.T) {
		r := doc.mustReq("GET", "/api/v1/records/"+rid, nil, 200)
		if got := len(r.Body["programmes"].([]any)); got != 5 || !strings.Contains(fmt.Sprint(r.Body["sections"]), "programmes") {
			t.Fatalf("record page: %d programmes, sections %v", got, r.Body["sections"])
		}
	})
	// A death or move ends every programme still in management on its date
	// (on enrolment, when that was recorded as later); ended ones keep theirs.
	t.Run("StatusChangeEndsProgrammes", func(t *testing.T) {
		for _, tc := range []struct{ status, reason string }{{"deceased", "死亡"}, {"moved_out", "迁出"}} {
			other := doc.fileRecord(e.f.VillageA1, "孙"+tc.status, map[string]any{"filed_on": "2024-01-02"})
			p := "/api/v1/records/" + other + "/programmes"
			doc.mustReq("POST", p, map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-31"}, 201)
			doc.mustReq("POST", p, map[string]any{"programme": "elderly", "enrolled_on": "2024-06-20"}, 201)
			doc.mustReq("POST", p, map[string]any{"programme": "tuberculosis", "enrolled_on": "2019-01-01", "status": "ended",
				"ended_on": "2019-07-01", "end_reason": "治愈"}, 201)
			doc.mustReq("POST", "/api/v1/records/"+other+"/status", map[string]any{"status": tc.status, "status_date": "2024-06-10",
				"destination": "杭州市西湖区"}, 200)
			want := map[string][2]string{"hypertension": {"2024-06-10", tc.reason}, "elderly": {"2024-06-20", tc.reason},
				"tuberculosis": {"2019-07-01", "治愈"}}
			for _, it := range doc.mustReq("GET", p, nil, 200).Body["items"].([]any) {
				en := it.(map[string]any)
				w := want[en["programme"].(string)]
				if en["status"] != "ended" || en["ended_on"] != w[0] || en["end_reason"] != w[1] {
					t.Errorf("%s: %s ended %v on %v (%v), want on %s (%s)", tc.status, en["programme"], en["status"], en["ended_on"], en["end_reason"], w[0], w[1])
				}
			}
		}
	})
	t.Run("HomeVisitReadsOnly", func(t *testing.T) {
		hv := e.login(e.f.HomeVisitA)
		hv.mustReq("GET", path, nil, 200)
		hv.mustReq("POST", path, map[string]any{"programme": "maternal", "enrolled_on": "2024-01-01"}, 403)
		if who, sec, out := e.lastAccess(rid); who != e.f.HomeVisitA || sec != "programmes" || out != "denied" {
			t.Fatalf("access log: %s %s %s", who, sec, out)
		}
	})
}

// TestEntryAccess checks the gate on every create: who may write which kind
// where, and that every denial is a 403 with a line in the access log.
func TestEntryAccess(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	inA1 := doc.fileRecord(f.VillageA1, "钱一", nil)
	inA2 := doc.fileRecord(f.VillageA2, "孙二", nil)
	for _, rid := range []string{inA1, inA2} {
		doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-01"}, 201)
	}
	bodies := map[string]map[string]any{
		"visits":    visitBody("2024-06-01"),
		"followups": followupBody("2024-06-01", ""),
		"referrals": {"service_date": "2024-06-01", "to_institution": "县医院", "impression": "x", "reason": "y"},
		"consultations": {"service_date": "2024-06-01", "reason": "x", "opinion": "y",
			"consultants": []map[string]string{{"institution": "a", "doctor": "b"}}},
		"hospitalisations": {"hospital": "县医院", "admitted_on": "2024-06-01", "diagnosis": "x"},
	}
	cases := []struct {
		who, record, kind string
		want              int
	}{
		{f.DoctorA, inA2, "consultations", 201},
		{f.AdminA, inA1, "hospitalisations", 201},
		{f.HomeVisitA, inA1, "visits", 201},
		{f.HomeVisitA, inA1, "followups", 201},
		{f.HomeVisitA, inA1, "referrals", 403},
		{f.HomeVisitA, inA1, "consultations", 403},
		{f.HomeVisitA, inA1, "hospitalisations", 403},
		{f.HomeVisitA, inA2, "visits", 403},
		{f.HomeVisitA, inA2, "followups", 403},
		{f.DoctorB, inA1, "visits", 403},
		{f.AdminB, inA1, "referrals", 403},
		{f.Bureau, inA1, "visits", 403},
		{f.Requester, inA1, "followups", 403},
	}
	for _, tc := range cases {
		t.Run(tc.who+"/"+tc.record[12:]+"/"+tc.kind, func(t *testing.T) {
			c := e.login(tc.who)
			c.mustReq("POST", "/api/v1/records/"+tc.record+"/"+tc.kind, bodies[tc.kind], tc.want)
			who, _, outcome := e.lastAccess(tc.record)
			want := "allowed"
			if tc.want == 403 {
				want = "denied"
			}
			if who != tc.who || outcome != want {
				t.Fatalf("access log: %s %s, want %s %s", who, outcome, tc.who, want)
			}
		})
	}
	t.Run("Reads", func(t *testing.T) {
		for _, tc := range []struct {
			who, record, path string
			want              int
		}{
			{f.HomeVisitA, inA1, "visits", 200},
			{f.HomeVisitA, inA1, "timeline", 200},
			{f.HomeVisitA, inA2, "timeline", 403},
			{f.HomeVisitA, inA1, "referrals", 403},
			{f.DoctorB, inA1, "timeline", 403},
			{f.DoctorB, inA1, "visits", 403},
			{f.Bureau, inA1, "timeline", 403},
			{f.AdminA, inA2, "consultations", 200},
		} {
			e.login(tc.who).mustReq("GET", "/api/v1/records/"+tc.record+"/"+tc.path, nil, tc.want)
			if who, _, outcome := e.lastAccess(tc.record); who != tc.who || (outcome == "denied") != (tc.want == 403) {
				t.Errorf("%s GET %s of %s: access log %s %s", tc.who, tc.path, tc.record, who, outcome)
			}
		}
	})
}

// postConcurrently sends the same request from n goroutines at once and
// returns the statuses and bodies.
func (c *client) postConcurrently(n int, path string, body any, headers ...string) ([]int, []map[string]any) {
	buf, _ := json.Marshal(body)
	statuses := make([]int, n)
	bodies := make([]map[string]any, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r, _ := http.NewRequest("POST", c.e.srv.URL+path, bytes.NewReader(buf))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+c.token)
			for j := 0; j+1 < len(headers); j += 2 {
				r.Header.Set(headers[j], headers[j+1])
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			_ = json.NewDecoder(resp.Body).Decode(&bodies[i])
		}(i)
	}
	close(start)
	wg.Wait()
	return statuses, bodies
}

// TestEntryAttemptAuditedOnce checks every attempt to add an entry leaves
// exactly one audit row, whichever way it ends: the row commits with the
// entry, with a refused or replayed attempt's statement, or on its own when
// the body never reaches the store; a concurrent replay that lost the race
// to the key is logged too.
func TestEntryAttemptAuditedOnce(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "钱八", nil)
	rows := func() int {
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM access_log WHERE record_id = $1 AND action = 'write'
			AND outcome = 'allowed' AND staff_code = $2`, rid, e.f.DoctorA); err != nil {
			t.Fatal(err)
		}
		return n
	}
	path := "/api/v1/records/" + rid + "/followups"
	cases := []struct {
		name   string
		body   any
		status int
		key    string
	}{
		{"Created", visitBody("2024-06-01"), 201, "k1"},
		{"Replayed", visitBody("2024-06-01"), 200, "k1"},
		{"KeyConflict", visitBody("2024-06-02"), 409, "k1"},
		{"Refused", followupBody("2024-06-01", ""), 400, ""}, // not enrolled: checked in the statement
		{"Malformed", map[string]any{"service_date": 5}, 400, ""},
		{"BeforeBirth", visitBody("1900-01-01"), 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := rows()
			p := path
			if tc.name != "Refused" {
				p = "/api/v1/records/" + rid + "/visits"
			}
			var headers []string
			if tc.key != "" {
				headers = []string{"Idempotency-Key", tc.key}
			}
			doc.mustReq("POST", p, tc.body, tc.status, headers...)
			if got := rows() - before; got != 1 {
				t.Fatalf("%d audit rows for one attempt, want 1", got)
			}
		})
	}
	t.Run("ConcurrentReplay", func(t *testing.T) {
		before := rows()
		statuses, _ := doc.postConcurrently(8, "/api/v1/records/"+rid+"/visits", visitBody("2024-06-05"), "Idempotency-Key", "k2")
		for i, st := range statuses {
			if st != 201 && st != 200 {
				t.Fatalf("request %d: %d", i, st)
			}
		}
		if got := rows() - before; got != 8 {
			t.Fatalf("%d audit rows for 8 attempts", got)
		}
	})
}

func TestEntryIdempotency(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	hv := e.login(e.f.HomeVisitA)
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "周七", nil)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-01"}, 201)
	count := func(kind string) int {
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM entries WHERE record_id = $1 AND kind = $2`, rid, kind); err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("Replay", func(t *testing.T) {
		first := hv.mustReq("POST", "/api/v1/records/"+rid+"/followups", followupBody("2024-06-01", ""), 201, "Idempotency-Key", "tab-1")
		again := hv.mustReq("POST", "/api/v1/records/"+rid+"/followups", followupBody("2024-06-01", ""), 200, "Idempotency-Key", "tab-1")
		if !bytes.Equal(first.Raw, again.Raw) || first.Header.Get("Location") != again.Header.Get("Location") {
			t.Fatalf("replay differs:\n%s\n%s", first.Raw, again.Raw)
		}
		if n := count("followup"); n != 1 {
			t.Fatalf("%d follow-ups after a replay", n)
		}
	})
	t.Run("ErrSameKeyOtherBody", func(t *testing.T) {
		hv.mustReq("POST", "/api/v1/records/"+rid+"/followups", followupBody("2024-06-02", ""), 409, "Idempotency-Key", "tab-1")
		hv.mustReq("POST", "/api/v1/records/"+rid+"/visits", followupBody("2024-06-01", ""), 400, "Idempotency-Key", "tab-1")
		hv.mustReq("POST", "/api/v1/records/"+rid+"/visits", visitBody("2024-06-01"), 409, "Idempotency-Key", "tab-1")
	})
	t.Run("KeysAreTheCallers", func(t *testing.T) {
		doc.mustReq("POST", "/api/v1/records/"+rid+"/followups", followupBody("2024-06-01", ""), 201, "Idempotency-Key", "tab-1")
	})
	t.Run("ConcurrentReplay", func(t *testing.T) {
		before := count("visit")
		statuses, bodies := hv.postConcurrently(12, "/api/v1/records/"+rid+"/visits", visitBody("2024-06-05"), "Idempotency-Key", "tab-2")
		created := 0
		for i, st := range statuses {
			switch st {
			case 201:
				created++
			case 200:
			default:
				t.Fatalf("request %d: status %d %v", i, st, bodies[i])
			}
			if bodies[i]["id"] != bodies[0]["id"] {
				t.Fatalf("request %d got entry %v, request 0 entry %v", i, bodies[i]["id"], bodies[0]["id"])
			}
		}
		if created != 1 || count("visit") != before+1 {
			t.Fatalf("%d created answers, %d new visits; want 1 and 1", created, count("visit")-before)
		}
	})
	t.Run("ConcurrentEnrolmentReplay", func(t *testing.T) {
		statuses, bodies := doc.postConcurrently(8, "/api/v1/records/"+rid+"/programmes",
			map[string]any{"programme": "type2_diabetes", "enrolled_on": "2024-02-01"}, "Idempotency-Key", "enrol-1")
		created := 0
		for i, st := range statuses {
			if st == 201 {
				created++
			} else if st != 200 {
				t.Fatalf("request %d: status %d %v", i, st, bodies[i])
			}
			if bodies[i]["id"] != bodies[0]["id"] {
				t.Fatalf("request %d got enrolment %v, request 0 %v", i, bodies[i]["id"], bodies[0]["id"])
			}
		}
		if created != 1 {
			t.Fatalf("%d created answers", created)
		}
	})
	t.Run("ConcurrentWithoutKey", func(t *testing.T) {
		// Without a key the duplicate enrolments race on the one-active rule:
		// one wins, the rest are told why.
		statuses, _ := doc.postConcurrently(6, "/api/v1/records/"+rid+"/programmes",
			map[string]any{"programme": "tuberculosis", "enrolled_on": "2024-02-01"})
		n201, n409 := 0, 0
		for _, st := range statuses {
			switch st {
			case 201:
				n201++
			case 409:
				n409++
			}
		}
		if n201 != 1 || n409 != 5 {
			t.Fatalf("statuses %v", statuses)
		}
	})
}

func TestTimeline(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "吴八", nil)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/exams", map[string]any{"service_date": "2024-03-01", "systolic": 130, "diastolic": 80,
		"height_cm": 160, "weight_kg": 60}, 201)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/visits", visitBody("2024-05-01"), 201)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/hospitalisations", map[string]any{"hospital": "县医院", "admitted_on": "2024-04-01",
		"diagnosis": "肺炎"}, 201)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/exams", map[string]any{"service_date": "2024-06-01"}, 201)
	r := doc.mustReq("GET", "/api/v1/records/"+rid+"/timeline", nil, 200)
	var kinds []string
	for _, it := range r.Body["items"].([]any) {
		m := it.(map[string]any)
		kinds = append(kinds, fmt.Sprint(m["kind"], "@", m["service_date"]))
	}
	want := "exam@2024-06-01 visit@2024-05-01 hospitalisation@2024-04-01 exam@2024-03-01"
	if got := strings.Join(kinds, " "); got != want || r.Body["total"] != 4.0 {
		t.Fatalf("timeline = %s (total %v), want %s", got, r.Body["total"], want)
	}
	first := r.Body["items"].([]any)[3].(map[string]any)
	if first["bmi"] != 23.4 {
		t.Fatalf("exam on the timeline: %v", first)
	}
	r = doc.mustReq("GET", "/api/v1/records/"+rid+"/timeline?page=2&per_page=3", nil, 200)
	if items := r.Body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["service_date"] != "2024-03-01" {
		t.Fatalf("page 2: %s", r.Raw)
	}
}
