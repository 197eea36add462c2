package demo_test

import (
	"context"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/demo"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/quality"
	"healthrec/internal/record"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestLoad loads a small demo county twice from the same seed: the same
// residents, valid identity numbers, gap-free serials, and counters that
// let the next filing continue.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	opts := demo.Options{Seed: 7, Residents: 2000, Today: civil.MustParse("2026-11-23")}
	load := func() (*demo.Result, []string) {
		db := pgtest.NewDB(t)
		res, err := demo.Load(ctx, db, opts)
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		if err := db.Select(&rows, `SELECT record_id || name || COALESCE(id_number, '') FROM records ORDER BY record_id`); err != nil {
			t.Fatal(err)
		}
		var bad int
		var ids []string
		_ = db.Select(&ids, `SELECT id_number FROM records WHERE id_number IS NOT NULL`)
		for _, id := range ids {
			if _, err := ident.ParseIDNumber(id); err != nil {
				bad++
			}
		}
		if bad > 0 {
			t.Fatalf("%d invalid identity numbers in the demo county", bad)
		}
		var gaps int
		_ = db.Get(&gaps, `SELECT count(*) FROM village_serials s WHERE last_serial <> (SELECT count(*) FROM records r WHERE r.village_code = s.village_code)`)
		if gaps != 0 {
			t.Fatalf("%d villages whose counter is not their record count", gaps)
		}
		var due int
		_ = db.Get(&due, `SELECT count(*) FROM enrolments WHERE next_due_date IS NOT NULL`)
		if due == 0 {
			t.Fatal("no follow-up schedule: the tablet worklist would be empty")
		}
		checkTables(t, db, opts.Today)
		if _, err := demo.Load(ctx, db, opts); err == nil {
			t.Fatal("loading the county twice succeeded")
		}
		return res, rows
	}
	res1, rows1 := load()
	_, rows2 := load()
	if res1.Residents != 2000 || res1.Villages != 100 || res1.Townships != 10 {
		t.Fatalf("result %+v", res1)
	}
	if len(rows1) != len(rows2) {
		t.Fatalf("%d vs %d records from the same seed", len(rows1), len(rows2))
	}
	for i := range rows1 {
		if rows1[i] != rows2[i] {
			t.Fatalf("same seed, different record: %s vs %s", rows1[i], rows2[i])
		}
	}
}

// checkTables: the demo's personal basic information tables are valid, most
// answer every item (Q12–Q15 hold), and the stored rule failures of each
// record are the Go rules' (quality.Static) — the two agree on the county.
func checkTables(t *testing.T, db *postgres.DB, today civil.Date) {
	t.Helper()
	var recs []struct {
		Name      string                 `db:"name"`
		Sex       string                 `db:"sex"`
		Birth     civil.Date             `db:"birth_date"`
		IDNumber  string                 `db:"id_number"`
		Residence string                 `db:"residence_type"`
		Ethnicity string                 `db:"ethnicity"`
		Phone     string                 `db:"phone"`
		Contact   string                 `db:"contact_phone"`
		Doctor    string                 `db:"doctor"`
		Info      record.StoredBasicInfo `db:"basic_info"`
		Failures  int                    `db:"quality_failures"`
	}
	if err := db.Select(&recs, `SELECT name, COALESCE(sex, '') AS sex, birth_date, COALESCE(id_number, '') AS id_number, residence_type,
			ethnicity, phone, contact_phone, COALESCE(responsible_doctor, '') AS doctor, basic_info, quality_failures FROM records`); err != nil {
		t.Fatal(err)
	}
	table := quality.Of(quality.Q12, quality.Q13, quality.Q14, quality.Q15)
	answered := 0
	for _, r := range recs {
		info := record.BasicInfo(r.Info)
		if fe := info.Validate(today); len(fe) > 0 {
			t.Fatalf("demo table invalid: %v", fe)
		}
		b := quality.Basic{Name: r.Name, Sex: r.Sex, BirthDate: r.Birth, IDNumber: r.IDNumber, ResidenceType: r.Residence,
			Ethnicity: r.Ethnicity, Phone: r.Phone, ContactPhone: r.Contact, ResponsibleDoctor: r.Doctor, Info: info}
		if got, want := quality.Set(r.Failures), quality.Static(b); got != want {
			t.Fatalf("stored failures %v, Go %v", got.IDs(), want.IDs())
		}
		if quality.Set(r.Failures)&table == 0 {
			answered++
		}
	}
	if share := float64(answered) / float64(len(recs)); share < 0.85 || share > 0.97 {
		t.Fatalf("%.1f%% of the demo's tables answered, want most but not all", share*100)
	}
}
