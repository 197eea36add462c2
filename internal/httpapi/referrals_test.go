package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// issue files a referral on a record and returns its transition path prefix.
func (c *client) issue(rid, date, toCode string) string {
	c.e.t.Helper()
	body := map[string]any{"service_date": date, "impression": "冠心病待排", "reason": "需上级医院进一步检查"}
	if toCode != "" {
		body["to_institution_code"] = toCode
	} else {
		body["to_institution"] = "淳安县第一人民医院"
	}
	r := c.mustReq("POST", "/api/v1/records/"+rid+"/referrals", body, 201)
	return fmt.Sprintf("/api/v1/referrals/%.0f", r.Body["id"])
}

var backSlip = map[string]any{"diagnosis": "稳定型心绞痛", "treatment": "冠脉造影，药物治疗", "recommendations": "社区随访血压血脂，每月一次"}

// TestReferralTransitions walks every (state, transition) pair through the
// API: the legal ones move the referral, the rest answer 409 with the state.
func TestReferralTransitions(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "郑十", nil)
	// toState files a fresh referral and moves it into state by legal steps.
	toState := func(state string) string {
		p := doc.issue(rid, "2024-06-01", "")
		switch state {
		case "received":
			doc.mustReq("POST", p+"/receive", nil, 200)
		case "returned":
			doc.mustReq("POST", p+"/receive", nil, 200)
			doc.mustReq("POST", p+"/return", backSlip, 200)
		case "closed":
			doc.mustReq("POST", p+"/close", map[string]any{"reason": "患者拒绝转诊"}, 200)
		}
		return p
	}
	legal := map[string]string{"issued/receive": "received", "issued/close": "closed", "received/return": "returned"}
	bodies := map[string]any{"receive": nil, "return": backSlip, "close": map[string]any{"reason": "患者已自行就医"}}
	for _, state := range []string{"issued", "received", "returned", "closed"} {
		for _, move := range []string{"receive", "return", "close"} {
			t.Run(state+"/"+move, func(t *testing.T) {
				p := toState(state)
				want, ok := legal[state+"/"+move]
				if !ok {
					r := doc.mustReq("POST", p+"/"+move, bodies[move], 409)
					if got := r.Body["error"].(map[string]any)["state"]; got != state {
						t.Fatalf("state = %v, want %s", got, state)
					}
					return
				}
				r := doc.mustReq("POST", p+"/"+move, bodies[move], 200)
				if r.Body["status"] != want {
					t.Fatalf("status = %v, want %s", r.Body["status"], want)
				}
			})
		}
	}
	t.Run("ReturnCarriesBackSlip", func(t *testing.T) {
		p := toState("issued")
		doc.mustReq("POST", p+"/receive", map[string]any{"date": "2024-06-15"}, 200)
		r := doc.mustReq("POST", p+"/return", map[string]any{"date": "2024-06-20", "doctor": "陈主任", "diagnosis": "稳定型心绞痛",
			"recommendations": "社区随访"}, 200)
		back := r.Body["back"].(map[string]any)
		if r.Body["returned_on"] != "2024-06-20" || r.Body["returned_by"] != e.f.DoctorA || back["institution"] != "淳安县第一人民医院" ||
			back["doctor"] != "陈主任" || back["diagnosis"] != "稳定型心绞痛" || r.Body["received_on"] != "2024-06-15" {
			t.Fatalf("returned: %s", r.Raw)
		}
		l := doc.mustReq("GET", "/api/v1/records/"+rid+"/referrals"+p[len("/api/v1/referrals"):], nil, 200)
		if l.Body["status"] != "returned" || l.Body["back"] == nil {
			t.Fatalf("stored: %s", l.Raw)
		}
	})
	t.Run("CloseCarriesReason", func(t *testing.T) {
		p := toState("issued")
		r := doc.mustReq("POST", p+"/close", map[string]any{"reason": "患者拒绝", "date": "2024-06-10"}, 200)
		if r.Body["close_reason"] != "患者拒绝" || r.Body["closed_on"] != "2024-06-10" || r.Body["closed_by"] != e.f.DoctorA {
			t.Fatalf("closed: %s", r.Raw)
		}
	})
	t.Run("ErrBodies", func(t *testing.T) {
		for _, tc := range []struct {
			state, move string
			body        any
			field       string
		}{
			{"received", "return", map[string]any{"recommendations": "x"}, "diagnosis"},
			{"issued", "close", nil, "reason"},
			{"issued", "close", map[string]any{"reason": "  "}, "reason"},
			{"issued", "receive", map[string]any{"date": "2024-05-31"}, "date"},
			{"issued", "receive", map[string]any{"date": "2024-07-01"}, "date"},
			{"issued", "receive", map[string]any{"reason": "x"}, "reason"},
			{"issued", "receive", map[string]any{"whatever": 1}, "whatever"},
			{"issued", "receive", map[string]any{"date": "2024-02-30"}, "date"},
		} {
			p := toState(tc.state)
			r := doc.req("POST", p+"/"+tc.move, tc.body)
			if r.Status != 400 || r.errField() != tc.field {
				t.Errorf("%s %s %v: %d %s", tc.state, tc.move, tc.body, r.Status, r.Raw)
			}
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		visit := doc.mustReq("POST", "/api/v1/records/"+rid+"/visits", visitBody("2024-06-01"), 201)
		for _, id := range []string{"999999", "abc", "0", "-1", fmt.Sprintf("%.0f", visit.Body["id"])} {
			doc.mustReq("POST", "/api/v1/referrals/"+id+"/receive", nil, 404)
		}
	})
}

// TestReferralSides checks who may move a referral: the issuing side always;
// the receiving institution's staff receive and return when the referral
// names them, and never close. Everyone else is denied and logged.
func TestReferralSides(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	docA, docB, adminB := e.login(f.DoctorA), e.login(f.DoctorB), e.login(f.AdminB)
	rid := docA.fileRecord(f.VillageA1, "冯十一", nil)
	toB := docA.issue(rid, "2024-06-01", f.InstB)
	outside := docA.issue(rid, "2024-06-01", "")

	r := docA.mustReq("GET", "/api/v1/records/"+rid+"/referrals", nil, 200)
	for _, it := range r.Body["items"].([]any) {
		m := it.(map[string]any)
		if m["to_institution_code"] == f.InstB && m["to_institution"] != "文昌镇卫生院" {
			t.Fatalf("receiving institution not named from its code: %v", m)
		}
	}
	docB.mustReq("POST", toB+"/close", map[string]any{"reason": "x"}, 403)
	if who, sec, out := e.lastAccess(rid); who != f.DoctorB || sec != "entries.referrals" || out != "denied" {
		t.Fatalf("denied close not logged: %s %s %s", who, sec, out)
	}
	docB.mustReq("POST", outside+"/receive", nil, 403)
	if who, _, out := e.lastAccess(rid); who != f.DoctorB || out != "denied" {
		t.Fatalf("denied receive not logged: %s %s", who, out)
	}
	adminB.mustReq("POST", toB+"/receive", nil, 200)
	if who, sec, out := e.lastAccess(rid); who != f.AdminB || sec != "entries.referrals" || out != "allowed" {
		t.Fatalf("receive not logged: %s %s %s", who, sec, out)
	}
	r = docB.mustReq("POST", toB+"/return", backSlip, 200)
	if r.Body["received_by"] != f.AdminB || r.Body["returned_by"] != f.DoctorB {
		t.Fatalf("returned: %s", r.Raw)
	}
	for _, who := range []string{f.HomeVisitA, f.Bureau, f.Requester} {
		e.login(who).mustReq("POST", outside+"/close", map[string]any{"reason": "x"}, 403)
	}
	docB.mustReq("GET", "/api/v1/records/"+rid+"/referrals", nil, 403)
}

func TestOpenReferrals(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	docA, docB := e.login(f.DoctorA), e.login(f.DoctorB)
	rid := docA.fileRecord(f.VillageA1, "陈十二", nil)
	old := docA.issue(rid, "2024-05-20", f.InstB)    // open 41 days
	edge := docA.issue(rid, "2024-05-31", "")        // open exactly 30 days: not older than 30
	oldReceived := docA.issue(rid, "2024-05-01", "") // received, still open
	docA.mustReq("POST", oldReceived+"/receive", map[string]any{"date": "2024-05-03"}, 200)
	closed := docA.issue(rid, "2024-05-01", "")
	docA.mustReq("POST", closed+"/close", map[string]any{"reason": "x"}, 200)
	docA.issue(rid, "2024-06-20", "") // recent
	ridB := docB.fileRecord(f.VillageB1, "B 村居民", nil)
	docB.issue(ridB, "2024-04-01", "")
	_ = edge
	ids := func(r response) string {
		var out []string
		for _, it := range r.Body["items"].([]any) {
			m := it.(map[string]any)
			out = append(out, fmt.Sprintf("%.0f:%v:%v", m["id"], m["open_days"], m["name"]))
		}
		return strings.Join(out, " ")
	}
	idOf := func(p string) string { return p[strings.LastIndex(p, "/")+1:] }
	t.Run("OverThirtyDays", func(t *testing.T) {
		r := docA.mustReq("GET", "/api/v1/referrals?open_over_days=30", nil, 200)
		want := idOf(oldReceived) + ":60:陈十二 " + idOf(old) + ":41:陈十二"
		if got := ids(r); got != want || r.Body["total"] != 2.0 {
			t.Fatalf("open over 30 days = %q, want %q", got, want)
		}
	})
	t.Run("AllOpen", func(t *testing.T) {
		r := docA.mustReq("GET", "/api/v1/referrals", nil, 200)
		if r.Body["total"] != 4.0 {
			t.Fatalf("all open: %s", ids(r))
		}
	})
	t.Run("Incoming", func(t *testing.T) {
		r := docB.mustReq("GET", "/api/v1/referrals?direction=in&open_over_days=30", nil, 200)
		if got := ids(r); got != idOf(old)+":41:陈十二" {
			t.Fatalf("incoming for B = %q", got)
		}
		// The receiving side reads who sent it by name.
		if m := r.Body["items"].([]any)[0].(map[string]any); m["institution_name"] != "千岛湖镇社区卫生服务中心" {
			t.Fatalf("issuing institution of an incoming referral: %v", m["institution_name"])
		}
		r = docB.mustReq("GET", "/api/v1/referrals?open_over_days=30", nil, 200)
		if r.Body["total"] != 1.0 {
			t.Fatalf("B's own: %s", ids(r))
		}
	})
	t.Run("ErrParams", func(t *testing.T) {
		for _, q := range []string{"open_over_days=-3", "open_over_days=abc", "direction=sideways"} {
			if r := docA.req("GET", "/api/v1/referrals?"+q, nil); r.Status != 400 {
				t.Errorf("%s: %d", q, r.Status)
			}
		}
	})
	t.Run("HomeVisitDenied", func(t *testing.T) {
		e.login(f.HomeVisitA).mustReq("GET", "/api/v1/referrals", nil, 403)
	})
}
