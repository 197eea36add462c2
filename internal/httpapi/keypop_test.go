package httpapi_test

import (
	"fmt"
	"testing"
)

// TestKeyPopulations: the children, maternal and elderly enrolments put
// their scheduled services on the home-visit worker's due list, each
// recorded with its own form (child_visits, maternal_visits,
// elderly_checks), which takes it off; a delivery schedules the
// postpartum visits. Every exchange is held to the OpenAPI document.
func TestKeyPopulations(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-20")
	f := e.f
	doc := e.login(f.DoctorA)
	hv := e.login(f.HomeVisitA)
	baby := doc.fileRecord(f.VillageA1, "小宝", map[string]any{"sex": "M", "birth_date": "2024-06-01"})
	mum := doc.fileRecord(f.VillageA1, "孕妇", map[string]any{"birth_date": "1995-05-05"})
	old := doc.fileRecord(f.VillageA1, "老人", map[string]any{"birth_date": "1950-01-01"})
	none := doc.fileRecord(f.VillageA1, "未纳入", map[string]any{"sex": "M", "birth_date": "2024-05-01"})

	r := doc.mustReq("POST", "/api/v1/records/"+baby+"/programmes", map[string]any{"programme": "children_0_6",
		"enrolled_on": "2024-06-02", "discharged_on": "2024-06-03"}, 201)
	sched := r.Body["schedule"].([]any)
	if first := sched[0].(map[string]any); len(sched) != 13 || first["service"] != "newborn_visit" || first["window_start"] != "2024-06-03" ||
		first["window_end"] != "2024-06-10" {
		t.Fatalf("children's schedule: %v", sched)
	}
	r = doc.mustReq("POST", "/api/v1/records/"+mum+"/programmes", map[string]any{"programme": "maternal", "enrolled_on": "2024-02-10"}, 400)
	wantField(t, r, "lmp_date")
	r = doc.mustReq("POST", "/api/v1/records/"+mum+"/programmes", map[string]any{"programme": "maternal", "enrolled_on": "2024-02-10",
		"lmp_date": "2024-01-01"}, 201)
	mumEnrolment := r.Body["id"]
	doc.mustReq("POST", "/api/v1/records/"+old+"/programmes", map[string]any{"programme": "elderly", "enrolled_on": "2024-06-01"}, 201)

	due := func() map[string]map[string]any {
		t.Helper()
		r := hv.mustReq("GET", "/api/v1/followups/due?as_of=2024-06-20", nil, 200)
		out := map[string]map[string]any{}
		for _, it := range r.Body["items"].([]any) {
			m := it.(map[string]any)
			out[m["record_id"].(string)+"/"+m["service"].(string)] = m
		}
		return out
	}
	list := due()
	nb := list[baby+"/newborn_visit"]
	if nb == nil || nb["overdue"] != true || nb["days_overdue"] != 10.0 || nb["kind"] != "child_visit" || nb["service_name"] != "新生儿家庭访视" {
		t.Fatalf("newborn visit on the list: %v", nb)
	}
	if p := list[mum+"/prenatal_3"]; p == nil || p["overdue"] != false || p["due_by"] != "2024-06-23" {
		t.Fatalf("weeks 21–24 visit on the list: %v", p)
	}
	if a := list[old+"/annual"]; a == nil || a["kind"] != "elderly_check" {
		t.Fatalf("annual health management on the list: %v", a)
	}

	newborn := map[string]any{"service_date": "2024-06-12", "service": "newborn_visit", "birth_weight_kg": 3.3, "weight_kg": 3.6,
		"feeding": "exclusive_breast", "umbilical_cord": "not_fallen", "guidance": "注意保暖"}
	r = hv.mustReq("POST", "/api/v1/records/"+baby+"/child_visits", newborn, 400)
	wantField(t, r, "jaundice")
	newborn["jaundice"] = "face"
	r = hv.mustReq("POST", "/api/v1/records/"+none+"/child_visits", newborn, 400)
	wantField(t, r, "service")
	r = hv.mustReq("POST", "/api/v1/records/"+baby+"/child_visits", newborn, 201, "Idempotency-Key", "nb-1")
	if r.Body["kind"] != "child_visit" || r.Body["jaundice"] != "face" {
		t.Fatalf("created: %v", r.Body)
	}
	hv.mustReq("POST", "/api/v1/records/"+baby+"/child_visits", newborn, 200, "Idempotency-Key", "nb-1")
	hv.mustReq("GET", fmt.Sprintf("/api/v1/records/%s/child_visits/%.0f", baby, r.Body["id"]), nil, 200)
	if _, ok := due()[baby+"/newborn_visit"]; ok {
		t.Fatal("the newborn visit is still due after it was recorded")
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM entries WHERE record_id = $1 AND kind = 'child_visit'`, baby); err != nil || n != 1 {
		t.Fatalf("%d child visits stored, want 1 (%v)", n, err)
	}

	hv.mustReq("POST", "/api/v1/records/"+mum+"/maternal_visits", map[string]any{"service_date": "2024-06-18", "service": "prenatal_3",
		"gestational_weeks": 24, "weight_kg": 61.5, "fundal_height_cm": 23, "fetal_heart_rate": 148, "systolic": 110, "diastolic": 70,
		"classification": "normal"}, 201)
	r = hv.mustReq("POST", "/api/v1/records/"+old+"/elderly_checks", map[string]any{"service_date": "2024-06-19", "health_self_assessment": 2,
		"self_care": map[string]any{"eating": 0, "grooming": 1, "dressing": 0, "toileting": 1, "activity": 2}, "self_care_score": 0,
		"cognition": "negative", "emotion": "negative"}, 201)
	if r.Body["self_care_score"] != 1.0+1+5 || r.Body["self_care_level"] != "mild" || r.Body["service"] != "annual" {
		t.Fatalf("elderly check: %v", r.Body)
	}
	list = due()
	if _, ok := list[mum+"/prenatal_3"]; ok {
		t.Fatal("weeks 21–24 visit still due")
	}
	if _, ok := list[old+"/annual"]; ok {
		t.Fatal("annual health management still due")
	}

	delivery := fmt.Sprintf("/api/v1/records/%s/programmes/%.0f/delivery", mum, mumEnrolment)
	hv.mustReq("POST", delivery, map[string]any{"delivered_on": "2024-06-19"}, 403)
	r = doc.mustReq("POST", delivery, map[string]any{"delivered_on": "2099-01-01"}, 400)
	wantField(t, r, "delivered_on")
	r = doc.mustReq("POST", delivery, map[string]any{"delivered_on": "2024-06-19"}, 200)
	if r.Body["delivered_on"] != "2024-06-19" || len(r.Body["schedule"].([]any)) != 7 {
		t.Fatalf("after the delivery: %v", r.Body)
	}
	doc.mustReq("POST", delivery, map[string]any{"delivered_on": "2024-06-19"}, 409)

	// The record page and the timeline show the new kinds.
	r = hv.mustReq("GET", "/api/v1/records/"+baby+"/timeline", nil, 200)
	if r.Body["total"] != 1.0 {
		t.Fatalf("timeline: %v", r.Body)
	}
	hv.mustReq("GET", "/api/v1/records/"+mum, nil, 200)
	// A tablet's batch carries them too.
	r = hv.mustReq("POST", "/api/v1/batch", map[string]any{"items": []any{map[string]any{"record_id": baby, "kind": "child_visits",
		"idempotency_key": "nb-2", "body": map[string]any{"service_date": "2024-06-20", "service": "check_1m", "weight_kg": 4.1, "length_cm": 54}}}}, 200)
	if st := r.Body["items"].([]any)[0].(map[string]any)["status"]; st != 201.0 {
		t.Fatalf("batch item: %v", r.Body)
	}
}

// wantField fails unless the answer is a 400 naming field.
func wantField(t *testing.T, r response, field string) {
	t.Helper()
	errBody, _ := r.Body["error"].(map[string]any)
	fields, _ := errBody["fields"].([]any)
	for _, f := range fields {
		if f.(map[string]any)["field"] == field {
			return
		}
	}
	t.Fatalf("want a reason on %s: %s", field, r.Raw)
}
