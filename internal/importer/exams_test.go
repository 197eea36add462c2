package importer_test

import (
	"context"
	"strings"
	"testing"

	"healthrec/internal/examform"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

// TestImportExamSections: entries.csv takes the health examination table's
// items as optional columns named "<section>.<item>", and the vital signs
// beyond blood pressure, height and weight; each is checked as the API
// checks it, and a section the file answers in full is complete.
func TestImportExamSections(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	ctx := context.Background()
	r := &record.Record{VillageCode: f.VillageA1, Name: "体检", Sex: "F", BirthDate: mustDate("1950-01-01")}
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	header := strings.TrimSuffix(entriesHeader, "\n") + ",temperature,pulse,waist_cm,fasting_glucose,symptoms.symptoms,lifestyle.smoking_status," +
		"lifestyle.cigarettes_per_day,tests.haemoglobin,medication.medicines,assessment.evaluation,assessment.abnormalities\n"

	t.Run("Bad", func(t *testing.T) {
		fs := map[string]string{"entries.csv": header +
			r.RecordID + ",exam,2024-03-01,docA,,,,,,,,,1|2,,,,,,\n" + // 2: 无症状 with another
			r.RecordID + ",exam,2024-03-01,docA,,,,,,,,,,1,10,,,,\n" + // 3: a never-smoker's cigarettes
			r.RecordID + ",exam,2024-03-01,docA,,,,,,,,,,,,400,,,\n" + // 4: haemoglobin out of range
			r.RecordID + ",exam,2024-03-01,docA,,,,,52,,,,,,,,,,\n" + // 5: temperature out of range
			r.RecordID + `,exam,2024-03-01,docA,,,,,,,,,,,,,"[{""dose"":""5mg""}]",,` + "\n" + // 6: a medicine without its name
			r.RecordID + ",visit,2024-03-01,docA,,,,,,,,,2,,,,,,\n", // 7: an exam item on a visit
		}
		rep := run(t, db, files(t, fs), admin(true))
		got := map[string]bool{}
		for _, p := range rep.Errors {
			got[itoa(p.Line)+":"+p.Field] = true
		}
		want := []string{"2:symptoms.symptoms", "3:lifestyle.cigarettes_per_day", "4:tests.haemoglobin", "5:temperature",
			"6:medication.medicines", "7:symptoms.symptoms"}
		for _, w := range want {
			if !got[w] {
				t.Errorf("missing %s in %+v", w, rep.Errors)
			}
		}
		if len(got) != len(want) {
			t.Errorf("problems %v, want %v", got, want)
		}
	})

	t.Run("OK", func(t *testing.T) {
		fs := map[string]string{"entries.csv": header +
			r.RecordID + `,exam,2024-03-01,docA,150,95,158,60,36.5,78,82,7.2,2、3,3,10,118,"[{""name"":""二甲双胍"",""dose"":""0.5g"",""adherence"":""1""}]",2,血压升高|血糖升高` + "\n" +
			r.RecordID + ",exam,2023-03-01,docA,130,80,158,61,,,,,,,,,,,\n",
		}
		rep := run(t, db, files(t, fs), admin(false))
		if !rep.OK {
			t.Fatalf("%+v", rep.Errors)
		}
		exams, _, err := db.Exams(ctx, r.RecordID, postgres.Page{})
		if err != nil || len(exams) != 2 {
			t.Fatalf("%d exams, %v", len(exams), err)
		}
		e := exams[0]
		if e.Temperature == nil || *e.Temperature != 36.5 || *e.Pulse != 78 || *e.FastingGlucose != 7.2 {
			t.Fatalf("vitals %+v", e)
		}
		if got := e.Sections["symptoms"]["symptoms"]; len(got.([]any)) != 2 || e.SectionStates["symptoms"] != examform.Complete {
			t.Fatalf("symptoms %v %v", got, e.SectionStates)
		}
		if e.SectionStates["lifestyle"] != examform.Draft || e.SectionStates["medication"] != examform.Complete ||
			e.SectionStates["assessment"] != examform.Complete || e.State != examform.Draft {
			t.Fatalf("states %v, exam %s", e.SectionStates, e.State)
		}
		if ab := e.Sections["assessment"]["abnormalities"].([]any); len(ab) != 2 || ab[1] != "血糖升高" {
			t.Fatalf("abnormalities %v", ab)
		}
		if old := exams[1]; len(old.Sections) != 0 || len(old.SectionStates) != 0 || old.State != examform.Draft {
			t.Fatalf("a legacy exam without the new columns: %+v", old)
		}
	})
}
