package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
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
