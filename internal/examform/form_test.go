package examform

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

var today = civil.MustParse("2026-06-01")

func patch(t *testing.T, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func section(t *testing.T, key string) *Section {
	t.Helper()
	s, ok := Lookup(key)
	if !ok {
		t.Fatalf("no section %s", key)
	}
	return s
}

// fields returns the fields of an error, field → reason.
func fields(err error) map[string]string {
	out := map[string]string{}
	if e, ok := apperr.As(err); ok {
		for _, f := range e.Fields {
			out[f.Field] = f.Reason
		}
	}
	return out
}

func TestForm(t *testing.T) {
	t.Run("SymptomListIsTheForms25", func(t *testing.T) {
		f, _ := section(t, "symptoms").Field("symptoms")
		if got, want := len(f.Codes), 25; got != want {
			t.Fatalf("symptoms: %d codes, want %d", got, want)
		}
		if f.Codes[0].Label != "无症状" || f.Codes[24].Label != "其他" || f.Exclusive != "1" {
			t.Fatalf("symptoms list: %v, exclusive %q", f.Codes, f.Exclusive)
		}
	})
	t.Run("KeysUniqueAndCodesNumbered", func(t *testing.T) {
		seen := map[string]bool{}
		for _, s := range Form {
			if seen["section:"+s.Key] {
				t.Errorf("section %s twice", s.Key)
			}
			seen["section:"+s.Key] = true
			keys := map[string]bool{}
			for _, f := range s.Fields {
				if keys[f.Key] {
					t.Errorf("%s.%s twice", s.Key, f.Key)
				}
				keys[f.Key] = true
				for i, c := range f.Codes {
					if c.Code != itoa(i+1) || c.Label == "" {
						t.Errorf("%s.%s code %d: %+v", s.Key, f.Key, i, c)
					}
				}
				if (f.Kind == Choice || f.Kind == Multi) && len(f.Codes) < 2 {
					t.Errorf("%s.%s: a choice without a list", s.Key, f.Key)
				}
				if f.Kind == Number && (f.Min == nil || f.Max == nil || *f.Min >= *f.Max) {
					t.Errorf("%s.%s: no plausible range", s.Key, f.Key)
				}
			}
		}
		if got, want := len(Form), 11; got != want {
			t.Fatalf("%d sections, want %d", got, want)
		}
	})
	t.Run("ColumnsAreTheExamsTypedFields", func(t *testing.T) {
		var cols []string
		for _, s := range Form {
			for _, f := range s.Fields {
				if f.Column {
					cols = append(cols, f.Key)
				}
			}
		}
		want := "temperature pulse respiration systolic diastolic systolic_right diastolic_right height_cm weight_kg waist_cm bmi fasting_glucose"
		if got := strings.Join(cols, " "); got != want {
			t.Fatalf("columns %q, want %q", got, want)
		}
	})
}

func TestApply(t *testing.T) {
	cases := []struct {
		name, section, cur, patch string
		field, reason             string // an error on field with reason containing this
		want                      string // else the merged answers as JSON
	}{
		{name: "OK", section: "symptoms", patch: `{"symptoms": ["2","3"]}`, want: `{"symptoms":["2","3"]}`},
		{name: "NoSymptomsIsAnAnswer", section: "symptoms", patch: `{"symptoms": ["1"]}`, want: `{"symptoms":["1"]}`},
		{name: "NoSymptomsStandsAlone", section: "symptoms", patch: `{"symptoms": ["1","2"]}`, field: "symptoms.symptoms", reason: "无症状"},
		{name: "UnknownCode", section: "symptoms", patch: `{"symptoms": ["26"]}`, field: "symptoms.symptoms", reason: "不是有效代码"},
		{name: "DuplicateCode", section: "symptoms", patch: `{"symptoms": ["2","2"]}`, field: "symptoms.symptoms", reason: "重复"},
		{name: "EmptyListRefused", section: "symptoms", patch: `{"symptoms": []}`, field: "symptoms.symptoms", reason: "至少"},
		{name: "OtherNeedsText", section: "symptoms", patch: `{"symptoms": ["25"]}`, field: "symptoms.symptoms_other", reason: "其他"},
		{name: "UnknownItem", section: "symptoms", patch: `{"smell": "1"}`, field: "symptoms.smell", reason: "不是"},
		{name: "MergeKeepsAndClears", section: "lifestyle", cur: `{"exercise_frequency":"1","exercise_minutes":30,"exercise_kind":"快走"}`,
			patch: `{"exercise_minutes": 45, "exercise_kind": null}`, want: `{"exercise_frequency":"1","exercise_minutes":45}`},
		{name: "EmptyTextClears", section: "lifestyle", cur: `{"exercise_kind":"快走"}`, patch: `{"exercise_kind": "  "}`, want: `{}`},
		{name: "IntegerOnly", section: "lifestyle", patch: `{"cigarettes_per_day": 2.5}`, field: "lifestyle.cigarettes_per_day", reason: "整数"},
		{name: "NeverSmokerHasNoCigarettes", section: "lifestyle", patch: `{"smoking_status":"1","cigarettes_per_day":10}`, field: "lifestyle.cigarettes_per_day", reason: "从不吸烟"},
		{name: "QuitAgeAfterStart", section: "lifestyle", patch: `{"smoking_status":"2","smoking_start_age":30,"smoking_quit_age":20}`, field: "lifestyle.smoking_quit_age", reason: "不能小于"},
		{name: "QuitAgeOnlyWhenQuit", section: "lifestyle", patch: `{"smoking_status":"3","smoking_quit_age":50}`, field: "lifestyle.smoking_quit_age", reason: "已戒烟"},
		{name: "NoExposureNoHazard", section: "lifestyle", patch: `{"occupational_exposure":"1","dust":"煤尘"}`, field: "lifestyle.dust", reason: "无职业病"},
		{name: "ExposureWithHazard", section: "lifestyle", patch: `{"occupational_exposure":"2","occupation_kind":"矿工","occupation_years":12,"dust":"煤尘","dust_protection":"2"}`,
			want: `{"dust":"煤尘","dust_protection":"2","occupation_kind":"矿工","occupation_years":12,"occupational_exposure":"2"}`},
		{name: "DietAtMostThree", section: "lifestyle", patch: `{"diet":["2","4","5","6"]}`, field: "lifestyle.diet", reason: "最多"},
		{name: "ChoiceIsAString", section: "organs", patch: `{"lips": 1}`, field: "organs.lips", reason: "字符串"},
		{name: "VisionRange", section: "organs", patch: `{"vision_left": 7}`, field: "organs.vision_left", reason: "合理范围"},
		{name: "HaemoglobinOutOfRange", section: "tests", patch: `{"haemoglobin": 400}`, field: "tests.haemoglobin", reason: "20–250 g/L"},
		{name: "CreatinineOutOfRange", section: "tests", patch: `{"creatinine": 5}`, field: "tests.creatinine", reason: "μmol/L"},
		{name: "UrineGrade", section: "tests", patch: `{"urine_protein": "3"}`, want: `{"urine_protein":"3"}`},
		{name: "ConjugatedNotAboveTotal", section: "tests", patch: `{"total_bilirubin": 10, "conjugated_bilirubin": 12}`, field: "tests.conjugated_bilirubin", reason: "总胆红素"},
		{name: "LDLNotAboveTC", section: "tests", patch: `{"total_cholesterol": 4, "ldl": 5}`, field: "tests.ldl", reason: "总胆固醇"},
		{name: "ColumnsPassThrough", section: "tests", patch: `{"fasting_glucose": 6.1}`, want: `{}`},
		{name: "BMIIsDerived", section: "general", patch: `{"bmi": 22}`, field: "bmi", reason: "计算"},
		{name: "ScoreOnlyWhenPositive", section: "general", patch: `{"elderly_cognition":"1","elderly_cognition_score":20}`, field: "general.elderly_cognition_score", reason: "粗筛阳性"},
		{name: "ScoreWhenPositive", section: "general", patch: `{"elderly_cognition":"2","elderly_cognition_score":20}`, want: `{"elderly_cognition":"2","elderly_cognition_score":20}`},
		{name: "StayDates", section: "hospital", patch: `{"admissions":[{"from":"2026-03-01","to":"2026-02-01","reason":"肺炎"}]}`, field: "hospital.admissions[0].to", reason: "早于"},
		{name: "StayNeedsStart", section: "hospital", patch: `{"admissions":[{"reason":"肺炎"}]}`, field: "hospital.admissions", reason: "入院日期"},
		{name: "NoStaysIsAnAnswer", section: "hospital", patch: `{"admissions":[]}`, want: `{"admissions":[]}`},
		{name: "FutureDate", section: "vaccinations", patch: `{"vaccinations":[{"name":"流感疫苗","date":"2027-01-01"}]}`, field: "vaccinations.vaccinations", reason: "晚于今天"},
		{name: "MedicineRow", section: "medication", patch: `{"medicines":[{"name":"硝苯地平缓释片","usage":"口服","dose":"20mg","duration":"2年","adherence":"1"}]}`,
			want: `{"medicines":[{"adherence":"1","dose":"20mg","duration":"2年","name":"硝苯地平缓释片","usage":"口服"}]}`},
		{name: "MedicineUnknownColumn", section: "medication", patch: `{"medicines":[{"name":"x","colour":"red"}]}`, field: "medication.medicines", reason: "colour"},
		{name: "AdherenceCode", section: "medication", patch: `{"medicines":[{"name":"x","adherence":"4"}]}`, field: "medication.medicines", reason: "服药依从性"},
		{name: "AbnormalNeedsItems", section: "assessment", patch: `{"evaluation":"2"}`, field: "assessment.abnormalities", reason: "至少"},
		{name: "NormalHasNone", section: "assessment", patch: `{"evaluation":"1","abnormalities":["血压偏高"]}`, field: "assessment.abnormalities", reason: "无异常"},
		{name: "WeightTargetWithCode", section: "assessment", patch: `{"evaluation":"1","weight_target":60}`, field: "assessment.weight_target", reason: "减体重"},
		{name: "Assessment", section: "assessment", patch: `{"evaluation":"2","abnormalities":["血压偏高","空腹血糖受损"],"risk_factors":["1","5"],"weight_target":65}`,
			want: `{"abnormalities":["血压偏高","空腹血糖受损"],"evaluation":"2","risk_factors":["1","5"],"weight_target":65}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cur Values
			if c.cur != "" {
				if err := json.Unmarshal([]byte(c.cur), &cur); err != nil {
					t.Fatal(err)
				}
			}
			got, _, err := section(t, c.section).Apply(cur, patch(t, c.patch), today)
			if c.field != "" {
				if reason, ok := fields(err)[c.field]; !ok || !strings.Contains(reason, c.reason) {
					t.Fatalf("error %v, want %s: …%s…", err, c.field, c.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if string(b) != c.want {
				t.Fatalf("got %s, want %s", b, c.want)
			}
		})
	}
}

func TestApplyReturnsColumns(t *testing.T) {
	v, cols, err := section(t, "general").Apply(nil, patch(t, `{"systolic": 130, "diastolic": 80, "elderly_affect": "1"}`), today)
	if err != nil {
		t.Fatal(err)
	}
	if string(cols["systolic"]) != "130" || string(cols["diastolic"]) != "80" || len(v) != 1 {
		t.Fatalf("values %v, columns %v", v, cols)
	}
}

func TestMissing(t *testing.T) {
	t.Run("GeneralNeedsBloodPressureEitherSide", func(t *testing.T) {
		cols := Values{"temperature": 36.5, "pulse": 70.0, "respiration": 16.0, "height_cm": 160.0, "weight_kg": 60.0, "waist_cm": 80.0}
		if got := fields(section(t, "general").Missing(nil, cols)); len(got) != 1 || got["systolic"] == "" {
			t.Fatalf("missing %v, want systolic only", got)
		}
		cols["systolic_right"], cols["diastolic_right"] = 120.0, 80.0
		if err := section(t, "general").Missing(nil, cols); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("LifestyleRequired", func(t *testing.T) {
		got := fields(section(t, "lifestyle").Missing(Values{"exercise_frequency": "4"}, nil))
		for _, k := range []string{"lifestyle.diet", "lifestyle.smoking_status", "lifestyle.drinking_frequency", "lifestyle.occupational_exposure"} {
			if got[k] == "" {
				t.Errorf("%s not missing: %v", k, got)
			}
		}
		if _, ok := got["lifestyle.exercise_frequency"]; ok {
			t.Errorf("an answered item is missing")
		}
	})
	t.Run("ListSectionsCompleteEmpty", func(t *testing.T) {
		for _, k := range []string{"hospital", "medication", "vaccinations"} {
			if err := section(t, k).Missing(nil, nil); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
	})
}

func TestState(t *testing.T) {
	st := States{}
	for _, s := range Form {
		st[s.Key] = Complete
	}
	if State(st) != Complete {
		t.Fatal("all complete is not complete")
	}
	st["tests"] = Draft
	if State(st) != Draft {
		t.Fatal("a draft section leaves the exam complete")
	}
}

func TestAnswer(t *testing.T) {
	s := section(t, "medication")
	f, _ := s.Field("medicines")
	v, _, err := s.Apply(nil, patch(t, `{"medicines":[{"name":"二甲双胍","dose":"0.5g","adherence":"2"}]}`), today)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Answer(v["medicines"]), "1. 药物名称 二甲双胍，用量 0.5g，服药依从性 间断"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := f.Answer([]any{}); got != "无" {
		t.Fatalf("no rows: %q", got)
	}
	sym, _ := section(t, "symptoms").Field("symptoms")
	if got := sym.Answer([]any{"2", "25"}); got != "头痛、其他" {
		t.Fatalf("symptoms: %q", got)
	}
	hb, _ := section(t, "tests").Field("haemoglobin")
	if got := hb.Answer(135.0); got != "135 g/L" {
		t.Fatalf("haemoglobin: %q", got)
	}
}

// TestDocsListTheForm: docs/spec-summary.md lists every item of the form by
// key, and every answer of its code lists, so the docs cannot drift from
// the code.
func TestDocsListTheForm(t *testing.T) {
	b, err := os.ReadFile("../../docs/spec-summary.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, s := range Form {
		if !strings.Contains(doc, "**"+s.Label+"** (`"+s.Key+"`)") {
			t.Errorf("section %s (%s) not in the docs", s.Key, s.Label)
		}
		for _, f := range s.Fields {
			if !strings.Contains(doc, "| `"+f.Key+"` | "+f.Label+" |") {
				t.Errorf("%s.%s not in the docs", s.Key, f.Key)
			}
			for _, c := range f.Codes {
				if !strings.Contains(doc, c.Code+" "+c.Label) {
					t.Errorf("%s.%s code %s %s not in the docs", s.Key, f.Key, c.Code, c.Label)
				}
			}
		}
	}
}
