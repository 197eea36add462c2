package postgres_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/examform"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

func rawObject(t *testing.T, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestExamSections saves an exam's sections as drafts and finishes them
// later, against the database: answers merge, states stick, each change is
// history, and the vital signs a section patch sets reach the quality facts.
func TestExamSections(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "张三")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	e := &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse("2024-05-01"),
		Sections: examform.Sections{"symptoms": {"symptoms": []any{"2", "3"}}}}
	if _, err := db.AddExam(ctx, f.DoctorA, f.InstA, e, postgres.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if e.SectionStates["symptoms"] != examform.Draft || e.State != examform.Draft {
		t.Fatalf("new exam states %v %s", e.SectionStates, e.State)
	}
	facts := func() (complete bool) {
		t.Helper()
		if err := db.Get(&complete, `SELECT last_exam_complete FROM records WHERE record_id = $1`, r.RecordID); err != nil {
			t.Fatal(err)
		}
		return complete
	}
	if facts() {
		t.Fatal("an exam without vitals counts as complete")
	}

	t.Run("LifestyleDraftThenComplete", func(t *testing.T) {
		got, err := db.PatchExamSection(ctx, f.DoctorA, r.RecordID, e.ID, "lifestyle",
			rawObject(t, `{"exercise_frequency":"2","exercise_minutes":40,"smoking_status":"3","cigarettes_per_day":10}`), "")
		if err != nil {
			t.Fatal(err)
		}
		if got.SectionStates["lifestyle"] != examform.Draft || got.UpdatedBy != f.DoctorA || got.UpdatedAt == nil {
			t.Fatalf("after draft: %v by %q at %v", got.SectionStates, got.UpdatedBy, got.UpdatedAt)
		}
		_, err = db.PatchExamSection(ctx, f.DoctorA, r.RecordID, e.ID, "lifestyle", rawObject(t, `{}`), examform.Complete)
		if fe := errFieldsOf(err); fe["lifestyle.diet"] == "" || fe["lifestyle.drinking_frequency"] == "" {
			t.Fatalf("completing an unfinished section: %v", err)
		}
		got, err = db.PatchExamSection(ctx, f.DoctorA, r.RecordID, e.ID, "lifestyle",
			rawObject(t, `{"diet":["1"],"drinking_frequency":"1","occupational_exposure":"1"}`), examform.Complete)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := db.RecordExam(ctx, r.RecordID, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.SectionStates["lifestyle"] != examform.Complete || stored.Sections["lifestyle"]["exercise_minutes"] != 40.0 ||
			stored.Sections["symptoms"] == nil {
			t.Fatalf("stored %v %v", stored.SectionStates, stored.Sections)
		}
	})

	t.Run("RefusedPatchWritesNothing", func(t *testing.T) {
		before, _ := db.RecordExam(ctx, r.RecordID, e.ID)
		_, err := db.PatchExamSection(ctx, f.DoctorA, r.RecordID, e.ID, "tests", rawObject(t, `{"haemoglobin":130,"creatinine":5000}`), "")
		if fe := errFieldsOf(err); fe["tests.creatinine"] == "" {
			t.Fatalf("out-of-range creatinine: %v", err)
		}
		after, _ := db.RecordExam(ctx, r.RecordID, e.ID)
		if after.Sections["tests"] != nil || !after.UpdatedAt.Equal(*before.UpdatedAt) {
			t.Fatalf("a refused patch wrote: %v", after.Sections["tests"])
		}
	})

	t.Run("VitalsReachTheFacts", func(t *testing.T) {
		_, err := db.PatchExamSection(ctx, f.DoctorA, r.RecordID, e.ID, "general",
			rawObject(t, `{"systolic":128,"diastolic":82,"height_cm":170,"weight_kg":68}`), "")
		if err != nil {
			t.Fatal(err)
		}
		if !facts() {
			t.Fatal("Q11's facts did not follow the general section")
		}
		var differ bool
		if err := db.Get(&differ, `SELECT (r.last_exam_complete, r.exam_ok_on) IS DISTINCT FROM (f.last_exam_complete, f.exam_ok_on)
			FROM records r JOIN record_rate_facts f USING (record_id) WHERE record_id = $1`, r.RecordID); err != nil || differ {
			t.Fatalf("stored facts differ from their definition: %v %v", differ, err)
		}
		if _, err := db.PatchExamSection(ctx, f.DoctorA, r.RecordID, e.ID, "general", rawObject(t, `{"weight_kg":null}`), ""); err != nil {
			t.Fatal(err)
		}
		if facts() {
			t.Fatal("clearing the weight left the exam complete")
		}
	})

	t.Run("History", func(t *testing.T) {
		h, _, err := db.History(ctx, r.RecordID, postgres.Page{PerPage: 50})
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]record.Change{}
		for _, x := range h {
			if x.Action != "exam" {
				continue
			}
			for k, c := range x.Changes {
				if _, ok := found[k]; !ok {
					found[k] = c // newest first
				}
			}
		}
		prefix := "exam " + strconv.FormatInt(e.ID, 10) + " "
		if c := found[prefix+"lifestyle.state"]; c.After != examform.Complete {
			t.Errorf("state change %v", c)
		}
		if c := found[prefix+"general.weight_kg"]; c.Before != 68.0 || c.After != nil {
			t.Errorf("weight change %+v", c)
		}
		if _, ok := found[prefix+"tests.haemoglobin"]; ok {
			t.Error("a refused patch is in the history")
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		other := newRecord(f.VillageA1, "李四")
		if err := db.FileRecord(ctx, f.DoctorA, other); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PatchExamSection(ctx, f.DoctorA, other.RecordID, e.ID, "symptoms", rawObject(t, `{}`), ""); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("exam of another record: %v", err)
		}
		if _, err := db.RecordExam(ctx, other.RecordID, e.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("read of another record's exam: %v", err)
		}
		if _, err := db.PatchExamSection(ctx, f.DoctorA, r.RecordID, e.ID, "dreams", rawObject(t, `{}`), ""); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("unknown section: %v", err)
		}
	})

	t.Run("ErrRecordNotActive", func(t *testing.T) {
		gone := newRecord(f.VillageA1, "王五")
		if err := db.FileRecord(ctx, f.DoctorA, gone); err != nil {
			t.Fatal(err)
		}
		x := &record.Exam{RecordID: gone.RecordID, ExamDate: civil.MustParse("2024-05-01")}
		if _, err := db.AddExam(ctx, f.DoctorA, f.InstA, x, postgres.Idempotency{}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ChangeStatus(ctx, f.DoctorA, gone.RecordID, postgres.StatusChange{Status: record.MovedOut,
			StatusDate: civil.Of(db.Today()), Destination: "杭州"}); err != nil {
			t.Fatal(err)
		}
		_, err := db.PatchExamSection(ctx, f.DoctorA, gone.RecordID, x.ID, "symptoms", rawObject(t, `{"symptoms":["1"]}`), "")
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("a moved-out record's exam: %v", err)
		}
	})
}

// TestExamSectionsConcurrent saves every section of one exam at once: none
// is lost, as each save reads the exam under its lock.
func TestExamSectionsConcurrent(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "张三")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	e := &record.Exam{RecordID: r.RecordID, ExamDate: civil.MustParse("2024-05-01")}
	if _, err := db.AddExam(ctx, f.DoctorA, f.InstA, e, postgres.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	patches := map[string]string{
		"symptoms": `{"symptoms":["1"]}`, "general": `{"systolic":120,"diastolic":80,"height_cm":160,"weight_kg":60}`,
		"lifestyle": `{"smoking_status":"1"}`, "organs": `{"hearing":"1"}`, "physical": `{"skin":"1"}`, "tests": `{"haemoglobin":130}`,
		"problems": `{"neurological":"1"}`, "hospital": `{"admissions":[]}`, "medication": `{"medicines":[{"name":"二甲双胍"}]}`,
		"vaccinations": `{"vaccinations":[]}`, "assessment": `{"evaluation":"1"}`,
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(patches))
	for section, body := range patches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.PatchExamSection(ctx, f.DoctorA, r.RecordID, e.ID, section, rawObject(t, body), "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.RecordExam(ctx, r.RecordID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	for section := range patches {
		if got.SectionStates[section] != examform.Draft {
			t.Errorf("section %s lost: %v", section, got.SectionStates)
		}
	}
	if got.Systolic == nil || got.Sections["tests"]["haemoglobin"] != 130.0 {
		t.Errorf("answers lost: %+v", got.Sections)
	}
}

func errFieldsOf(err error) map[string]string {
	out := map[string]string{}
	if e, ok := apperr.As(err); ok {
		for _, f := range e.Fields {
			out[f.Field] = f.Reason
		}
	}
	return out
}
