package importer_test

import (
	"fmt"
	"strings"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/quality"
	"healthrec/internal/record"
)

// TestImportBasicInfo: residents.csv takes the personal basic information
// table as optional columns, in any order and any subset: codes, lists
// with "|", items "name@date", "无" for none; unknown codes and bad dates are
// bad rows naming the column; the stored table fails or passes Q12–Q15.
func TestImportBasicInfo(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	a1 := f.VillageA1
	opt := admin(false)
	opt.Today = civil.MustParse("2026-06-30")
	cols := "toilet,blood_abo,blood_rh,education,occupation,marital_status,payment_types,payment_other,drug_allergies," +
		"exposures,past_diseases,operations,traumas,transfusions,family_father,family_mother,family_siblings,family_children," +
		"family_history_other,hereditary_diseases,disabilities,kitchen_exhaust,fuel,water,livestock_pen"
	header := strings.TrimSuffix(residentsHeader, "\n") + "," + cols + "\n"
	full := "2,4,2,7,4,2,3|8,大病保险,1,1,2@2015-06|6:胃癌@2020-01,阑尾切除术@1998-07-12,无,无,2|7,1,1,12,痛风,无,1,2,1,1,1"
	line := func(id, name, table string) string {
		return fmt.Sprintf("%s,%s,%s,F,1955-03-08,,户籍,汉族,13912345678,,,,2024-01-01,,,%s\n", id, a1, name, table)
	}
	bad := map[string]string{
		"blood_abo":     "2,9,2,7,4,2,3,,1,1,无,无,无,无,1,1,1,1,,无,1,2,1,1,1",
		"past_diseases": "2,4,2,7,4,2,3,,1,1,2,无,无,无,1,1,1,1,,无,1,2,1,1,1",
		"operations":    "2,4,2,7,4,2,3,,1,1,无,手术@2030-01,无,无,1,1,1,1,,无,1,2,1,1,1",
	}
	// A dry run with bad rows names each bad column.
	src := files(t, map[string]string{"residents.csv": header + line("", "甲", full) +
		line("", "乙", bad["blood_abo"]) + line("", "丙", bad["past_diseases"]) + line("", "丁", bad["operations"])})
	rep := run(t, db, src, admin(true))
	var got []string
	for _, p := range rep.Errors {
		got = append(got, fmt.Sprintf("%d %s", p.Line, p.Field))
	}
	if strings.Join(got, ",") != "3 blood_abo,4 past_diseases,5 operations" {
		t.Fatalf("problems %v", rep.Errors)
	}

	// A real run: the full table, and a row of a file without the columns.
	rep = run(t, db, files(t, map[string]string{"residents.csv": header + line("", "甲", full)}), opt)
	if !rep.OK {
		t.Fatalf("import: %+v", rep.Errors)
	}
	rep = run(t, db, files(t, map[string]string{"residents.csv": residentsHeader +
		"," + a1 + ",乙,F,1955-03-08,,户籍,汉族,13912345678,,,,2024-01-01,,\n"}), opt)
	if !rep.OK {
		t.Fatalf("import without the table: %+v", rep.Errors)
	}
	var rows []struct {
		Name     string                 `db:"name"`
		Info     record.StoredBasicInfo `db:"basic_info"`
		Failures int                    `db:"quality_failures"`
	}
	if err := db.Select(&rows, `SELECT name, basic_info, quality_failures FROM records ORDER BY record_id`); err != nil {
		t.Fatal(err)
	}
	table := quality.Of(quality.Q12, quality.Q13, quality.Q14, quality.Q15)
	a := record.BasicInfo(rows[0].Info)
	if a.Toilet != "2" || fmt.Sprint(a.PaymentTypes) != "[3 8]" || a.PaymentOther != "大病保险" || len(a.PastDiseases) != 2 ||
		a.PastDiseases[1].Note != "胃癌" || a.PastDiseases[1].DiagnosedOn != "2020-01" || a.Operations[0].Name != "阑尾切除术" ||
		a.Traumas == nil || len(a.Traumas) != 0 || a.HereditaryDiseases == nil || quality.Set(rows[0].Failures)&table != 0 {
		t.Fatalf("imported table %+v, failures %v", a, quality.Set(rows[0].Failures).IDs())
	}
	if b := record.BasicInfo(rows[1].Info); !b.IsZero() || quality.Set(rows[1].Failures)&table != table {
		t.Fatalf("a row without the table: %+v, failures %v", b, quality.Set(rows[1].Failures).IDs())
	}
	pgtest.CheckRateFacts(t, db)
}
