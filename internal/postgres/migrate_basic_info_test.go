package postgres_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/quality"
	"healthrec/internal/record"
)

// TestMigrateBasicInfo runs migration 00024 over records whose personal
// basic information sits in the free-form details of earlier versions (as
// the desk form and the API wrote it). Each old member is carried into the
// table's fields, or kept as it was in details_unmapped: nothing is lost.
// The stored quality failures take in Q12–Q15 and the rate counters follow.
func TestMigrateBasicInfo(t *testing.T) {
	old := migratedTo(t, "mig24", 21)
	db, must := old.DB, old.must
	must(`INSERT INTO regions (code, name, level) VALUES ('330127', '淳安县', 'county')`)
	must(`INSERT INTO regions (code, name, level, parent_code) VALUES ('330127100', '千岛湖镇', 'township', '330127')`)
	must(`INSERT INTO institutions (code, name, county_code) VALUES ('INSTA', '千岛湖', '330127')`)
	must(`INSERT INTO regions (code, name, level, parent_code, institution_code) VALUES ('330127100101', '村', 'village', '330127100', 'INSTA')`)
	must(`INSERT INTO staff (code, name, institution_code) VALUES ('docA', '张', 'INSTA')`)
	cases := []struct {
		details  string
		info     record.BasicInfo
		unmapped string
	}{
		{ // the desk form's details, everything known
			`{"blood_type":"AB","blood_rh":"阳性","education":"初中","occupation":"农民","marital_status":"已婚",
			  "payment_types":["城乡居民基本医疗保险","商业保险"],"drug_allergies":["青霉素","芒果"],"hereditary_disease":"无",
			  "disabilities":["无残疾"]}`,
			record.BasicInfo{BloodABO: "4", BloodRh: "2", Education: "7", Occupation: "4", MaritalStatus: "2",
				PaymentTypes: []string{"2", "5"}, DrugAllergies: []string{"2", "5"}, AllergyOther: "芒果",
				HereditaryDiseases: []string{}, Disabilities: []string{"1"}},
			`{}`,
		},
		{ // the card's object form, a none list, and members that map nowhere
			`{"blood_type":{"abo":"O","rh":"阴性"},"drug_allergies":[],"education":"私塾","chronic_conditions":["冠心病"],
			  "hereditary_disease":"血友病","occupation":"","note":{"x":1}}`,
			record.BasicInfo{BloodABO: "3", BloodRh: "1", DrugAllergies: []string{"1"}, HereditaryDiseases: []string{"血友病"}},
			`{"education":"私塾","chronic_conditions":["冠心病"],"occupation":"","note":{"x":1}}`,
		},
		{ // an unknown blood type stays whole; a list without an "other" answer too
			`{"blood_type":{"abo":"B","rh":"Rh?"},"exposures":["粉尘"],"marital_status":"未说明","disabilities":["视力","截肢"]}`,
			record.BasicInfo{MaritalStatus: "5", Disabilities: []string{"2", "8"}, DisabilityOther: "截肢"},
			`{"blood_type":{"abo":"B","rh":"Rh?"},"exposures":["粉尘"]}`,
		},
		{`{}`, record.BasicInfo{}, `{}`},
	}
	for i, c := range cases {
		must(`INSERT INTO records (record_id, village_code, name, sex, birth_date, residence_type, ethnicity, phone,
				responsible_doctor, filed_on, details)
			VALUES ($1, '330127100101', '王芳', 'F', '1955-03-08', '户籍', '汉族', '13912345678', 'docA', '2024-01-01', $2)`,
			"33012710010100"+string(rune('1'+i))+"0", c.details)
	}
	must(`INSERT INTO rate_snapshots (county_code, kind, as_of, seed, report, published_by) VALUES ('330127', 'assessment', '2024-06-30', 1, '{"warnings":[]}', 'docA')`)
	old.up()
	var ruleSet string
	if err := db.Get(&ruleSet, `SELECT rule_set FROM rate_snapshots`); err != nil || ruleSet != quality.RuleSetV1 {
		t.Fatalf("an earlier snapshot's rule set: %q %v", ruleSet, err)
	}

	var rows []struct {
		ID       string                 `db:"record_id"`
		Info     record.StoredBasicInfo `db:"basic_info"`
		Unmapped string                 `db:"details_unmapped"`
		Failures int                    `db:"quality_failures"`
	}
	if err := db.Select(&rows, `SELECT record_id, basic_info, details_unmapped::text, quality_failures FROM records ORDER BY record_id`); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r := rows[i]
		want := c.info
		want.Normalize()
		got := record.BasicInfo(r.Info)
		got.Normalize()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d: fields %+v, want %+v", i, got, want)
		}
		if !sameJSON(t, r.Unmapped, c.unmapped) {
			t.Errorf("case %d: unmapped %s, want %s", i, r.Unmapped, c.unmapped)
		}
		// Lossless: every old member is in the fields or kept as it was.
		var before, kept map[string]any
		_ = json.Unmarshal([]byte(c.details), &before)
		_ = json.Unmarshal([]byte(r.Unmapped), &kept)
		for k, v := range before {
			if kv, ok := kept[k]; ok && !reflect.DeepEqual(kv, v) {
				t.Errorf("case %d: %s kept as %v, was %v", i, k, kv, v)
			}
		}
		// The stored failures are the Go rules' over the migrated table.
		b := quality.Basic{Name: "王芳", Sex: "F", ResidenceType: "户籍", Ethnicity: "汉族", Phone: "13912345678",
			ResponsibleDoctor: "docA", Info: record.BasicInfo(r.Info)}
		b.BirthDate.Scan("1955-03-08")
		if w := quality.Static(b); quality.Set(r.Failures) != w {
			t.Errorf("case %d: stored failures %v, Go %v", i, quality.Set(r.Failures).IDs(), w.IDs())
		}
		if !quality.Set(r.Failures).Has(quality.Q14) {
			t.Errorf("case %d: a table without its histories passes Q14", i)
		}
	}
	// The history keeps the old details whole, and each carried item.
	var hist []string
	if err := db.Select(&hist, `SELECT action || ' ' || (changes -> 'details' -> 'before')::text || ' ' || COALESCE(changes -> 'blood_abo' ->> 'after', '-')
		FROM record_history ORDER BY record_id`); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || !strings.HasPrefix(hist[0], `migrate {"blood_rh": "阳性"`) || !strings.HasSuffix(hist[0], " 4") ||
		!strings.HasSuffix(hist[2], " -") {
		t.Fatalf("history: %q", hist)
	}
	var columns []string
	if err := db.Select(&columns, `SELECT column_name FROM information_schema.columns WHERE table_name = 'records' AND column_name = 'details'`); err != nil || len(columns) != 0 {
		t.Fatalf("details column still there: %v %v", columns, err)
	}
	var leftovers int
	if err := db.Get(&leftovers, `SELECT count(*) FROM pg_proc WHERE proname LIKE 'basic_migrate%'`); err != nil || leftovers != 0 {
		t.Fatalf("migration helpers left: %d %v", leftovers, err)
	}
	store, err := postgres.Open(context.Background(), old.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkRates(t, store)
	// What was kept is reported (healthrec migrate logs it).
	n, members, err := store.UnmappedDetails(context.Background())
	if err != nil || n != 2 || len(members) != 6 || members["chronic_conditions"] != 1 || members["blood_type"] != 1 {
		t.Fatalf("unmapped: %d %v %v", n, members, err)
	}
	if s, err := store.UnmappedSummary(context.Background()); err != nil || !strings.HasPrefix(s, "2 records keep details") {
		t.Fatalf("summary %q %v", s, err)
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestCodeListsMatchSQL keeps the code lists of internal/record and the
// table basic_codes of migration 00024 equal.
func TestCodeListsMatchSQL(t *testing.T) {
	db := pgtest.NewDB(t)
	var rows []struct {
		List  string `db:"list"`
		Code  string `db:"code"`
		Label string `db:"label"`
	}
	if err := db.Select(&rows, `SELECT list, code, label FROM basic_codes`); err != nil {
		t.Fatal(err)
	}
	var sqlRows, goRows []string
	for _, r := range rows {
		sqlRows = append(sqlRows, r.List+" "+r.Code+" "+r.Label)
	}
	for _, l := range record.CodeLists {
		for _, c := range l.Codes {
			goRows = append(goRows, l.Name+" "+c.Code+" "+c.Label)
		}
	}
	sort.Strings(sqlRows)
	sort.Strings(goRows)
	if !reflect.DeepEqual(sqlRows, goRows) {
		t.Fatalf("SQL %v\nGo  %v", sqlRows, goRows)
	}
}
