package importer_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/importer"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// bulkCounty is a county's files with every kind of row an import writes:
// residents with given and allocated IDs, moved out and deceased; enrolments
// in the follow-up programmes and the scheduled ones, some ended; exams
// complete and incomplete, with form items, several on a day; visits,
// referrals, consultations, hospitalisations and follow-ups with and
// without a next date.
func bulkCounty(seed uint64, residents int) map[string]string {
	r := rand.New(rand.NewPCG(seed, 7))
	fs := aCounty()
	today := civil.MustParse("2026-06-30")
	villages := []struct{ code, doctor string }{{"330127102101", "docC"}, {"330127102102", "raC"}}
	var res, prog, ent strings.Builder
	res.WriteString(residentsHeader)
	prog.WriteString("record_id,programme,enrolled_on,status,ended_on,end_reason,discharged_on,lmp_date,delivered_on\n")
	ent.WriteString(strings.TrimSuffix(followupHeader, "\n") + ",subjective,assessment,temperature,symptoms.symptoms\n")
	day := func(from civil.Date) civil.Date { return from.AddDays(r.IntN(max(from.DaysUntil(today), 1))) }
	for i := 0; i < residents; i++ {
		v := villages[i%2]
		serial := i/2 + 1
		id := fmt.Sprintf("%s%04d", v.code, serial)
		given := id
		if i%7 == 0 {
			given = "" // allocated after the file's largest serial: no services named
		}
		sex := []string{"M", "F", ""}[r.IntN(3)]
		birth := civil.New(1935+r.IntN(85), time.Month(1+r.IntN(12)), 1+r.IntN(28))
		filed := day(civil.MustParse("2016-01-01"))
		status, statusDate := "", ""
		last := today
		switch r.IntN(20) {
		case 0:
			status, statusDate = "moved_out", day(filed).String()
		case 1:
			status, statusDate = "deceased", day(filed).String()
		}
		if statusDate != "" {
			last = civil.MustParse(statusDate)
		}
		fmt.Fprintf(&res, "%s,%s,居民%d,%s,%s,,户籍,汉族,1391234%04d,,,%s,%s,%s,%s\n", given, v.code, i, sex, birth, i, v.doctor, filed, status, statusDate)

		if given == "" {
			continue
		}
		enrolled := map[string]civil.Date{}
		if r.IntN(3) == 0 {
			on := day(civil.MustParse("2020-01-01"))
			enrolled["hypertension"] = on
			fmt.Fprintf(&prog, "%s,hypertension,%s,active,,,,,\n", id, on)
		}
		if r.IntN(5) == 0 {
			on := day(civil.MustParse("2020-01-01"))
			enrolled["type2_diabetes"] = on
			fmt.Fprintf(&prog, "%s,type2_diabetes,%s,active,,,,,\n", id, on)
		}
		if r.IntN(6) == 0 {
			fmt.Fprintf(&prog, "%s,elderly,%s,active,,,,,\n", id, day(civil.MustParse("2021-01-01")))
		}
		if sex == "F" && r.IntN(6) == 0 {
			lmp := civil.MustParse("2025-12-01").AddDays(r.IntN(150))
			fmt.Fprintf(&prog, "%s,maternal,%s,active,,,,%s,\n", id, lmp.AddDays(40), lmp)
		}
		if r.IntN(10) == 0 {
			fmt.Fprintf(&prog, "%s,tuberculosis,2019-03-01,ended,2019-12-01,治愈,,,\n", id)
		}
		if last.Before(civil.MustParse("2023-07-01")) {
			continue
		}
		for k := r.IntN(9); k > 0; k-- {
			on := day(civil.MustParse("2023-07-01"))
			if on.After(last) {
				on = last
			}
			switch p := r.IntN(10); {
			case p < 3:
				weight := fmt.Sprint(45 + r.IntN(40))
				if r.IntN(4) == 0 {
					weight = "" // incomplete
				}
				temp, sym := "", ""
				if r.IntN(3) == 0 {
					temp, sym = "36.5", "1"
				}
				fmt.Fprintf(&ent, "%s,exam,%s,%s,%d,%d,%d,%s,,,,,,,,,,,,%s,%s\n", id, on, v.doctor, 110+r.IntN(60), 60+r.IntN(30), 150+r.IntN(35), weight, temp, sym)
				if r.IntN(8) == 0 { // a second exam the same day
					fmt.Fprintf(&ent, "%s,exam,%s,%s,,,,,,,,,,,,,,,,,\n", id, on, v.doctor)
				}
			case p < 5:
				fmt.Fprintf(&ent, "%s,visit,%s,%s,,,,,,,,,,,,,,主诉%d,评估,,\n", id, on, v.doctor, k)
			case p == 5:
				fmt.Fprintf(&ent, "%s,visit,%s,%s,,,,,,,,,,,,,,,,,\n", id, on, v.doctor) // not conforming
			case p == 6:
				kind := []string{"referral", "consultation", "hospitalisation"}[r.IntN(3)]
				fmt.Fprintf(&ent, "%s,%s,%s,%s,,,,,,,,,,,,,,,,,\n", id, kind, on, v.doctor)
			default:
				for _, programme := range []string{"hypertension", "type2_diabetes"} {
					since, ok := enrolled[programme]
					if !ok || on.Before(since) {
						continue
					}
					next := ""
					if r.IntN(2) == 0 {
						next = on.AddDays(30 + r.IntN(60)).String()
					}
					glucose := ""
					if programme == "type2_diabetes" {
						glucose = "7.1"
					}
					fmt.Fprintf(&ent, "%s,followup,%s,%s,%d,%d,,60,%s,clinic,,%s,,regular,,satisfactory,%s,,,,\n",
						id, on, v.doctor, 120+r.IntN(40), 70+r.IntN(20), programme, glucose, next)
				}
			}
		}
	}
	fs["residents.csv"], fs["programmes.csv"], fs["entries.csv"] = res.String(), prog.String(), ent.String()
	return fs
}

// snapshot reads every row an import writes or derives, each as JSON in
// its table's key order, leaving out what differs between two runs of the
// same import anyway: the clock (timestamps) and the transaction IDs.
func snapshot(t *testing.T, db *postgres.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, order := range map[string]string{"records": "record_id", "record_history": "id", "exams": "id", "entries": "id",
		"enrolments": "id", "schedule_items": "id", "entry_filings": "1", "rate_counts": "1", "rate_changes": "1",
		"village_serials": "village_code", "access_log": "1", "rate_active_counts": "1"} {
		var cols []string
		if err := db.Select(&cols, `SELECT column_name FROM information_schema.columns WHERE table_name = $1
			AND data_type NOT IN ('timestamp with time zone', 'xid8') AND (table_name <> 'access_log' OR column_name <> 'id')
			ORDER BY ordinal_position`, table); err != nil {
			t.Fatal(err)
		}
		if len(cols) == 0 {
			t.Fatalf("table %s has no columns", table)
		}
		var rows []string
		from := table
		if table == "rate_counts" {
			// A counter at 0 is a counter without a row: the records'
			// insert trigger notes changes that sum to 0 on a day (the
			// update trigger leaves them out), and the fold keeps the row.
			from = `rate_counts WHERE (active, qualified, used) <> (0, 0, 0)`
		}
		if table == "rate_active_counts" {
			// Rows of changes, summed where they are read: a bulk load
			// writes one per village and doctor, the ordinary path one
			// per statement.
			from = `(SELECT village_code, doctor, sum(active) AS active FROM rate_active_counts GROUP BY 1, 2) s`
		}
		q := fmt.Sprintf(`SELECT row_to_json(x)::text FROM (SELECT %s FROM %s ORDER BY %s) x`, strings.Join(cols, ", "), from, order)
		if order == "1" {
			q = fmt.Sprintf(`SELECT j FROM (SELECT row_to_json(x)::text AS j FROM (SELECT %s FROM %s) x) y ORDER BY j`, strings.Join(cols, ", "), from)
		}
		if err := db.Select(&rows, q); err != nil {
			t.Fatal(err)
		}
		out[table] = rows
	}
	return out
}

// TestBulkImportIsTheOrdinaryImport imports the same county once the
// ordinary way and once in bulk (as the owner, into an empty county), each
// into a fresh database, and finds every record with its facts, every
// history row, exam, entry, enrolment, scheduled service, audit row and
// counter the same.
func TestBulkImportIsTheOrdinaryImport(t *testing.T) {
	ctx := context.Background()
	src := files(t, bulkCounty(1, 400))
	opt := admin(false)
	opt.Today = civil.MustParse("2026-06-30")

	plain := pgtest.NewDB(t)
	pgtest.NewFixture(t, plain)
	rep := run(t, plain, src, opt)
	if !rep.OK || rep.Bulk {
		t.Fatalf("ordinary import: ok %v, bulk %v, %+v", rep.OK, rep.Bulk, rep.Errors[:min(len(rep.Errors), 5)])
	}

	bulk := pgtest.NewDB(t)
	pgtest.NewFixture(t, bulk)
	// The indexes and the triggers a bulk load drops for its COPY and
	// inserts are back as they were.
	indexes := func() []string {
		var out []string
		if err := bulk.Select(&out, `SELECT indexdef FROM pg_indexes WHERE tablename IN ('records', 'exams', 'entries')
			UNION ALL SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := indexes()
	bopt := opt
	bopt.Owner = pgtest.Owner(t, bulk)
	brep := run(t, bulk, src, bopt)
	if !brep.OK || !brep.Bulk {
		t.Fatalf("bulk import: ok %v, bulk %v, %+v", brep.OK, brep.Bulk, brep.Errors[:min(len(brep.Errors), 5)])
	}
	if after := indexes(); !slices.Equal(before, after) {
		t.Errorf("indexes and triggers after the bulk import:\n%v\nbefore:\n%v", after, before)
	}

	want, got := snapshot(t, plain), snapshot(t, bulk)
	for table, rows := range want {
		if len(rows) == 0 && table != "rate_changes" && table != "entry_filings" {
			t.Errorf("%s: no rows: the county tests nothing there", table)
		}
		if !slices.Equal(rows, got[table]) {
			t.Errorf("%s: %d rows, %d in bulk; first difference:", table, len(rows), len(got[table]))
			for i := range max(len(rows), len(got[table])) {
				var a, b string
				if i < len(rows) {
					a = rows[i]
				}
				if i < len(got[table]) {
					b = got[table][i]
				}
				if a != b {
					t.Errorf("  ordinary %s\n  bulk     %s", a, b)
					break
				}
			}
		}
	}
	// The id sequences stand where the ordinary import leaves them, at
	// their own cache again (the bulk path takes their ids a block at a
	// time): the next entry, exam or audit row gets the same id in both.
	sequences := func(db *postgres.DB) []string {
		var out []string
		for _, table := range []string{"exams", "entries", "enrolments", "record_history", "schedule_items", "access_log"} {
			var s string
			if err := db.Get(&s, fmt.Sprintf(`SELECT format('%s %%s %%s cache %%s', s.last_value, s.is_called, p.seqcache)
				FROM %s s, pg_sequence p WHERE p.seqrelid = pg_get_serial_sequence('%s', 'id')::regclass`, table, "public."+table+"_id_seq", table)); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	if want, got := sequences(plain), sequences(bulk); !slices.Equal(want, got) {
		t.Errorf("sequences after the bulk import:\n%q\nafter the ordinary one:\n%q", got, want)
	}

	// The facts are there to compare: the county's records have services.
	if n := count(t, bulk, `SELECT count(*) FROM records WHERE used_on IS NOT NULL AND exam_ok_on IS NOT NULL`); n < 50 {
		t.Errorf("only %d records with usage and a complete exam", n)
	}
	if n := count(t, bulk, `SELECT count(*) FROM enrolments WHERE last_followup_date IS NOT NULL`); n < 20 {
		t.Errorf("only %d enrolments with a follow-up", n)
	}
	drift, err := bulk.CheckRates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) > 0 {
		t.Errorf("check-rates after the bulk import: %d differences, first %+v", len(drift), drift[0])
	}
	pgtest.CheckRateFacts(t, bulk)

	t.Run("NotEmpty", func(t *testing.T) {
		// The county has records now: the same owner imports the ordinary
		// way (a second resident in a village).
		fs := map[string]string{"residents.csv": residentsHeader + ",330127102101,新人,,,,,,,,,,2024-01-01,,\n"}
		rep := run(t, bulk, files(t, fs), bopt)
		if !rep.OK || rep.Bulk {
			t.Fatalf("ok %v, bulk %v, %+v", rep.OK, rep.Bulk, rep.Errors)
		}
	})
}

// TestBulkImportAllOrNothing: a bad row in a bulk import writes nothing and
// leaves the tables' indexes and foreign keys as they were; a dry run and
// an import without residents never take the bulk path.
func TestBulkImportAllOrNothing(t *testing.T) {
	db := pgtest.NewDB(t)
	pgtest.NewFixture(t, db)
	opt := admin(false)
	opt.Owner = pgtest.Owner(t, db)
	checks := func() []string {
		var out []string
		if err := db.Select(&out, `SELECT indexdef FROM pg_indexes WHERE tablename IN ('records', 'exams', 'entries')
			UNION ALL SELECT conname FROM pg_constraint WHERE conrelid IN ('records'::regclass, 'exams'::regclass, 'entries'::regclass)
			ORDER BY 1`); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before, rows := checks(), tables(t, db)
	fs := aCounty()
	fs["entries.csv"] += "3301271021010007,exam,2024-02-30,docC,,,,\n"
	rep := run(t, db, files(t, fs), opt)
	if rep.OK || !rep.Bulk {
		t.Fatalf("ok %v, bulk %v", rep.OK, rep.Bulk)
	}
	if after := checks(); !slices.Equal(before, after) {
		t.Errorf("checks after a failed bulk import:\n%v\nbefore:\n%v", after, before)
	}
	if after := tables(t, db); !equalMaps(rows, after) {
		t.Errorf("tables changed: %v → %v", rows, after)
	}
	dry := opt
	dry.DryRun = true
	if rep := run(t, db, files(t, aCounty()), dry); !rep.OK || rep.Bulk {
		t.Errorf("dry run: ok %v, bulk %v", rep.OK, rep.Bulk)
	}
	reg := aCounty()
	delete(reg, "residents.csv")
	delete(reg, "entries.csv")
	if rep := run(t, db, files(t, reg), opt); !rep.OK || rep.Bulk {
		t.Errorf("registry only: ok %v, bulk %v", rep.OK, rep.Bulk)
	}
	// Now the good files load in bulk.
	if rep := run(t, db, files(t, aCounty()), opt); !rep.OK || !rep.Bulk {
		t.Errorf("ok %v, bulk %v, %+v", rep.OK, rep.Bulk, rep.Errors)
	}
	pgtest.CheckRateFacts(t, db)
}

// TestRunImportBulk: the command, given the owner, loads an empty county in
// bulk and says so; the county is then as an ordinary import leaves it.
func TestRunImportBulk(t *testing.T) {
	db := pgtest.NewDB(t)
	pgtest.NewFixture(t, db)
	var out strings.Builder
	if err := importer.RunImport(context.Background(), db, pgtest.Owner(t, db), []string{string(files(t, aCounty()))}, &out, nil); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if !strings.Contains(out.String(), "imported in bulk into an empty county") {
		t.Errorf("output: %s", out.String())
	}
	if n := count(t, db, `SELECT count(*) FROM access_log WHERE method = 'CLI' AND action = 'write'`); n != 4 {
		t.Errorf("%d audit rows, want 4 (3 records, the exams of one of them)", n)
	}
	pgtest.CheckRateFacts(t, db)
}

// TestImportExamsFirst: the exams before entries.csv's first service entry
// stream into their own COPY (a spool only keeps those after it, while the
// entries' COPY holds the connection), and every exam takes its id in the
// file's order, in an ordinary import as in a bulk one.
func TestImportExamsFirst(t *testing.T) {
	fs := bulkCounty(3, 60)
	header, body, _ := strings.Cut(fs["entries.csv"], "\n")
	var exams, services []string
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if strings.Split(line, ",")[1] == "exam" {
			exams = append(exams, line)
		} else {
			services = append(services, line)
		}
	}
	if len(exams) < 20 || len(services) < 20 {
		t.Fatalf("%d exams, %d service entries: too few to test", len(exams), len(services))
	}
	lines := func(parts ...[]string) string {
		return header + "\n" + strings.Join(slices.Concat(parts...), "\n") + "\n"
	}
	half := len(exams) / 2
	for _, c := range []struct {
		name    string
		entries string
		spooled bool // exams after a service entry wait in the spool
	}{
		{"ExamsFirst", lines(exams, services), false},
		{"ExamsAround", lines(exams[:half], services, exams[half:]), true},
		{"ExamsOnly", lines(exams), false},
	} {
		for _, bulk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bulk=%v", c.name, bulk), func(t *testing.T) {
				db := pgtest.NewDB(t)
				pgtest.NewFixture(t, db)
				county := maps.Clone(fs)
				county["entries.csv"] = c.entries
				opt := admin(false)
				opt.Today = civil.MustParse("2026-06-30")
				if bulk {
					opt.Owner = pgtest.Owner(t, db)
				}
				var steps []string
				opt.Timing = func(step string, _ time.Duration) { steps = append(steps, strings.TrimSpace(step)) }
				rep := run(t, db, files(t, county), opt)
				if !rep.OK || rep.Bulk != bulk {
					t.Fatalf("ok %v, bulk %v, %+v", rep.OK, rep.Bulk, rep.Errors[:min(len(rep.Errors), 5)])
				}
				if got := slices.Contains(steps, "entries.csv: exams copied (from the spool)"); got != c.spooled {
					t.Errorf("exams copied from the spool: %v, want %v; steps %q", got, c.spooled, steps)
				}
				var got []string
				if err := db.Select(&got, `SELECT concat_ws(',', record_id, 'exam', exam_date, doctor) FROM exams ORDER BY id`); err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, line := range strings.Split(strings.TrimSuffix(c.entries, "\n"), "\n")[1:] {
					if f := strings.Split(line, ","); f[1] == "exam" {
						want = append(want, strings.Join(f[:4], ","))
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("exams by id:\n%q\nwant the file's order:\n%q", got, want)
				}
			})
		}
	}
}
