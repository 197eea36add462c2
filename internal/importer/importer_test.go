package importer_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/importer"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
	"healthrec/internal/staff"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// files writes an import directory; each value is the file's text with the
// header first.
func files(t testing.TB, fs map[string]string) importer.Dir {
	t.Helper()
	dir := t.TempDir()
	for name, text := range fs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(text, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return importer.Dir(dir)
}

const (
	residentsHeader = "record_id,village_code,name,sex,birth_date,id_number,residence_type,ethnicity,phone,contact_name,contact_phone,responsible_doctor,filed_on,status,status_date\n"
	entriesHeader   = "record_id,kind,service_date,staff_code,systolic,diastolic,height_cm,weight_kg\n"
)

// admin runs an import with the administrator's reach.
func admin(dry bool) importer.Options {
	return importer.Options{DryRun: dry, Actor: "admin", Admin: true}
}

func run(t *testing.T, db *postgres.DB, src importer.Source, opt importer.Options) *importer.Report {
	t.Helper()
	rep, err := importer.Run(context.Background(), db, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func count(t testing.TB, db *postgres.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// tables counts the rows of every table an import writes.
func tables(t testing.TB, db *postgres.DB) map[string]int {
	out := map[string]int{}
	for _, tbl := range []string{"institutions", "regions", "village_serials", "staff", "staff_roles", "village_populations",
		"responsibilities", "records", "record_history", "exams", "rate_changes", "rate_counts"} {
		out[tbl] = count(t, db, "SELECT count(*) FROM "+tbl)
	}
	out["serial_sum"] = count(t, db, "SELECT COALESCE(sum(last_serial), 0) FROM village_serials")
	return out
}

// aCounty is a whole import: a new institution with a township, two
// villages, staff, populations, responsible doctors, residents and exams.
func aCounty() map[string]string {
	return map[string]string{
		"institutions.csv": `
code,name,county_code
INSTC,汾口镇卫生院,330127
`,
		"regions.csv": `
code,name,institution_code
330127102,汾口镇,
330127102101,汾口村,INSTC
330127102102,郭村,INSTC
`,
		"staff.csv": `
staff_code,name,institution_code,roles,phone
docC,王医生,INSTC,doctor,13900000001
raC,李管理,INSTC,doctor;records_admin,13900000002
bureau2,赵科长,,bureau@330127;reviewer@330127;review_lead@330127,
`,
		"populations.csv": `
village_code,year,population
330127102101,2024,1200
330127102102,2024,800
`,
		"responsibilities.csv": `
village_code,staff_code,from_date
330127102101,docC,2020-01-01
330127102102,raC,2021-06-01
`,
		"residents.csv": residentsHeader + `,330127102101,张三,M,1950-03-08,,户籍,汉族,13912345678,,,docC,2020-05-01,,
3301271021010007,330127102101,李四,F,1960-01-01,,户籍,汉族,,,,docC,2020-05-02,,
,330127102102,王五,M,1970-07-07,,非户籍,汉族,,,,raC,2021-07-01,deceased,2023-01-01
`,
		"entries.csv": entriesHeader + `3301271021010007,exam,2024-03-01,docC,130,80,160.5,55
3301271021010007,exam,2023-03-01,docC,,,,
`,
	}
}

func TestImportCounty(t *testing.T) {
	db := pgtest.NewDB(t)
	pgtest.NewFixture(t, db)
	before := tables(t, db)
	rep := run(t, db, files(t, aCounty()), admin(false))
	if !rep.OK {
		t.Fatalf("report: %+v", rep.Errors)
	}
	after := tables(t, db)
	for tbl, want := range map[string]int{"institutions": 1, "regions": 3, "village_serials": 2, "staff": 3, "staff_roles": 6,
		"village_populations": 2, "responsibilities": 2, "records": 3, "record_history": 3, "exams": 2} {
		if got := after[tbl] - before[tbl]; got != want {
			t.Errorf("%s: %d new rows, want %d", tbl, got, want)
		}
	}
	if got, want := rep.Counts["residents.csv"].Rows, 3; got != want {
		t.Errorf("residents rows = %d, want %d", got, want)
	}
	if got, want := rep.AllocatedIDs, 2; got != want {
		t.Errorf("allocated = %d, want %d", got, want)
	}
	// Allocation continues after the given 0007 in the same village.
	r, err := db.Record(context.Background(), "3301271021010008")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "张三" || r.FilingInstitution != "INSTC" || r.FiledBy != "admin" {
		t.Errorf("record = %+v", r)
	}
	if _, err := db.Record(context.Background(), "3301271021020001"); err != nil {
		t.Error(err)
	}
	var facts struct {
		Exam     string `db:"last_exam_date"`
		Complete bool   `db:"last_exam_complete"`
		Service  string `db:"last_service_date"`
	}
	if err := db.Get(&facts, `SELECT last_exam_date::text, last_exam_complete, last_service_date::text FROM records WHERE record_id = '3301271021010007'`); err != nil {
		t.Fatal(err)
	}
	if facts.Exam != "2024-03-01" || !facts.Complete || facts.Service != "2024-03-01" {
		t.Errorf("facts = %+v", facts)
	}
	pgtest.CheckRateFacts(t, db)
	if n := count(t, db, `SELECT count(*) FROM rate_changes`); n != 0 {
		t.Errorf("%d rate changes left pending after the import's commit", n)
	}
	hist, _, err := db.History(context.Background(), "3301271021010008", postgres.Page{Page: 1, PerPage: 10})
	if err != nil || len(hist) != 1 || hist[0].Action != "import" || hist[0].ChangedBy != "admin" {
		t.Errorf("history = %+v, %v", hist, err)
	}
	if got, want := count(t, db, `SELECT last_serial FROM village_serials WHERE village_code = '330127102101'`), 8; got != want {
		t.Errorf("counter = %d, want %d", got, want)
	}
	s, err := db.Staff(context.Background(), "bureau2")
	if err != nil || len(s.Grants) != 3 || s.Grants[0].Domain != "county:330127" || !s.Has(staff.ReviewLead) {
		t.Errorf("bureau2 = %+v, %v", s, err)
	}

	t.Run("RerunRepeatsRegistry", func(t *testing.T) {
		// The same registry files again are unchanged rows; the residents
		// with given IDs are now duplicates.
		fs := aCounty()
		delete(fs, "entries.csv")
		fs["residents.csv"] = residentsHeader + ",330127102101,新人,,,,,,,,,,2024-01-01,,\n"
		rep := run(t, db, files(t, fs), admin(false))
		if !rep.OK {
			t.Fatalf("report: %+v", rep.Errors)
		}
		if got := rep.Counts["staff.csv"].Unchanged; got != 3 {
			t.Errorf("staff unchanged = %d, want 3", got)
		}
		if _, err := db.Record(context.Background(), "3301271021010009"); err != nil {
			t.Error(err)
		}
	})
}

// TestImportAllOrNothing: one bad row in the last file changes nothing.
func TestImportAllOrNothing(t *testing.T) {
	db := pgtest.NewDB(t)
	pgtest.NewFixture(t, db)
	before := tables(t, db)
	fs := aCounty()
	fs["entries.csv"] += "3301271021010007,exam,2024-02-30,docC,,,,\n"
	rep := run(t, db, files(t, fs), admin(false))
	if rep.OK || rep.BadRows != 1 {
		t.Fatalf("report: ok=%v bad=%d %+v", rep.OK, rep.BadRows, rep.Errors)
	}
	if p := rep.Errors[0]; p.File != "entries.csv" || p.Line != 4 || p.Field != "service_date" {
		t.Errorf("problem = %+v", p)
	}
	if after := tables(t, db); !equalMaps(before, after) {
		t.Errorf("tables changed: before %v after %v", before, after)
	}
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestImportDryRun: every bad row is reported by file, line and field, and
// nothing is written even where rows are good.
func TestImportDryRun(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	a1 := f.VillageA1
	fs := map[string]string{
		"regions.csv": `
code,name,institution_code
330127100102,新村,INSTA
330127100200,坏村,INSTA
330127100103,无主村,NOPE
`,
		"staff.csv": `
staff_code,name,institution_code,roles,phone
docN,新医生,INSTA,doctor,
bad code,某人,INSTA,doctor,
bur,某人,,bureau,
x1,某人,INSTA,surgeon,
`,
		"populations.csv": `
village_code,year,population
330127100102,2024,abc
330127999101,2024,10
`,
		"residents.csv": residentsHeader +
			",330127100102,甲,M,1950-01-01,,,,,,,docN,2024-01-01,,\n" + // line 2: good, new village and doctor
			",330127100102,乙,X,1950-13-01,,,,,,,docN,2024-01-01,,\n" + // line 3: sex, birth_date
			",330127100102,丙,F,,,,,,,,nobody,,,\n" + // line 4: responsible_doctor, filed_on
			"123,330127100102,丁,F,,,,,,,,,2024-01-01,gone,\n" + // line 5: record_id, status
			"," + a1 + ",戊,F,,,,,,,,,2024-01-01,deceased,\n" + // line 6: status_date
			"\"unclosed,x\n", // line 7: CSV
		"entries.csv": entriesHeader +
			"3301271001020001,exam,2024-05-01,docN,120,80,170,60\n" + // line 2: good (allocated above)
			"3301271001029999,visit,2024-05-01,docN,,,,\n" + // line 3: unknown record (and no entries table yet, maybe)
			"3301271001020001,exam,2024-05-01,docN,abc,80,170,600\n" + // line 4: systolic, weight_kg
			"3301271001020001,massage,2024-05-01,docN,,,,\n", // line 5: kind
	}
	before := tables(t, db)
	rep := run(t, db, files(t, fs), admin(true))
	if rep.OK || !rep.DryRun {
		t.Fatalf("ok=%v dry=%v", rep.OK, rep.DryRun)
	}
	got := map[string]bool{}
	for _, p := range rep.Errors {
		got[p.File+":"+itoa(p.Line)+":"+p.Field] = true
		if p.Reason == "" {
			t.Errorf("no reason: %+v", p)
		}
	}
	want := []string{
		"regions.csv:3:code", "regions.csv:4:institution_code",
		"staff.csv:3:staff_code", "staff.csv:4:roles", "staff.csv:5:roles",
		"populations.csv:2:population", "populations.csv:3:village_code",
		"residents.csv:3:sex", "residents.csv:3:birth_date", "residents.csv:4:responsible_doctor", "residents.csv:4:filed_on",
		"residents.csv:5:record_id", "residents.csv:5:status", "residents.csv:6:status_date", "residents.csv:7:",
		"entries.csv:3:record_id", "entries.csv:4:systolic", "entries.csv:4:weight_kg", "entries.csv:5:kind",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing problem %s", w)
		}
		delete(got, w)
	}
	// The visit row may also be refused for want of the entries table.
	delete(got, "entries.csv:3:kind")
	for g := range got {
		t.Errorf("unexpected problem %s", g)
	}
	if rep.Counts["residents.csv"].Bad != 5 || rep.Counts["residents.csv"].Rows != 6 {
		t.Errorf("residents count = %+v", rep.Counts["residents.csv"])
	}
	if after := tables(t, db); !equalMaps(before, after) {
		t.Errorf("dry run wrote: before %v after %v", before, after)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func mustDate(s string) civil.Date { return civil.MustParse(s) }

// TestImportRecordIDs: given IDs are kept and move the village counter;
// allocated IDs continue after the existing ones and after every given ID
// of the village in the file, even a later line's.
func TestImportRecordIDs(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()
	for _, name := range []string{"一", "二"} {
		r := &record.Record{VillageCode: f.VillageA1, Name: name, Sex: "F", BirthDate: mustDate("1950-01-01")}
		if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
			t.Fatal(err)
		}
	}
	a1, a2 := f.VillageA1, f.VillageA2
	fs := map[string]string{"residents.csv": residentsHeader +
		"," + a1 + ",甲,,,,,,,,,,2024-01-01,,\n" + // allocated: after 0050 below → 0051
		a1 + "0050," + a1 + ",乙,,,,,,,,,,2024-01-01,,\n" +
		"," + a2 + ",丙,,,,,,,,,,2024-01-01,,\n" + // after the given 0003 below: 0004
		a2 + "0003," + a2 + ",丁,,,,,,,,,,2024-01-01,,\n" +
		"," + a2 + ",戊,,,,,,,,,,2024-01-01,,\n",
	}
	rep := run(t, db, files(t, fs), admin(false))
	if !rep.OK {
		t.Fatalf("%+v", rep.Errors)
	}
	names := map[string]string{}
	rows, err := db.Query(`SELECT record_id, name FROM records`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, n string
		_ = rows.Scan(&id, &n)
		names[n] = id
	}
	rows.Close()
	for name, want := range map[string]string{"一": a1 + "0001", "二": a1 + "0002", "甲": a1 + "0051", "乙": a1 + "0050",
		"丙": a2 + "0004", "丁": a2 + "0003", "戊": a2 + "0005"} {
		if names[name] != want {
			t.Errorf("%s: %s, want %s", name, names[name], want)
		}
	}
	// The next filing through the API continues after the import.
	r := &record.Record{VillageCode: a1, Name: "己", Sex: "M", BirthDate: mustDate("1950-01-01")}
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	if got, want := r.RecordID, a1+"0052"; got != want {
		t.Errorf("next filing = %s, want %s", got, want)
	}
}

// TestImportQualityBreakingRows: gaps and wrong identity numbers import;
// the quality rules report them later.
func TestImportQualityBreakingRows(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	a1 := f.VillageA1
	fs := map[string]string{"residents.csv": residentsHeader +
		"," + a1 + ",,,,,,,,,,,2024-01-01,,\n" + // no name, sex, birth date, doctor
		"," + a1 + ",甲,F,1955-03-08,330127195503080011,户籍,汉族,12345,,,,2024-01-01,,\n" + // wrong check char, bad phone
		"," + a1 + ",乙,F,1960-01-01,33012719550308002X,,,,,,docA,2024-01-01,,\n" + // valid number, contradicts sex and date
		"," + a1 + ",丙,M,2090-01-01,garbage,,,,,,,2024-01-01,,\n", // future birth, garbage number
	}
	rep := run(t, db, files(t, fs), admin(false))
	if !rep.OK {
		t.Fatalf("%+v", rep.Errors)
	}
	if got := count(t, db, `SELECT count(*) FROM records`); got != 4 {
		t.Errorf("records = %d, want 4", got)
	}
	if got := count(t, db, `SELECT count(*) FROM records WHERE id_number = 'GARBAGE'`); got != 1 {
		t.Errorf("garbage number not kept as given (upper-cased): %d", got)
	}
}

// TestImportDuplicates: duplicate record IDs (in the file or the database)
// and a second active record for an identity number are bad rows naming the
// other line or record.
func TestImportDuplicates(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()
	existing := &record.Record{VillageCode: f.VillageA1, Name: "在档", Sex: "M", BirthDate: mustDate("1955-03-08"), IDNumber: "33012719550308001X"}
	if err := db.FileRecord(ctx, f.DoctorA, existing); err != nil {
		t.Fatal(err)
	}
	a1 := f.VillageA1
	fs := map[string]string{"residents.csv": residentsHeader +
		a1 + "0001," + a1 + ",甲,,,,,,,,,,2024-01-01,,\n" + // line 2: ID in the database
		a1 + "0009," + a1 + ",乙,,,,,,,,,,2024-01-01,,\n" + // line 3
		a1 + "0009," + a1 + ",丙,,,,,,,,,,2024-01-01,,\n" + // line 4: duplicate of line 3
		"," + a1 + ",丁,,,33012719550308001x,,,,,,,2024-01-01,,\n" + // line 5: active number of the existing record
		"," + a1 + ",戊,,,110101199003070514,,,,,,,2024-01-01,,\n" + // line 6
		"," + a1 + ",己,,,110101199003070514,,,,,,,2024-01-01,,\n" + // line 7: duplicate of line 6
		"," + a1 + ",庚,,,110101199003070514,,,,,,,2024-01-01,moved_out,2024-02-01\n", // line 8: not active: fine
	}
	rep := run(t, db, files(t, fs), admin(true))
	want := map[string]string{
		"2:record_id": "已存在",
		"4:record_id": "第 3 行",
		"5:id_number": existing.RecordID,
		"7:id_number": "第 6 行",
	}
	if len(rep.Errors) != len(want) {
		t.Errorf("errors = %+v", rep.Errors)
	}
	for _, p := range rep.Errors {
		key := itoa(p.Line) + ":" + p.Field
		if w, ok := want[key]; !ok || !strings.Contains(p.Reason, w) {
			t.Errorf("problem %s: %s (want mention of %q)", key, p.Reason, w)
		}
	}
}

// TestImportReach: a records administrator imports only within their
// institution; rows outside are bad rows with a reason.
func TestImportReach(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	fs := map[string]string{
		"institutions.csv": "code,name,county_code\nINSTZ,某院,330127\n",
		"regions.csv":      "code,name,institution_code\n330127100102,新村,INSTA\n330127101103,他村,INSTB\n330127105,新镇,\n",
		"staff.csv":        "staff_code,name,institution_code,roles,phone\ndocN,新医生,INSTA,doctor,\nboss,某人,INSTA,bureau@330127,\ndocZ,某人,INSTB,doctor,\n",
		"residents.csv": residentsHeader +
			"," + f.VillageA1 + ",甲,,,,,,,,,docN,2024-01-01,,\n" +
			"," + f.VillageB1 + ",乙,,,,,,,,,,2024-01-01,,\n",
		"entries.csv": entriesHeader + f.VillageB1 + "0001,exam,2024-01-01,docB,,,,\n",
	}
	before := tables(t, db)
	opt := importer.Options{Actor: f.AdminA, Institutions: []string{f.InstA}}
	rep := run(t, db, files(t, fs), opt)
	got := map[string]bool{}
	for _, p := range rep.Errors {
		got[p.File+":"+itoa(p.Line)+":"+p.Field] = true
	}
	for _, w := range []string{"institutions.csv:2:code", "regions.csv:3:institution_code", "regions.csv:4:code",
		"staff.csv:3:roles", "staff.csv:4:institution_code", "residents.csv:3:village_code", "entries.csv:2:record_id", "entries.csv:2:staff_code"} {
		if !got[w] {
			t.Errorf("missing problem %s in %+v", w, rep.Errors)
		}
	}
	if got["residents.csv:2:village_code"] || got["staff.csv:2:institution_code"] || got["regions.csv:2:institution_code"] {
		t.Errorf("own rows refused: %+v", rep.Errors)
	}
	if after := tables(t, db); !equalMaps(before, after) {
		t.Errorf("tables changed")
	}
}

func TestImportFiles(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	cases := []struct {
		name  string
		files map[string]string
		want  string // file:line:field of the first problem
	}{
		{"UnknownFile", map[string]string{"resident.csv": residentsHeader}, "resident.csv:0:"},
		{"MissingColumn", map[string]string{"residents.csv": "record_id,village_code\n"}, "residents.csv:1:name"},
		{"UnknownColumn", map[string]string{"populations.csv": "village_code,year,population,remark\n"}, "populations.csv:1:remark"},
		{"Empty", map[string]string{"staff.csv": ""}, "staff.csv:1:"},
		{"GBK", map[string]string{"residents.csv": residentsHeader + "," + f.VillageA1 + ",\xd5\xc5\xc8\xfd,,,,,,,,,,2024-01-01,,\n"}, "residents.csv:2:name"},
		{"FieldCount", map[string]string{"populations.csv": "village_code,year,population\n" + f.VillageA1 + ",2024\n"}, "populations.csv:2:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := run(t, db, files(t, c.files), admin(true))
			if rep.OK || len(rep.Errors) == 0 {
				t.Fatalf("ok")
			}
			p := rep.Errors[0]
			if got := p.File + ":" + itoa(p.Line) + ":" + p.Field; got != c.want {
				t.Errorf("first problem %s (%s), want %s", got, p.Reason, c.want)
			}
		})
	}
	t.Run("BOM", func(t *testing.T) {
		rep := run(t, db, files(t, map[string]string{"populations.csv": "\ufeffvillage_code,year,population\n" + f.VillageA1 + ",2024,100\n"}), admin(false))
		if !rep.OK {
			t.Fatalf("%+v", rep.Errors)
		}
	})
	t.Run("NoFiles", func(t *testing.T) {
		_, err := importer.Run(context.Background(), db, files(t, nil), admin(true))
		if err == nil {
			t.Fatal("no error")
		}
	})
}

func TestRunImport(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	good := files(t, map[string]string{"residents.csv": residentsHeader + "," + f.VillageA1 + ",甲,,,,,,,,,,2024-01-01,,\n"})
	bad := files(t, map[string]string{"residents.csv": residentsHeader + "," + f.VillageA1 + ",甲,?,,,,,,,,,2024-01-01,,\n"})
	cases := []struct {
		name    string
		args    []string
		wantErr error
		out     string
		records int
	}{
		{"DryRun", []string{"--dry-run", string(good)}, nil, "dry run: no bad rows", 0},
		{"BadDryRun", []string{"--dry-run", string(bad)}, importer.ErrBadRows, "residents.csv:2: sex:", 0},
		{"Bad", []string{string(bad)}, importer.ErrBadRows, "1 bad rows; nothing was written", 0},
		{"Real", []string{string(good)}, nil, "imported; 1 new record IDs allocated", 1},
		{"JSON", []string{"--dry-run", "--json", string(bad)}, importer.ErrBadRows, `"field": "sex"`, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := importer.RunImport(context.Background(), db, nil, c.args, &out, nil)
			if !errors.Is(err, c.wantErr) {
				t.Errorf("err = %v, want %v", err, c.wantErr)
			}
			if !strings.Contains(out.String(), c.out) {
				t.Errorf("output %q lacks %q", out.String(), c.out)
			}
			if got := count(t, db, `SELECT count(*) FROM records`); got != c.records {
				t.Errorf("records = %d, want %d", got, c.records)
			}
		})
	}
	t.Run("Usage", func(t *testing.T) {
		var out bytes.Buffer
		if err := importer.RunImport(context.Background(), db, nil, nil, &out, nil); err == nil || !strings.Contains(out.String(), "usage") {
			t.Errorf("err = %v, out %q", err, out.String())
		}
	})
}

// TestImportServiceEntries: visits, referrals, follow-ups, consultations and
// hospitalisations go to the entries table; a follow-up belongs to the
// record's hypertension or diabetes enrolment, as through the API.
func TestImportServiceEntries(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()
	file := func(name string, programmes ...entry.Programme) string {
		r := &record.Record{VillageCode: f.VillageA1, Name: name, Sex: "F", BirthDate: mustDate("1950-01-01")}
		if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
			t.Fatal(err)
		}
		for _, p := range programmes {
			if _, _, err := db.AddEnrolment(ctx, f.DoctorA, r.RecordID, entry.EnrolmentForm{Programme: p, EnrolledOn: mustDate("2023-01-01")}, postgres.Idempotency{}); err != nil {
				t.Fatal(err)
			}
		}
		return r.RecordID
	}
	hyp, both, none := file("高血压", entry.Hypertension), file("两病", entry.Hypertension, entry.Type2Diabetes), file("未纳入")
	header := strings.TrimSuffix(entriesHeader, "\n") + ",programme\n"

	t.Run("Bad", func(t *testing.T) {
		fs := map[string]string{"entries.csv": header +
			both + ",followup,2024-03-01,docA,,,,,\n" + // 2: which programme?
			hyp + ",followup,2022-06-01,docA,,,,,\n" + // 3: before enrolment
			none + ",followup,2024-03-01,docA,,,,,\n" + // 4: not enrolled
			hyp + ",visit,2024-03-01,docA,,,,,hypertension\n" + // 5: programme on a visit
			hyp + ",visit,2024-03-01,docA,120,,,,\n" + // 6: vitals on a visit
			hyp + ",followup,2024-03-01,docA,,,,,elderly\n" + // 7: no follow-ups in that programme
			hyp + ",followup,2024-03-01,docA,,,,,type2_diabetes\n", // 8: not enrolled in it
		}
		rep := run(t, db, files(t, fs), admin(true))
		got := map[string]bool{}
		for _, p := range rep.Errors {
			got[itoa(p.Line)+":"+p.Field] = true
		}
		want := []string{"2:programme", "3:service_date", "4:programme", "5:programme", "6:systolic", "7:programme", "8:programme"}
		for _, w := range want {
			if !got[w] {
				t.Errorf("missing %s in %+v", w, rep.Errors)
			}
		}
		if len(got) != len(want) {
			t.Errorf("problems %v, want %v", got, want)
		}
	})

	t.Run("OK", func(t *testing.T) {
		fs := map[string]string{"entries.csv": header +
			hyp + ",visit,2024-01-05,docA,,,,,\n" +
			hyp + ",referral,2024-02-01,docA,,,,,\n" +
			hyp + ",followup,2024-03-01,docA,,,,,\n" + // the only enrolment: hypertension
			both + ",followup,2024-03-02,docA,,,,,type2_diabetes\n" +
			hyp + ",consultation,2024-03-03,docA,,,,,\n" +
			hyp + ",hospitalisation,2024-03-04,docA,,,,,\n" +
			hyp + ",exam,2023-12-01,docA,130,85,158,60,\n",
		}
		rep := run(t, db, files(t, fs), admin(false))
		if !rep.OK {
			t.Fatalf("%+v", rep.Errors)
		}
		if got := count(t, db, `SELECT count(*) FROM entries`); got != 6 {
			t.Errorf("entries = %d, want 6", got)
		}
		if got := count(t, db, `SELECT count(*) FROM exams`); got != 1 {
			t.Errorf("exams = %d, want 1", got)
		}
		var list []entry.Entry
		for _, k := range entry.Kinds {
			of, _, err := db.Entries(ctx, hyp, k, postgres.Page{Page: 1, PerPage: 50})
			if err != nil {
				t.Fatal(err)
			}
			list = append(list, of...)
		}
		if len(list) != 5 {
			t.Fatalf("entries of %s: %d", hyp, len(list))
		}
		for _, e := range list {
			if e.Head().InstitutionCode != f.InstA || e.Head().CreatedBy != "admin" || e.Basics().StaffCode != f.DoctorA {
				t.Errorf("entry %+v", e.Head())
			}
			if r, ok := e.(*entry.Referral); ok && (r.Status != entry.Closed || r.CloseReason == "" || r.ClosedOn.String() != "2024-02-01") {
				t.Errorf("referral = %+v", r)
			}
			if fu, ok := e.(*entry.Followup); ok && fu.Programme != entry.Hypertension {
				t.Errorf("follow-up programme = %s", fu.Programme)
			}
		}
		var facts struct {
			Service string `db:"last_service_date"`
			Exam    string `db:"last_exam_date"`
		}
		if err := db.Get(&facts, `SELECT last_service_date::text, last_exam_date::text FROM records WHERE record_id = $1`, hyp); err != nil {
			t.Fatal(err)
		}
		if facts.Service != "2024-03-04" || facts.Exam != "2023-12-01" {
			t.Errorf("facts = %+v", facts)
		}
		// The rates' date sets too, the complete exam deciding Q11 from its date.
		var sets struct {
			Used string `db:"used_on"`
			OK   string `db:"exam_ok_on"`
		}
		if err := db.Get(&sets, `SELECT used_on::text, exam_ok_on::text FROM records WHERE record_id = $1`, hyp); err != nil {
			t.Fatal(err)
		}
		// Used from the exam only: the entries carry none of their kinds'
		// required items, so none conforms (DESIGN §5.3).
		if sets.Used != "{[2023-12-01,2024-11-30)}" || sets.OK != "{[2023-12-01,)}" {
			t.Errorf("date sets = %+v", sets)
		}
		pgtest.CheckRateFacts(t, db)
		if got := count(t, db, `SELECT count(*) FROM enrolments WHERE record_id = $1 AND last_followup_date = '2024-03-01'`, hyp); got != 1 {
			t.Errorf("schedule not moved by the imported follow-up")
		}
	})

	// A legacy entry conforms only when the file carries its kind's
	// required items (entry.Missing), in the optional columns.
	t.Run("Conforming", func(t *testing.T) {
		rec := file("规范", entry.Hypertension)
		header := "record_id,kind,service_date,staff_code,systolic,diastolic,height_cm,weight_kg,programme,classification,next_date," +
			"subjective,assessment,to_institution,reason,impression,opinion,hospital,admitted_on,diagnosis\n"
		rows := []struct {
			row        string
			conforming bool
		}{
			{"visit,2024-04-01,docA,,,,,,,,头晕,高血压,,,,,,,", true},
			{"visit,2024-04-02,docA,,,,,,,,头晕,,,,,,,,", false},
			{"followup,2024-04-03,docA,140,90,,,,satisfactory,2024-07-03,,,,,,,,,", true},
			{"followup,2024-04-04,docA,140,90,,,,satisfactory,,,,,,,,,,", false},
			{"referral,2024-04-05,docA,,,,,,,,,,县人民医院,需进一步检查,胸痛待查,,,,", true},
			{"consultation,2024-04-06,docA,,,,,,,,,,,诊断不明,,建议住院,,,", true},
			{"hospitalisation,2024-04-07,docA,,,,,,,,,,,,,,县人民医院,2024-04-07,肺炎", true},
			{"hospitalisation,2024-04-08,docA,,,,,,,,,,,,,,县人民医院,2024-04-08,", false},
		}
		var csv strings.Builder
		csv.WriteString(header)
		for _, r := range rows {
			csv.WriteString(rec + "," + r.row + "\n")
		}
		bad := header + rec + ",visit,2024-04-01,docA,,,,,,,,头晕,高血压,,,,建议住院,,,\n" + // 2: a consultation's opinion on a visit
			rec + ",exam,2024-04-01,docA,130,80,160,60,,,,头晕,,,,,,,,\n" // 3: a visit's complaint on an exam
		rep := run(t, db, files(t, map[string]string{"entries.csv": bad}), admin(true))
		got := map[string]bool{}
		for _, p := range rep.Errors {
			got[itoa(p.Line)+":"+p.Field] = true
		}
		if len(got) != 2 || !got["2:opinion"] || !got["3:subjective"] {
			t.Errorf("problems %v, want 2:opinion 3:subjective", rep.Errors)
		}
		if rep := run(t, db, files(t, map[string]string{"entries.csv": csv.String()}), admin(false)); !rep.OK {
			t.Fatalf("%+v", rep.Errors)
		}
		var stored []bool
		if err := db.Select(&stored, `SELECT conforming FROM entries WHERE record_id = $1 ORDER BY service_date`, rec); err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(rows) {
			t.Fatalf("%d entries imported, want %d", len(stored), len(rows))
		}
		for i, r := range rows {
			if stored[i] != r.conforming {
				t.Errorf("row %q: conforming %v, want %v", r.row, stored[i], r.conforming)
			}
		}
		for _, k := range entry.Kinds {
			of, _, err := db.Entries(ctx, rec, k, postgres.Page{Page: 1, PerPage: 50})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range of {
				if entry.Conforms(e) != e.Head().Conforming {
					t.Errorf("%s %d: Go says %v, stored %v", k, e.Head().ID, entry.Conforms(e), e.Head().Conforming)
				}
			}
		}
		if got := count(t, db, `SELECT count(*) FROM entry_filings WHERE record_id = $1`, rec); got != 0 {
			t.Errorf("%d legacy entries queued for filing", got)
		}
		pgtest.CheckRateFacts(t, db)
	})

	t.Run("NoEntriesTable", func(t *testing.T) {
		db := pgtest.NewDB(t)
		f := pgtest.NewFixture(t, db)
		r := &record.Record{VillageCode: f.VillageA1, Name: "甲", Sex: "F", BirthDate: mustDate("1950-01-01")}
		if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
			t.Fatal(err)
		}
		if _, err := pgtest.Superuser(t, db).Exec(`DROP TABLE entries CASCADE`); err != nil {
			t.Fatal(err)
		}
		rep := run(t, db, files(t, map[string]string{"entries.csv": entriesHeader + r.RecordID + ",visit,2024-01-05,docA,,,,\n"}), admin(true))
		if len(rep.Errors) != 1 || rep.Errors[0].Field != "kind" || !strings.Contains(rep.Errors[0].Reason, "entries table not available") {
			t.Errorf("%+v", rep.Errors)
		}
	})
}

// TestImportAttribution: entries.csv's staff_code follows the API's
// attribution rule (access.MayAuthor), for the administrator's import too.
func TestImportAttribution(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()
	r := record.Record{VillageCode: f.VillageA2, Name: "甲", Sex: "F", BirthDate: civil.New(1950, 1, 1), ResidenceType: "户籍", Ethnicity: "汉族"}
	if err := db.FileRecord(ctx, f.DoctorA, &r); err != nil {
		t.Fatal(err)
	}
	rows := []string{
		r.RecordID + ",visit,2024-01-01," + f.Bureau + ",,,,",        // 2: not of the institution
		r.RecordID + ",visit,2024-01-01," + f.DoctorB + ",,,,",       // 3: another institution's doctor
		r.RecordID + ",visit,2024-01-01," + f.Admin + ",,,,",         // 4: the system administrator
		r.RecordID + ",referral,2024-01-01," + f.HomeVisitA + ",,,,", // 5: home visit may not refer
		r.RecordID + ",visit,2024-01-01," + f.HomeVisitA + ",,,,",    // 6: not their village
		r.RecordID + ",exam,2024-01-01," + f.AdminA + ",,,,",         // 7: fine
	}
	rep := run(t, db, files(t, map[string]string{"entries.csv": entriesHeader + strings.Join(rows, "\n") + "\n"}), admin(true))
	got := map[int]string{}
	for _, p := range rep.Errors {
		if p.Field == "staff_code" {
			got[p.Line] = p.Reason
		}
	}
	for line := 2; line <= 6; line++ {
		if got[line] == "" {
			t.Errorf("line %d: no staff_code problem in %+v", line, rep.Errors)
		}
	}
	if got[7] != "" {
		t.Errorf("line 7 refused: %s", got[7])
	}
}
