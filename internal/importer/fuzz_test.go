package importer_test

import (
	"context"
	"testing"

	"healthrec/internal/importer"
	"healthrec/internal/postgres/pgtest"
)

// FuzzResidentsRow dry-runs a residents.csv of one arbitrary data row against
// the fixture county: the importer never fails on a row's content (every
// problem is a bad row with a line, field and reason, not an error), and a
// dry run writes nothing.
func FuzzResidentsRow(f *testing.F) {
	for _, row := range []string{
		",330127100101,王芳,F,1955-03-08,,户籍,汉族,13912345678,,,docA,2020-01-01,active,",
		"3301271001010007,330127100101,张三,M,1960-05-01,33012719600501001X,户籍,汉族,,李四,0571-88881234,docA,2019-01-01,moved_out,2024-01-01",
		",330127100101,,,,,,,,,,,2020-01-01,,",
		",330127100101,x,X,2023-02-29,abc,?,,1,,,nobody,2099-01-01,dead,",
		"\"unterminated,330127100101",
		",,,,,,,,,,,,,,,,,,,",
		"0000000000000000,330127100101,王,F,1900-01-01,,,,,,,,1900-01-01,active,",
	} {
		f.Add(row)
	}
	db := pgtest.NewDB(f)
	pgtest.NewFixture(f, db)
	var before int
	if err := db.Get(&before, `SELECT count(*) FROM records`); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, row string) {
		dir := files(t, map[string]string{"residents.csv": residentsHeader + row + "\n"})
		rep, err := importer.Run(context.Background(), db, dir, admin(true))
		if err != nil {
			t.Fatalf("row %q: %v", row, err)
		}
		for _, p := range rep.Errors {
			if p.File == "" || p.Reason == "" {
				t.Fatalf("row %q: problem without file or reason: %+v", row, p)
			}
		}
		var after int
		if err := db.Get(&after, `SELECT count(*) FROM records`); err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Fatalf("a dry run wrote %d records", after-before)
		}
	})
}
