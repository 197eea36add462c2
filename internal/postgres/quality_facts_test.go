package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/quality"
	"healthrec/internal/record"
)

// TestQualityFailuresMatchGo loads records by COPY (the importer's and the
// demo loader's path) with random combinations of every rule's edge values,
// and checks that the trigger's bitmask equals quality.Static for each.
func TestQualityFailuresMatchGo(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()

	wrongCheck := validID("1955-03-08", 2)
	wrongCheck = wrongCheck[:17] + map[bool]string{true: "1", false: "0"}[wrongCheck[17] == '0']
	lowerX := ""
	for o := 100; o < 999 && lowerX == ""; o += 2 {
		if id := validID("1955-03-08", o); id[17] == 'X' {
			lowerX = id[:17] + "x"
		}
	}
	badDate := "33012719550230002" + string(ident.CheckChar("33012719550230002"))
	r := rand.New(rand.NewPCG(5, 2))
	names := []string{"", " ", "\u3000", "\t王\u3000", "王芳"}
	sexes := []string{"", "M", "F"}
	births := []civil.Date{{}, civil.MustParse("1899-12-31"), civil.MustParse("1900-01-01"), civil.MustParse("1955-03-08"), civil.MustParse("1955-03-09")}
	ids := []string{"", validID("1955-03-08", 2), validID("1955-03-08", 1), wrongCheck, badDate,
		validID("1899-12-31", 2), validID("1900-01-01", 1), lowerX, "33012719550308002", "3301271955030800A1", "３３０１２７１９５５０３０８００２X"}
	texts := []string{"", " ", "\u3000", "户籍", "汉族"}
	phones := []string{"", "13912345678", "12912345678", "1391234567", "139123456789", "0571-87654321", "057187654321",
		"87654321", " 13912345678", "0571-876543", "13012345678", "19912345678"}
	doctors := []string{"", f.DoctorA}
	// The table: each item answered, answered none, blank or not recorded.
	table := func() record.BasicInfo {
		b := record.AnsweredBasicInfo()
		texts := []*string{&b.BloodABO, &b.BloodRh, &b.Education, &b.Occupation, &b.MaritalStatus, &b.KitchenExhaust,
			&b.Fuel, &b.Water, &b.Toilet, &b.LivestockPen}
		codes := []*[]string{&b.PaymentTypes, &b.DrugAllergies, &b.Exposures, &b.FamilyFather, &b.FamilyMother,
			&b.FamilySiblings, &b.FamilyChildren, &b.Disabilities}
		for _, p := range texts {
			switch r.IntN(12) {
			case 0:
				*p = ""
			case 1:
				*p = "\u3000"
			}
		}
		for _, p := range codes {
			switch r.IntN(12) {
			case 0:
				*p = nil
			case 1:
				*p = []string{}
			case 2:
				*p = []string{"2", "3"}
			}
		}
		if r.IntN(10) == 0 {
			b.PastDiseases = nil
		} else if r.IntN(3) == 0 {
			b.PastDiseases = []record.PastDisease{{Code: "2", DiagnosedOn: "2010-01"}}
		}
		for _, p := range []*[]record.Event{&b.Operations, &b.Traumas, &b.Transfusions} {
			if r.IntN(10) == 0 {
				*p = nil
			}
		}
		if r.IntN(10) == 0 {
			b.HereditaryDiseases = nil
		}
		if r.IntN(20) == 0 {
			b = record.BasicInfo{}
		}
		return b
	}

	pick := func(n int) int { return r.IntN(n) }
	type row struct {
		id string
		b  quality.Basic
	}
	var rows []row
	for i := 1; i <= 3000; i++ {
		b := quality.Basic{
			Name: names[pick(len(names))], Sex: sexes[pick(len(sexes))], BirthDate: births[pick(len(births))],
			IDNumber: ids[pick(len(ids))], ResidenceType: texts[pick(len(texts))], Ethnicity: texts[pick(len(texts))],
			Phone: phones[pick(len(phones))], ContactPhone: phones[pick(len(phones))], ResponsibleDoctor: doctors[pick(len(doctors))],
			Info: table(),
		}
		rows = append(rows, row{id: fmt.Sprintf("%s%04d", f.VillageA1, i), b: b})
	}

	// Moved out, so that the repeated identity numbers do not collide.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.Prepare(pq.CopyIn("records", "record_id", "village_code", "name", "sex", "birth_date", "id_number",
		"residence_type", "ethnicity", "phone", "contact_phone", "responsible_doctor", "filed_on", "status", "status_date", "basic_info"))
	if err != nil {
		t.Fatal(err)
	}
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	for _, x := range rows {
		b := x.b
		if _, err := stmt.Exec(x.id, f.VillageA1, b.Name, null(b.Sex), b.BirthDate, null(b.IDNumber), b.ResidenceType,
			b.Ethnicity, b.Phone, b.ContactPhone, null(b.ResponsibleDoctor), "2024-01-01", "moved_out", "2024-06-01", tableJSON(b.Info)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stmt.Exec(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	got := map[string]int{}
	var list []struct {
		ID    string `db:"record_id"`
		Flags int    `db:"quality_failures"`
	}
	if err := db.Select(&list, `SELECT record_id, quality_failures FROM records`); err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		got[x.ID] = x.Flags
	}
	seen := quality.Set(0)
	for _, x := range rows {
		want := quality.Static(x.b)
		seen |= want
		if quality.Set(got[x.id]) != want {
			j, _ := json.Marshal(x.b)
			t.Errorf("%s %s: database %v, Go %v", x.id, j, quality.Set(got[x.id]).IDs(), want.IDs())
		}
	}
	if seen != quality.StaticRules {
		t.Errorf("the random records broke only %v", seen.IDs())
	}
}

// TestQualityFailuresOnWrites checks the bitmask follows filing and editing,
// and cannot be set by hand.
func TestQualityFailuresOnWrites(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()
	flags := func(id string) quality.Set {
		t.Helper()
		var n int
		if err := db.Get(&n, `SELECT quality_failures FROM records WHERE record_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return quality.Set(n)
	}
	r := &record.Record{VillageCode: f.VillageA1, Name: "王芳", Sex: "F", BirthDate: civil.MustParse("1955-03-08"),
		ResidenceType: "户籍", Ethnicity: "汉族", Phone: "13912345678", BasicInfo: record.AnsweredBasicInfo()}
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	if got, want := flags(r.RecordID), quality.Of(quality.Q4); got != want {
		t.Fatalf("after filing: %v, want %v", got.IDs(), want.IDs())
	}
	patch := map[string]json.RawMessage{"id_number": json.RawMessage(`"` + validID("1955-03-08", 2) + `"`), "phone": json.RawMessage(`""`)}
	if _, err := db.UpdateRecord(ctx, f.DoctorA, r.RecordID, patch); err != nil {
		t.Fatal(err)
	}
	if got, want := flags(r.RecordID), quality.Of(quality.Q8); got != want {
		t.Fatalf("after editing: %v, want %v", got.IDs(), want.IDs())
	}
	// An item of the table unanswered again fails its rule; "none" passes.
	patch = map[string]json.RawMessage{"operations": json.RawMessage(`null`), "toilet": json.RawMessage(`""`),
		"drug_allergies": json.RawMessage(`["1"]`)}
	if _, err := db.UpdateRecord(ctx, f.DoctorA, r.RecordID, patch); err != nil {
		t.Fatal(err)
	}
	if got, want := flags(r.RecordID), quality.Of(quality.Q8, quality.Q14, quality.Q15); got != want {
		t.Fatalf("after unanswering: %v, want %v", got.IDs(), want.IDs())
	}
	if _, err := db.Exec(`UPDATE records SET quality_failures = 0 WHERE record_id = $1`, r.RecordID); err == nil {
		t.Fatal("the bitmask was set by hand")
	}
}

// tableJSON is the table as the store writes it ({} when nothing is
// recorded: members absent, not empty).
func tableJSON(b record.BasicInfo) string {
	v, _ := record.StoredBasicInfo(b).Value()
	return v.(string)
}
