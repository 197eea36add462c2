package httpapi_test

import (
	"testing"
)

// TestAttribution: the staff_code of a clinical write must be an active
// member of the record's institution whose role may write that kind there
// (a home-visit worker only visits and follow-ups, in their villages).
// Anybody else is 400 on staff_code, and nothing is stored.
func TestAttribution(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	doc := e.login(e.f.DoctorA)
	rid := doc.fileRecord(e.f.VillageA1, "张秀英", nil)
	other := doc.fileRecord(e.f.VillageA2, "李桂兰", nil) // not the home-visit worker's village
	if _, err := e.db.Exec(`INSERT INTO staff (code, name, institution_code, phone) VALUES ('docGone', '离职医生', $1, '')`, e.f.InstA); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`INSERT INTO staff_roles (staff_code, role, domain) VALUES ('docGone', 'doctor', 'inst:' || $1)`, e.f.InstA); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE staff SET active = false WHERE code = 'docGone'`); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		t.Helper()
		if err := e.db.Get(&n, `SELECT (SELECT count(*) FROM entries) + (SELECT count(*) FROM exams)`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	with := func(b map[string]any, code string) map[string]any {
		b["staff_code"] = code
		return b
	}
	exam := func(code string) map[string]any {
		return map[string]any{"service_date": "2024-06-01", "systolic": 130, "diastolic": 80, "staff_code": code}
	}
	referral := map[string]any{"service_date": "2024-06-01", "to_institution": "县医院", "impression": "x", "reason": "y"}
	refused := []struct {
		name, rid, path string
		body            map[string]any
	}{
		{"Bureau", rid, "visits", with(visitBody("2024-06-01"), e.f.Bureau)},
		{"OtherInstitutionDoctor", rid, "visits", with(visitBody("2024-06-01"), e.f.DoctorB)},
		{"OtherInstitutionAdmin", rid, "visits", with(visitBody("2024-06-01"), e.f.AdminB)},
		{"SystemAdmin", rid, "visits", with(visitBody("2024-06-01"), e.f.Admin)},
		{"Requester", rid, "visits", with(visitBody("2024-06-01"), e.f.Requester)},
		{"Inactive", rid, "visits", with(visitBody("2024-06-01"), "docGone")},
		{"HomeVisitReferral", rid, "referrals", with(referral, e.f.HomeVisitA)},
		{"HomeVisitOtherVillage", other, "visits", with(visitBody("2024-06-01"), e.f.HomeVisitA)},
		{"HomeVisitExam", rid, "exams", exam(e.f.HomeVisitA)},
		{"ExamOtherInstitution", rid, "exams", exam(e.f.DoctorB)},
	}
	before := count()
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := doc.req("POST", "/api/v1/records/"+tc.rid+"/"+tc.path, tc.body)
			if r.Status != 400 || r.errField() != "staff_code" {
				t.Fatalf("status %d field %q, want 400 staff_code: %s", r.Status, r.errField(), r.Raw)
			}
			if n := count(); n != before {
				t.Fatalf("%d rows stored", n-before)
			}
		})
	}
	// Those who may: a colleague of the record's institution, and the
	// home-visit worker for a visit in their village.
	doc.mustReq("POST", "/api/v1/records/"+rid+"/visits", with(visitBody("2024-06-01"), e.f.AdminA), 201)
	r := doc.mustReq("POST", "/api/v1/records/"+rid+"/visits", with(visitBody("2024-06-02"), e.f.HomeVisitA), 201)
	if r.Body["staff_code"] != e.f.HomeVisitA {
		t.Fatalf("attributed to %v", r.Body["staff_code"])
	}
	doc.mustReq("POST", "/api/v1/records/"+rid+"/exams", exam(e.f.AdminA), 201)
}
