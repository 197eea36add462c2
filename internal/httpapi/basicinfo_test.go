package httpapi_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestBasicInfoAPI files and edits the personal basic information table
// through the API: codes are checked (400 naming the field and the reason),
// "none" and "not recorded" come back as themselves, and the history keeps
// each item's before → after.
func TestBasicInfoAPI(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	doc := e.login(e.f.DoctorA)
	body := bareTable()
	body["blood_abo"], body["drug_allergies"], body["operations"] = "2", []string{"1"}, []any{}
	body["past_diseases"] = []map[string]any{{"code": "2", "diagnosed_on": "2018-03"}}
	id := doc.fileRecord(e.f.VillageA1, "周八", body)
	got := doc.mustReq("GET", "/api/v1/records/"+id, nil, 200).Body["basic"].(map[string]any)
	if got["blood_abo"] != "2" || fmt.Sprint(got["drug_allergies"]) != "[1]" || fmt.Sprint(got["operations"]) != "[]" ||
		got["traumas"] != nil || got["blood_rh"] != "" || fmt.Sprint(got["details_unmapped"]) != "map[]" {
		t.Fatalf("record: %v", got)
	}

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"UnknownABO", map[string]any{"blood_abo": "A"}, "blood_abo"},
		{"UnknownPayment", map[string]any{"payment_types": []string{"3", "12"}}, "payment_types"},
		{"NoneWithAllergy", map[string]any{"drug_allergies": []string{"1", "2"}}, "drug_allergies"},
		{"DiseaseWithoutDate", map[string]any{"past_diseases": []map[string]any{{"code": "3"}}}, "past_diseases"},
		{"UnknownToilet", map[string]any{"toilet": "9"}, "toilet"},
		{"WrongType", map[string]any{"exposures": "1"}, "exposures"},
		{"RetiredDetails", map[string]any{"details": map[string]any{"blood_type": "A"}}, "details"},
	} {
		t.Run("File"+tc.name, func(t *testing.T) {
			body := map[string]any{"village_code": e.f.VillageA1, "name": "错码", "sex": "M", "birth_date": "1960-01-01"}
			for k, v := range tc.body {
				body[k] = v
			}
			checkFieldError(t, doc.req("POST", "/api/v1/records", body), tc.field)
		})
		t.Run("Patch"+tc.name, func(t *testing.T) {
			checkFieldError(t, doc.req("PATCH", "/api/v1/records/"+id, tc.body), tc.field)
		})
	}

	doc.mustReq("PATCH", "/api/v1/records/"+id, map[string]any{"blood_abo": "4", "operations": nil,
		"toilet": "1", "drug_allergies": []string{"2"}}, 200)
	h := doc.mustReq("GET", "/api/v1/records/"+id+"/history", nil, 200)
	items := h.Body["items"].([]any)
	last := items[0].(map[string]any)["changes"].(map[string]any)
	j, _ := json.Marshal(last)
	want := `{"blood_abo":{"after":"4","before":"2"},"drug_allergies":{"after":["2"],"before":["1"]},` +
		`"operations":{"after":null,"before":[]},"toilet":{"after":"1","before":""}}`
	if string(j) != want {
		t.Fatalf("history: %s\nwant     %s", j, want)
	}
}

func checkFieldError(t *testing.T, r response, field string) {
	t.Helper()
	if r.Status != 400 {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	fields, _ := r.Body["error"].(map[string]any)["fields"].([]any)
	for _, f := range fields {
		m := f.(map[string]any)
		if m["field"] == field && m["reason"] != "" {
			return
		}
	}
	t.Fatalf("no error for %s: %s", field, r.Raw)
}
