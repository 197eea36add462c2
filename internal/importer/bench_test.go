package importer_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"healthrec/internal/importer"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/region"
)

// benchResidents is the size of BenchmarkImportResidents; IMPORT_BENCH_ROWS
// overrides it (1000000 for the DESIGN §8 figure).
func benchResidents() int {
	if n, err := strconv.Atoi(os.Getenv("IMPORT_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// writeResidents writes a residents.csv of n rows, village after village: a
// quarter with given record IDs, the rest allocated, every one with a
// distinct valid identity number, one in twenty moved out.
func writeResidents(b *testing.B, dir string, n int, villages []string) {
	f, err := os.Create(filepath.Join(dir, "residents.csv"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("record_id,village_code,name,sex,birth_date,id_number,residence_type,ethnicity,phone,contact_name,contact_phone,responsible_doctor,filed_on,status,status_date\n")
	given := make([]int, len(villages))
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	for i := 0; i < n; i++ {
		// Exports come village by village.
		v := i * len(villages) / n
		id := ""
		if i%4 == 0 {
			given[v]++
			id = fmt.Sprintf("%s%04d", villages[v], given[v])
		}
		birth := time.Date(1930+i%80, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		// The birth date repeats every 1680 rows (the lcm of 80, 12, 28);
		// the order code tells those apart, up to 1.68M distinct numbers.
		seq := (i / 1680) % 1000
		sex := "F"
		if seq%2 == 1 {
			sex = "M"
		}
		first17 := "330127" + birth.Format("20060102") + fmt.Sprintf("%03d", seq)
		sum := 0
		for k, c := range first17 {
			sum += int(c-'0') * weights[k]
		}
		number := first17 + string("10X98765432"[sum%11])
		status, statusDate := "", ""
		if i%20 == 0 {
			status, statusDate = "moved_out", "2023-06-30"
		}
		fmt.Fprintf(w, "%s,%s,居民%d,%s,%s,%s,户籍,汉族,139%08d,,,docA,2020-01-%02d,%s,%s\n",
			id, villages[v], i, sex, birth.Format("2006-01-02"), number, i, 1+i%28, status, statusDate)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// BenchmarkImportResidents imports residents.csv into an empty county of
// INSTA villages; it reports rows per second. Extrapolate linearly to 1M.
func BenchmarkImportResidents(b *testing.B) {
	n := benchResidents()
	villagesNeeded := n/9000 + 1
	dir := b.TempDir()
	var villages []string
	for i := 0; i < villagesNeeded; i++ {
		villages = append(villages, fmt.Sprintf("3301271%02d%03d", 10+i/99, 101+i%99))
	}
	writeResidents(b, dir, n, villages)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		db := pgtest.NewDB(b)
		f := pgtest.NewFixture(b, db)
		ctx := context.Background()
		for _, v := range villages {
			t := v[:9]
			if _, err := db.Region(ctx, t); err != nil {
				if err := db.CreateRegion(ctx, &region.Region{Code: t, Name: "镇" + t}); err != nil {
					b.Fatal(err)
				}
			}
			if err := db.CreateRegion(ctx, &region.Region{Code: v, Name: "村" + v, InstitutionCode: f.InstA}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		rep, err := importer.Run(ctx, db, importer.Dir(dir), importer.Options{Actor: "bench", Admin: true})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK {
			b.Fatalf("bad rows: %+v", rep.Errors[:min(5, len(rep.Errors))])
		}
		el := time.Since(start)
		b.ReportMetric(float64(n)/el.Seconds(), "rows/s")
		b.ReportMetric(el.Seconds()*1e6/float64(n), "s/1M-rows")
	}
}
