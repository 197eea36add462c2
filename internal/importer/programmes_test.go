package importer_test

import (
	"context"
	"strings"
	"testing"

	"healthrec/internal/entry"
	"healthrec/internal/importer"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/staff"
)

const (
	programmesHeader = "record_id,programme,enrolled_on,status\n"
	followupHeader   = "record_id,kind,service_date,staff_code,systolic,diastolic,height_cm,weight_kg,programme,method,symptoms,fasting_glucose,lifestyle_advice,adherence,adverse_reactions,classification,next_date\n"
)

// TestImportProgrammes: a county's legacy follow-ups import in the same run
// as the records and their enrolments (programmes.csv before entries.csv),
// with the follow-up's own columns; a bad row anywhere writes nothing.
func TestImportProgrammes(t *testing.T) {
	db := pgtest.NewDB(t)
	pgtest.NewFixture(t, db)
	ctx := context.Background()
	const rec = "3301271021010007"

	fs := aCounty()
	fs["programmes.csv"] = programmesHeader +
		rec + ",hypertension,2022-01-01,\n" +
		rec + ",type2_diabetes,2022-02-01,active\n"
	fs["entries.csv"] = followupHeader +
		rec + ",exam,2024-03-01,docC,130,80,160.5,55,,,,,,,,,\n" +
		rec + ",followup,2024-04-01,docC,150,95,,61.5,hypertension,clinic,头晕;乏力,,低盐饮食,intermittent,,unsatisfactory,2024-05-01\n" +
		rec + ",followup,2024-04-02,docC,,,,,type2_diabetes,home,,7.8,,regular,,satisfactory,\n" +
		// legacy: only the common columns, the programme named
		rec + ",followup,2023-04-02,docC,,,,,hypertension,,,,,,,,\n"

	t.Run("Bad", func(t *testing.T) {
		bad := map[string]string{}
		for k, v := range fs {
			bad[k] = v
		}
		bad["programmes.csv"] = programmesHeader +
			rec + ",hypertension,2022-01-01,\n" +
			rec + ",hypertension,2022-03-01,active\n" + // 3: a second active one
			rec + ",flu,2022-01-01,\n" + // 4: no such programme
			rec + ",elderly,2021-01-01,ended\n" + // 5: ended without its date
			"3301271021019999,elderly,2022-01-01,\n" + // 6: no such record
			rec + ",maternal,2099-01-01,\n" // 7: in the future
		bad["entries.csv"] = followupHeader +
			rec + ",followup,2024-04-01,docC,,,,,hypertension,bike,,,,often,,great,2024-03-01\n" + // 2: method, adherence, classification, next_date
			rec + ",visit,2024-04-01,docC,,,,,,clinic,,,,,,,\n" + // 3: follow-up column on a visit
			rec + ",followup,2024-04-01,docC,,,,,type2_diabetes,,,99,,,,,\n" + // 4: glucose out of range; not enrolled (line 3 bad)
			rec + ",followup,2024-04-01,docC,,,170,,hypertension,,,,,,,,\n" // 5: height on a follow-up
		before := tables(t, db)
		rep := run(t, db, files(t, bad), admin(false))
		got := map[string]bool{}
		for _, p := range rep.Errors {
			got[p.File+":"+itoa(p.Line)+":"+p.Field] = true
		}
		for _, w := range []string{"programmes.csv:3:programme", "programmes.csv:4:programme", "programmes.csv:5:ended_on",
			"programmes.csv:6:record_id", "programmes.csv:7:enrolled_on",
			"entries.csv:2:method", "entries.csv:2:adherence", "entries.csv:2:classification", "entries.csv:2:next_date",
			"entries.csv:3:method", "entries.csv:4:fasting_glucose", "entries.csv:4:programme", "entries.csv:5:height_cm"} {
			if !got[w] {
				t.Errorf("missing problem %s in %+v", w, rep.Errors)
			}
		}
		if got["programmes.csv:2:programme"] {
			t.Errorf("good row refused: %+v", rep.Errors)
		}
		if rep.OK || !equalMaps(before, tables(t, db)) || count(t, db, `SELECT count(*) FROM enrolments`) != 0 {
			t.Errorf("a run with bad rows wrote something")
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		rep := run(t, db, files(t, fs), admin(true))
		if !rep.OK || rep.Counts["programmes.csv"].Rows != 2 {
			t.Fatalf("%+v %+v", rep.Errors, rep.Counts)
		}
		if n := count(t, db, `SELECT count(*) FROM enrolments`); n != 0 {
			t.Errorf("dry run wrote %d enrolments", n)
		}
	})

	t.Run("OK", func(t *testing.T) {
		rep := run(t, db, files(t, fs), admin(false))
		if !rep.OK {
			t.Fatalf("%+v", rep.Errors)
		}
		ens, _, err := db.Enrolments(ctx, rec, postgres.Page{Page: 1, PerPage: 10})
		if err != nil || len(ens) != 2 {
			t.Fatalf("enrolments = %+v, %v", ens, err)
		}
		for _, e := range ens {
			switch e.Programme {
			case entry.Hypertension:
				// The agreed next date of the latest follow-up.
				if e.LastFollowupDate.String() != "2024-04-01" || e.NextFollowupDue.String() != "2024-05-01" {
					t.Errorf("hypertension schedule = %s / %s", e.LastFollowupDate, e.NextFollowupDue)
				}
			case entry.Type2Diabetes:
				if e.NextFollowupDue.String() != "2024-07-02" {
					t.Errorf("diabetes next due = %s", e.NextFollowupDue)
				}
			}
		}
		list, _, err := db.Entries(ctx, rec, entry.KindFollowup, postgres.Page{Page: 1, PerPage: 10})
		if err != nil || len(list) != 3 {
			t.Fatalf("follow-ups = %d, %v", len(list), err)
		}
		var full *entry.Followup
		for _, e := range list {
			if f := e.(*entry.Followup); f.ServiceDate.String() == "2024-04-01" {
				full = f
			}
		}
		if full == nil || full.Method != "clinic" || full.Systolic == nil || *full.Systolic != 150 || full.Adherence != "intermittent" ||
			full.Classification != "unsatisfactory" || strings.Join(full.Symptoms, "|") != "头晕|乏力" || full.LifestyleAdvice != "低盐饮食" ||
			full.WeightKG == nil || *full.WeightKG != 61.5 || full.NextDate.String() != "2024-05-01" {
			t.Errorf("follow-up = %+v", full)
		}
		if n := count(t, db, `SELECT count(*) FROM access_log WHERE record_id = $1 AND section = 'programmes' AND action = 'write'`, rec); n != 1 {
			t.Errorf("programmes writes logged = %d, want 1 (two enrolments, one record and section)", n)
		}
		pgtest.CheckRateFacts(t, db)
	})
}

// TestImportRequester: staff.csv takes outside requesters without an
// institution (the administrator's import only).
func TestImportRequester(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	fs := map[string]string{"staff.csv": "staff_code,name,institution_code,roles,phone\nreqH,县人民医院,,requester,\n"}
	rep := run(t, db, files(t, fs), importer.Options{Actor: f.AdminA, Institutions: []string{f.InstA}})
	if rep.OK {
		t.Errorf("a records administrator imported a requester")
	}
	rep = run(t, db, files(t, fs), admin(false))
	if !rep.OK {
		t.Fatalf("%+v", rep.Errors)
	}
	st, err := db.Staff(context.Background(), "reqH")
	if err != nil || st.InstitutionCode != "" || len(st.Grants) != 1 || !st.HasIn(staff.Requester, staff.ExternalDomain) {
		t.Errorf("requester = %+v, %v", st, err)
	}
	bad := map[string]string{"staff.csv": "staff_code,name,institution_code,roles,phone\nreqI,某院,,requester@330127,\n"}
	if rep := run(t, db, files(t, bad), admin(true)); rep.OK || rep.Errors[0].Field != "roles" {
		t.Errorf("requester@county = %+v", rep.Errors)
	}
}

// TestImportProgress: the command line shows the rows checked as it goes,
// of the file's rows (every ProgressEvery rows and at the end of each file).
func TestImportProgress(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	var b strings.Builder
	b.WriteString(residentsHeader)
	n := importer.ProgressEvery + 5
	for i := 0; i < n; i++ {
		v := f.VillageA1 // at most 9999 records a village
		if i%2 == 1 {
			v = f.VillageA2
		}
		b.WriteString("," + v + ",甲,,,,,,,,,,2024-01-01,,\n")
	}
	dir := files(t, map[string]string{"residents.csv": b.String()})
	var out, progress strings.Builder
	if err := importer.RunImport(context.Background(), db, nil, []string{"--dry-run", string(dir)}, &out, &progress); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	p := progress.String()
	if !strings.Contains(p, "residents.csv") || !strings.Contains(p, itoa(importer.ProgressEvery)+" / "+itoa(n)+" rows checked") ||
		!strings.Contains(p, itoa(n)+" / "+itoa(n)+" rows checked") {
		t.Errorf("progress = %q", p)
	}
	if strings.Contains(out.String(), "rows checked") {
		t.Errorf("progress went to the report: %q", out.String())
	}
}

// TestImportKeyPopulations: programmes.csv takes the dates a schedule
// counts from as optional columns; an imported maternal enrolment with its
// LMP and an elderly one get their schedules, a legacy maternal one without
// an LMP imports without one. entries.csv refuses the key populations'
// kinds, whose required items it does not carry.
func TestImportKeyPopulations(t *testing.T) {
	db := pgtest.NewDB(t)
	pgtest.NewFixture(t, db)
	const rec = "3301271021010007"
	const header = "record_id,programme,enrolled_on,status,ended_on,end_reason,discharged_on,lmp_date,delivered_on\n"
	fs := aCounty()
	fs["programmes.csv"] = header +
		rec + ",elderly,2024-01-01,active,,,,,\n" +
		rec + ",maternal,2024-02-10,active,,,,2024-01-01,\n" +
		rec + ",maternal,2020-01-01,ended,2020-12-01,分娩,,,\n"

	t.Run("Bad", func(t *testing.T) {
		bad := map[string]string{}
		for k, v := range fs {
			bad[k] = v
		}
		bad["programmes.csv"] = header + rec + ",elderly,2024-01-01,active,,,,2024-01-01,\n"      // 2: an LMP on an elderly enrolment
		bad["entries.csv"] = followupHeader + rec + ",child_visit,2024-04-01,docC,,,,,,,,,,,,,\n" // 2: not from files
		rep := run(t, db, files(t, bad), admin(false))
		got := map[string]bool{}
		for _, p := range rep.Errors {
			got[p.File+":"+itoa(p.Line)+":"+p.Field] = true
		}
		for _, w := range []string{"programmes.csv:2:lmp_date", "entries.csv:2:kind"} {
			if !got[w] {
				t.Errorf("missing problem %s in %+v", w, rep.Errors)
			}
		}
	})

	t.Run("OK", func(t *testing.T) {
		rep := run(t, db, files(t, fs), admin(false))
		if !rep.OK {
			t.Fatalf("%+v", rep.Errors)
		}
		for programme, want := range map[string]int{"elderly": 1, "maternal": 5} {
			n := count(t, db, `SELECT count(*) FROM schedule_items WHERE record_id = '`+rec+`' AND programme = '`+programme+`'`)
			if n != want {
				t.Errorf("%s: %d scheduled services, want %d", programme, n, want)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM enrolments WHERE lmp_date = '2024-01-01'`); n != 1 {
			t.Errorf("LMP stored on %d enrolments, want 1", n)
		}
	})
}
