package httpapi_test

import "testing"

// TestRecordNames: the record page names what the record holds as codes —
// its village, responsible doctor, filer, filing institution and the staff
// of its exams — for those who may read them; a grant without the basic
// section gets the staff names only.
func TestRecordNames(t *testing.T) {
	e := newEnv(t)
	f := e.f
	doc := e.login(f.DoctorA)
	rid := doc.fileRecord(f.VillageA1, "林秀英", map[string]any{"responsible_doctor": f.DoctorA})
	doc.mustReq("POST", "/api/v1/records/"+rid+"/exams", map[string]any{"service_date": "2024-03-01", "systolic": 130, "diastolic": 80}, 201)
	r := doc.mustReq("GET", "/api/v1/records/"+rid, nil, 200)
	names, _ := r.Body["names"].(map[string]any)
	for key, want := range map[string]string{"village_code": "村101", "responsible_doctor": "人员" + f.DoctorA,
		"filed_by": "人员" + f.DoctorA, "filing_institution": "千岛湖镇社区卫生服务中心"} {
		if names[key] != want {
			t.Errorf("names[%s] = %v, want %s (%s)", key, names[key], want, r.Raw)
		}
	}
	if sn, _ := r.Body["staff_names"].(map[string]any); sn[f.DoctorA] != "人员"+f.DoctorA {
		t.Errorf("staff_names = %v", r.Body["staff_names"])
	}

	e.addRequester("reqN")
	req, ra := e.login("reqN"), e.login(f.AdminA)
	grantTo(req, ra, rid, 30, "active", "exams")
	g := req.mustReq("GET", "/api/v1/records/"+rid, nil, 200)
	if _, ok := g.Body["names"]; ok {
		t.Errorf("an exams-only grant got the basic section's names: %s", g.Raw)
	}
	if sn, _ := g.Body["staff_names"].(map[string]any); sn[f.DoctorA] == nil {
		t.Errorf("grant: staff_names = %v", g.Body["staff_names"])
	}
}

// TestMeInstitutionNames: GET /me names the caller's institution and those
// of their roles, for the pages' headers; an outside requester has none.
func TestMeInstitutionNames(t *testing.T) {
	e := newEnv(t)
	r := e.login(e.f.AdminA).mustReq("GET", "/api/v1/me", nil, 200)
	names, _ := r.Body["institution_names"].(map[string]any)
	if len(names) != 1 || names[e.f.InstA] != "千岛湖镇社区卫生服务中心" {
		t.Fatalf("institution_names of a records administrator: %s", r.Raw)
	}
	e.addRequester("reqM")
	r = e.login("reqM").mustReq("GET", "/api/v1/me", nil, 200)
	if names, _ := r.Body["institution_names"].(map[string]any); len(names) != 0 {
		t.Fatalf("institution_names of a requester: %s", r.Raw)
	}
}
