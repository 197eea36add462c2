package webtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"healthrec/internal/postgres/pgtest"
)

// TestImportProgressPage: on a long run the import page shows the rows
// processed of each file, not only the upload and the time. The run is held
// between its two files (a lock on the enrolments programmes.csv reads):
// the page shows residents.csv 3 / 3 and programmes.csv 0 / 2; released,
// the run commits everything at once.
func TestImportProgressPage(t *testing.T) {
	s := newSite(t)
	data := s.seed()
	dir := t.TempDir()
	header := "record_id,village_code,name,sex,birth_date,id_number,residence_type,ethnicity,phone,contact_name,contact_phone,responsible_doctor,filed_on,status,status_date\n"
	residents := header
	for _, n := range []string{"进度甲", "进度乙", "进度丙"} {
		residents += fmt.Sprintf(",%s,%s,F,1950-01-01,,户籍,汉族,,,,,2024-01-01,,\n", s.f.VillageA1, n)
	}
	programmes := "record_id,programme,enrolled_on,status\n" + data.Zhao + ",type2_diabetes,2024-01-01,active\n" +
		data.Li + ",hypertension,2024-01-01,active\n"
	var files []string
	for name, body := range map[string]string{"residents.csv": residents, "programmes.csv": programmes} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}

	lock, err := pgtest.Superuser(t, s.db).Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`LOCK TABLE enrolments IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, 1366, 900)
	run(t, ctx, "start an import",
		chromedp.Navigate(s.url+"/#/import"), signIn(s.f.AdminA),
		chromedp.WaitVisible(`#import-files`),
		chromedp.SetUploadFiles(`#import-files`, files),
		chromedp.Click(`#import-commit`),
		waitText(`#import-files-progress li[data-file="residents.csv"]`, "residents.csv：3 / 3 行"),
		waitText(`#import-files-progress li[data-file="programmes.csv"]`, "programmes.csv：0 / 2 行"),
		waitText(`#import-progress`, "已处理 3 / 5 行"),
	)
	shot(t, ctx, "admin-import-progress")
	if n := s.count(`SELECT count(*) FROM records WHERE name LIKE '进度%'`); n != 0 {
		t.Fatalf("records visible while the import runs: %d", n)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "it ends, all at once", waitText(`#import-verdict`, "导入完成"))
	if n := s.count(`SELECT count(*) FROM records WHERE name LIKE '进度%'`); n != 3 {
		t.Fatalf("imported records = %d, want 3", n)
	}
}
