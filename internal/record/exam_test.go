package record

import (
	"encoding/json"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/examform"
)

func rawPatch(t *testing.T, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func errFields(err error) map[string]string {
	out := map[string]string{}
	if e, ok := apperr.As(err); ok {
		for _, f := range e.Fields {
			out[f.Field] = f.Reason
		}
	}
	return out
}

func TestExamSections(t *testing.T) {
	today := civil.MustParse("2026-06-01")
	fresh := func() *Exam { return &Exam{ExamDate: civil.MustParse("2026-05-20")} }

	t.Run("GeneralPatchSetsColumns", func(t *testing.T) {
		e := fresh()
		err := e.ApplySection("general", rawPatch(t, `{"systolic":132,"diastolic":84,"height_cm":165,"weight_kg":70,"elderly_affect":"1"}`), "", today)
		if err != nil {
			t.Fatal(err)
		}
		if *e.Systolic != 132 || *e.HeightCM != 165 || e.BMI == nil || *e.BMI != 25.7 || !e.Complete() {
			t.Fatalf("columns not set: %+v", e)
		}
		if got := e.Sections["general"]["elderly_affect"]; got != "1" {
			t.Fatalf("section answers %v", e.Sections["general"])
		}
		if e.SectionStates["general"] != examform.Draft || e.State != examform.Draft {
			t.Fatalf("states %v, %s", e.SectionStates, e.State)
		}
		// null clears a column, as it clears an item.
		if err := e.ApplySection("general", rawPatch(t, `{"waist_cm":80}`), "", today); err != nil || *e.Systolic != 132 {
			t.Fatalf("a second patch lost the first: %v %+v", err, e)
		}
		if err := e.ApplySection("general", rawPatch(t, `{"systolic":null,"diastolic":null}`), "", today); err != nil || e.Systolic != nil {
			t.Fatalf("null did not clear: %v", err)
		}
	})
	t.Run("ColumnRangeAndInteger", func(t *testing.T) {
		e := fresh()
		got := errFields(e.ApplySection("general", rawPatch(t, `{"pulse":72.5,"height_cm":400}`), "", today))
		if got["pulse"] == "" || got["height_cm"] == "" {
			t.Fatalf("errors %v", got)
		}
	})
	t.Run("CompleteNeedsRequired", func(t *testing.T) {
		e := fresh()
		got := errFields(e.ApplySection("general", rawPatch(t, `{"temperature":36.6}`), examform.Complete, today))
		for _, k := range []string{"pulse", "respiration", "height_cm", "weight_kg", "waist_cm", "systolic"} {
			if got[k] == "" {
				t.Errorf("%s not asked for: %v", k, got)
			}
		}
	})
	t.Run("AllCompleteIsComplete", func(t *testing.T) {
		e := fresh()
		e.SectionStates = examform.States{}
		for _, s := range examform.Form {
			e.SectionStates[s.Key] = examform.Complete
		}
		e.SectionStates["general"] = examform.Draft
		e.Sections = examform.Sections{
			"symptoms": {"symptoms": []any{"1"}},
			"lifestyle": {"exercise_frequency": "4", "diet": []any{"1"}, "smoking_status": "1", "drinking_frequency": "1",
				"occupational_exposure": "1"},
			"organs": {"lips": "1", "dentition": []any{"1"}, "pharynx": "1", "vision_left": 1.0, "vision_right": 1.0, "hearing": "1", "motor": "1"},
			"physical": {"skin": "1", "sclera": "1", "lymph_nodes": "1", "barrel_chest": "1", "breath_sounds": "1", "rales": "1",
				"heart_rate": 72.0, "heart_rhythm": "1", "heart_murmur": "1", "abdominal_tenderness": "1", "abdominal_mass": "1",
				"hepatomegaly": "1", "splenomegaly": "1", "shifting_dullness": "1", "leg_oedema": "1"},
			"problems": {"cerebrovascular": []any{"1"}, "kidney": []any{"1"}, "heart": []any{"1"}, "vascular": []any{"1"},
				"eye": []any{"1"}, "neurological": "1", "other_system": "1"},
			"assessment": {"evaluation": "1"},
		}
		if err := e.Validate(today); err != nil {
			t.Fatal(err)
		}
		if e.State != examform.Draft {
			t.Fatal("complete with a draft section")
		}
		err := e.ApplySection("general", rawPatch(t, `{"temperature":36.6,"pulse":70,"respiration":16,"systolic_right":120,"diastolic_right":78,
			"height_cm":160,"weight_kg":55,"waist_cm":75}`), examform.Complete, today)
		if err != nil {
			t.Fatal(err)
		}
		if e.State != examform.Complete {
			t.Fatalf("state %s, states %v", e.State, e.SectionStates)
		}
	})
	t.Run("UnknownSectionAndState", func(t *testing.T) {
		e := fresh()
		if err := e.ApplySection("dreams", nil, "", today); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("unknown section: %v", err)
		}
		e.Sections = examform.Sections{"dreams": {}}
		e.SectionStates = examform.States{"symptoms": "done"}
		got := errFields(e.Validate(today))
		if got["sections.dreams"] == "" || got["section_states.symptoms"] == "" {
			t.Fatalf("errors %v", got)
		}
	})
	t.Run("ColumnInsideSectionRefused", func(t *testing.T) {
		e := fresh()
		e.Sections = examform.Sections{"general": {"systolic": 120.0}}
		if got := errFields(e.Validate(today)); got["general.systolic"] == "" {
			t.Fatalf("errors %v", got)
		}
	})
}
