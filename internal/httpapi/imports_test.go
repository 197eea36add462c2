package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"healthrec/internal/postgres/pgtest"
)

const importResidentsHeader = "record_id,village_code,name,sex,birth_date,id_number,residence_type,ethnicity,phone,contact_name,contact_phone,responsible_doctor,filed_on,status,status_date\n"

// importReport is the answer of POST /imports.
type importReport struct {
	DryRun bool `json:"dry_run"`
	OK     bool `json:"ok"`
	Counts map[string]struct {
		Rows int `json:"rows"`
		Bad  int `json:"bad"`
	} `json:"counts"`
	Errors []struct {
		File   string `json:"file"`
		Line   int    `json:"line"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

// upload posts files as multipart parts: each key is "field" or
// "field|filename".
func (c *client) upload(path string, parts map[string]string) (int, importReport) {
	c.e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for key, text := range parts {
		field, filename := key, key
		for i := range key {
			if key[i] == '|' {
				field, filename = key[:i], key[i+1:]
			}
		}
		fw, err := w.CreateFormFile(field, filename)
		if err != nil {
			c.e.t.Fatal(err)
		}
		io.WriteString(fw, text)
	}
	w.Close()
	r, _ := http.NewRequest("POST", c.e.srv.URL+path, &body)
	r.Header.Set("Content-Type", w.FormDataContentType())
	r.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep importReport
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &rep); err != nil {
		c.e.t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, rep
}

func (e *env) records() int {
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM records`); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestImports(t *testing.T) {
	e := newEnv(t)
	f := e.f
	own := importResidentsHeader + "," + f.VillageA1 + ",张三,M,1950-01-01,,,,,,,docA,2020-01-01,,\n"
	// A records administrator importing another institution's village gets
	// a bad row naming it, not a 403: a dry run then lists every such row
	// along with the rest.
	foreign := own + "," + f.VillageB1 + ",李四,F,1950-01-01,,,,,,,,2020-01-01,,\n"
	ra := e.login(f.AdminA)

	t.Run("RecordsAdminDryRunOtherInstitution", func(t *testing.T) {
		st, rep := ra.upload("/api/v1/imports?dry_run=true", map[string]string{"residents.csv": foreign})
		if st != 200 || !rep.DryRun || rep.OK || len(rep.Errors) != 1 {
			t.Fatalf("%d %+v", st, rep)
		}
		if p := rep.Errors[0]; p.File != "residents.csv" || p.Line != 3 || p.Field != "village_code" || p.Reason == "" {
			t.Errorf("problem = %+v", p)
		}
		if rep.Counts["residents.csv"].Rows != 2 || rep.Counts["residents.csv"].Bad != 1 {
			t.Errorf("counts = %+v", rep.Counts)
		}
		if e.records() != 0 {
			t.Error("dry run wrote")
		}
	})
	t.Run("RecordsAdminRealRunOtherInstitution", func(t *testing.T) {
		st, rep := ra.upload("/api/v1/imports?dry_run=false", map[string]string{"residents.csv": foreign})
		if st != 400 || rep.OK || len(rep.Errors) != 1 || rep.Error == nil || rep.Error.Code != "invalid" {
			t.Fatalf("%d %+v", st, rep)
		}
		if e.records() != 0 {
			t.Error("failed run wrote")
		}
	})
	t.Run("RecordsAdminOwnVillage", func(t *testing.T) {
		// The part is named by its file name here.
		st, rep := ra.upload("/api/v1/imports", map[string]string{"file|residents.csv": own})
		if st != 200 || !rep.OK || rep.DryRun {
			t.Fatalf("%d %+v", st, rep)
		}
		if e.records() != 1 {
			t.Error("not written")
		}
	})
	t.Run("AdminAnyInstitution", func(t *testing.T) {
		body := importResidentsHeader + "," + f.VillageB1 + ",李四,F,1950-01-01,,,,,,,,2020-01-01,,\n"
		st, rep := e.login(f.Admin).upload("/api/v1/imports?dry_run=false", map[string]string{"residents.csv": body})
		if st != 200 || !rep.OK {
			t.Fatalf("%d %+v", st, rep)
		}
		if e.records() != 2 {
			t.Error("not written")
		}
	})
	t.Run("UnknownPart", func(t *testing.T) {
		st, rep := ra.upload("/api/v1/imports?dry_run=true", map[string]string{"people.csv": own})
		if st != 200 || rep.OK || len(rep.Errors) != 1 || rep.Errors[0].File != "people.csv" {
			t.Fatalf("%d %+v", st, rep)
		}
	})
	t.Run("Doctor", func(t *testing.T) {
		st, _ := e.login(f.DoctorA).upload("/api/v1/imports?dry_run=true", map[string]string{"residents.csv": own})
		if st != 403 {
			t.Errorf("status %d, want 403", st)
		}
	})
	t.Run("BadRequests", func(t *testing.T) {
		cases := []struct {
			name, path string
			body       any
		}{
			{"JSON", "/api/v1/imports", map[string]string{"residents.csv": own}},
			{"DryRunValue", "/api/v1/imports?dry_run=maybe", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if r := ra.req("POST", c.path, c.body); r.Status != 400 || r.errCode() != "invalid" {
					t.Errorf("%d %s", r.Status, r.Raw)
				}
			})
		}
		if st, _ := ra.upload("/api/v1/imports", map[string]string{}); st != 400 {
			t.Errorf("no parts: %d", st)
		}
	})
}

// TestImportProgress: a run named by ?progress= shows, while it runs, the
// rows checked of each file of the rows it holds — here held between
// residents.csv (done: 3 of 3) and programmes.csv (0 of 2) by a lock on the
// enrolments the second file reads — then ends; it stays all or nothing.
// Another person's run is 404; a malformed name is 400 at its field.
func TestImportProgress(t *testing.T) {
	e := newEnv(t)
	f := e.f
	ra := e.login(f.AdminA)
	residents := importResidentsHeader
	for _, n := range []string{"甲", "乙", "丙"} {
		residents += "," + f.VillageA1 + "," + n + ",M,1950-01-01,,,,,,,docA,2020-01-01,,\n"
	}
	existing := ra.fileRecord(f.VillageA1, "丁", nil)
	programmes := "record_id,programme,enrolled_on,status\n" + existing + ",hypertension,2024-01-01,active\n" +
		existing + ",type2_diabetes,2024-01-01,active"

	lock, err := pgtest.Superuser(t, e.db).Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`LOCK TABLE enrolments IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		rep    importReport
	}
	done := make(chan answer)
	go func() {
		st, rep := ra.upload("/api/v1/imports?dry_run=false&progress=run-0001", map[string]string{
			"residents.csv": residents, "programmes.csv": programmes})
		done <- answer{st, rep}
	}()
	type progress struct {
		Done  bool `json:"done"`
		Files []struct {
			File  string `json:"file"`
			Rows  int    `json:"rows"`
			Total int    `json:"total"`
		} `json:"files"`
	}
	read := func() (progress, int) {
		r := ra.req("GET", "/api/v1/imports/progress/run-0001", nil)
		var p progress
		if r.Status == 200 {
			if err := json.Unmarshal(r.Raw, &p); err != nil {
				t.Fatal(err)
			}
		}
		return p, r.Status
	}
	var mid progress
	for i := 0; ; i++ {
		p, st := read()
		if st == 200 && len(p.Files) == 2 && p.Files[0].Rows == 3 {
			mid = p
			break
		}
		if i > 200 {
			t.Fatalf("no progress of the running import: %d %+v", st, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if mid.Done || mid.Files[0].File != "residents.csv" || mid.Files[0].Total != 3 ||
		mid.Files[1].File != "programmes.csv" || mid.Files[1].Rows != 0 || mid.Files[1].Total != 2 {
		t.Fatalf("progress of a running import: %+v", mid)
	}
	if e.records() != 1 {
		t.Fatalf("records visible before the import ended: %d", e.records())
	}
	if r := e.login(f.AdminB).req("GET", "/api/v1/imports/progress/run-0001", nil); r.Status != 404 {
		t.Fatalf("another person's run: %d %s", r.Status, r.Raw)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.status != 200 || !a.rep.OK || e.records() != 4 {
		t.Fatalf("import: %d %+v, %d records", a.status, a.rep, e.records())
	}
	if p, st := read(); st != 200 || !p.Done || p.Files[1].Rows != 2 {
		t.Fatalf("progress after the end: %d %+v", st, p)
	}
	if r := ra.req("GET", "/api/v1/imports/progress/x", nil); r.Status != 400 {
		t.Fatalf("malformed run name: %d %s", r.Status, r.Raw)
	}
	if st, _ := ra.upload("/api/v1/imports?dry_run=true&progress=a%20b", map[string]string{"residents.csv": residents}); st != 400 {
		t.Fatalf("malformed ?progress=: %d", st)
	}
}
