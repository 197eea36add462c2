package httpapi_test

import (
	"strings"
	"testing"
)

// accessRows counts a record's access-log rows by a caller with an outcome.
func (e *env) accessRows(record, staffCode, section, outcome string) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM access_log WHERE record_id = $1 AND staff_code = $2 AND section = $3 AND outcome = $4`,
		record, staffCode, section, outcome); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestImportLogsWrites: an import writes one access-log row per record and
// section it writes (two exams or two visits of one record are one row),
// committed with them; a failed run leaves none.
func TestImportLogsWrites(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	ra := e.login(f.AdminA)
	residents := importResidentsHeader +
		"," + f.VillageA1 + ",张三,M,1950-01-01,,,,,,,docA,2020-01-01,,\n" +
		"," + f.VillageA1 + ",李四,F,1951-01-01,,,,,,,docA,2020-01-01,,\n"
	st, rep := ra.upload("/api/v1/imports", map[string]string{"residents.csv": residents})
	if st != 200 || !rep.OK {
		t.Fatalf("%d %+v", st, rep)
	}
	var ids []string
	if err := e.db.Select(&ids, `SELECT record_id FROM records ORDER BY record_id`); err != nil || len(ids) != 2 {
		t.Fatalf("records %v %v", ids, err)
	}
	for _, id := range ids {
		if n := e.accessRows(id, f.AdminA, "basic", "allowed"); n != 1 {
			t.Errorf("record %s: %d write rows, want 1", id, n)
		}
	}
	entries := "record_id,kind,service_date,staff_code,systolic,diastolic,height_cm,weight_kg\n" +
		ids[0] + ",exam,2024-03-01,docA,130,80,160,60\n" +
		ids[0] + ",visit,2024-03-02,docA,,,,\n" +
		ids[0] + ",exam,2024-04-01,docA,132,82,160,61\n" +
		ids[0] + ",visit,2024-04-02,docA,,,,\n" +
		ids[1] + ",visit,2024-03-03,hvA,,,,\n"
	st, rep = ra.upload("/api/v1/imports", map[string]string{"entries.csv": entries})
	if st != 200 || !rep.OK {
		t.Fatalf("%d %+v", st, rep)
	}
	for _, w := range []struct {
		id, section string
	}{{ids[0], "exams"}, {ids[0], "entries.visits"}, {ids[1], "entries.visits"}} {
		if n := e.accessRows(w.id, f.AdminA, w.section, "allowed"); n != 1 {
			t.Errorf("%s %s: %d rows, want 1", w.id, w.section, n)
		}
	}
	var path string
	if err := e.db.Get(&path, `SELECT path FROM access_log WHERE section = 'exams'`); err != nil || path != "/api/v1/imports" {
		t.Errorf("path %q %v", path, err)
	}
	// A run with a bad row writes nothing, its log rows included.
	var before int
	_ = e.db.Get(&before, `SELECT count(*) FROM access_log`)
	bad := residents + "," + f.VillageA1 + ",王五,X,1950-01-01,,,,,,,,2020-01-01,,\n"
	if st, _ := ra.upload("/api/v1/imports", map[string]string{"residents.csv": bad}); st != 400 {
		t.Fatalf("bad run: %d", st)
	}
	var after int
	_ = e.db.Get(&after, `SELECT count(*) FROM access_log`)
	if after != before {
		t.Errorf("a failed import left %d access-log rows", after-before)
	}
}

// TestDuplicateIdentity: the duplicate-identity 409 names the record on
// file only to a caller who may read it; anybody else learns it exists in
// another institution, and the attempt is logged on that record as denied.
// POST /records, PATCH /records/{id} and an import's dry run alike.
func TestDuplicateIdentity(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	number := validID("1955-03-08", 2)
	docA, docB := e.login(f.DoctorA), e.login(f.DoctorB)
	onFile := docA.fileRecord(f.VillageA1, "张秀英", map[string]any{"id_number": number})

	// A colleague of the institution is told which record.
	r := e.login(f.AdminA).req("POST", "/api/v1/records", map[string]any{"village_code": f.VillageA2, "name": "张秀英", "sex": "F",
		"birth_date": "1955-03-08", "residence_type": "户籍", "ethnicity": "汉族", "id_number": number})
	if r.Status != 409 || r.Body["error"].(map[string]any)["existing_record_id"] != onFile {
		t.Fatalf("same institution: %d %s", r.Status, r.Raw)
	}
	if n := e.accessRows(onFile, f.AdminA, "basic", "allowed"); n != 1 {
		t.Errorf("same institution: %d allowed rows, want 1", n)
	}

	mine := docB.fileRecord(f.VillageB1, "王乙", nil)
	for _, tc := range []struct {
		name string
		send func() response
	}{
		{"File", func() response {
			return docB.req("POST", "/api/v1/records", map[string]any{"village_code": f.VillageB1, "name": "张秀英", "sex": "F",
				"birth_date": "1955-03-08", "residence_type": "户籍", "ethnicity": "汉族", "id_number": number})
		}},
		{"Patch", func() response {
			return docB.req("PATCH", "/api/v1/records/"+mine, map[string]any{"id_number": number, "birth_date": "1955-03-08"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.accessRows(onFile, f.DoctorB, "basic", "denied")
			r := tc.send()
			if r.Status != 409 || strings.Contains(string(r.Raw), onFile) || !strings.Contains(r.errMessage(), "其他机构") {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if n := e.accessRows(onFile, f.DoctorB, "basic", "denied"); n != before+1 {
				t.Errorf("%d denied rows on the record on file, want %d", n, before+1)
			}
		})
	}

	t.Run("ImportDryRun", func(t *testing.T) {
		body := importResidentsHeader + "," + f.VillageB1 + ",张秀英,F,1955-03-08," + number + ",,,,,,,2020-01-01,,\n"
		st, rep := e.login(f.AdminB).upload("/api/v1/imports?dry_run=true", map[string]string{"residents.csv": body})
		if st != 200 || len(rep.Errors) != 1 || rep.Errors[0].Field != "id_number" {
			t.Fatalf("%d %+v", st, rep)
		}
		if reason := rep.Errors[0].Reason; strings.Contains(reason, onFile) || !strings.Contains(reason, "其他机构") {
			t.Errorf("reason %q", reason)
		}
		if n := e.accessRows(onFile, f.AdminB, "basic", "denied"); n != 1 {
			t.Errorf("%d denied rows, want 1", n)
		}
		// Its own institution's administrator is told which record.
		body = importResidentsHeader + "," + f.VillageA2 + ",张秀英,F,1955-03-08," + number + ",,,,,,,2020-01-01,,\n"
		_, rep = e.login(f.AdminA).upload("/api/v1/imports?dry_run=true", map[string]string{"residents.csv": body})
		if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Reason, onFile) {
			t.Errorf("own institution: %+v", rep.Errors)
		}
	})
}
