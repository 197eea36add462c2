package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthrec/internal/app"
	"healthrec/internal/civil"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
	"healthrec/internal/region"
)

func TestRunReport(t *testing.T) {
	db := pgtest.NewDB(t)
	db.Now = func() time.Time { return time.Date(2026, 6, 30, 9, 0, 0, 0, time.UTC) }
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()
	if err := db.SetPopulation(ctx, f.AdminA, region.Population{VillageCode: f.VillageA1, Year: 2026, Population: 8}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		r := &record.Record{VillageCode: f.VillageA1, Name: "居民", Sex: "F", BirthDate: civil.MustParse("1960-01-01"),
			ResidenceType: "户籍", Ethnicity: "汉族", Phone: "13912345678"}
		if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := app.RunReport(ctx, db, args, &out)
		return out.String(), err
	}

	t.Run("CSV", func(t *testing.T) {
		out, err := run("--as-of", "2026-06-30")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(out, "\n")
		if lines[0] != "level,scope_code,scope_name,indicator,numerator,denominator,rate,target,gap,rank,warning" ||
			lines[1] != "county,330127,淳安县,coverage,4,8,50.0,90.0,-40.0,1,1" {
			t.Errorf("CSV:\n%s", out)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		out, err := run("--format", "json", "--sample", "2", "--seed", "7")
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			AsOf   string `json:"as_of"`
			Sample int    `json:"sample"`
			Seed   int    `json:"seed"`
			Rows   []struct {
				Level, Indicator string
				Denominator      int
			}
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.AsOf != "2026-06-30" || r.Sample != 2 || r.Seed != 7 || r.Rows[1].Indicator != "quality" || r.Rows[1].Denominator != 2 {
			t.Errorf("JSON: %s", out)
		}
	})
	t.Run("PDFToFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "r.pdf")
		out, err := run("--format", "pdf", "--out", path, "--sample", "all")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if !bytes.HasPrefix(b, []byte("%PDF")) || !strings.Contains(out, path) || !strings.Contains(out, "330127") {
			t.Errorf("summary %q, file %.8q", out, b)
		}
	})
	t.Run("BadArguments", func(t *testing.T) {
		for _, args := range [][]string{
			{"--as-of", "2026-02-30"}, {"--sample", "0"}, {"--sample", "5"}, {"--sample", "5", "--seed", "x"},
			{"--format", "xls"}, {"--county", "999999"}, {"--nope"}, {"extra"},
		} {
			if _, err := run(args...); err == nil {
				t.Errorf("%v: no error", args)
			}
		}
	})
	t.Run("SeveralCounties", func(t *testing.T) {
		db2 := pgtest.NewDB(t)
		pgtest.NewFixture(t, db2)
		if err := db2.CreateRegion(ctx, &region.Region{Code: "330106", Name: "西湖区"}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := app.RunReport(ctx, db2, nil, &out); err == nil || !strings.Contains(err.Error(), "--county") {
			t.Errorf("err %v", err)
		}
		if err := app.RunReport(ctx, db2, []string{"--county", "330106"}, &out); err != nil {
			t.Errorf("--county: %v", err)
		}
	})
}
