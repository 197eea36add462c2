package record

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// filled is a table with every item answered, some of them "none".
func filled() BasicInfo {
	return BasicInfo{BloodABO: "1", BloodRh: "2", Education: "7", Occupation: "4", MaritalStatus: "2",
		PaymentTypes: []string{"3", "8"}, PaymentOther: "大病保险", DrugAllergies: []string{"2", "5"}, AllergyOther: "头孢",
		Exposures: []string{"1"}, PastDiseases: []PastDisease{{Code: "2", DiagnosedOn: "2015-06"}},
		Operations: []Event{{Name: "阑尾切除术", Date: "1998-07-12"}}, Traumas: []Event{}, Transfusions: []Event{},
		FamilyFather: []string{"2", "7"}, FamilyMother: []string{"1"}, FamilySiblings: []string{"1"}, FamilyChildren: []string{"12"},
		FamilyOther: "痛风", HereditaryDiseases: []string{}, Disabilities: []string{"1"}, KitchenExhaust: "2", Fuel: "1",
		Water: "1", Toilet: "1", LivestockPen: "1"}
}

func TestBasicInfoValidate(t *testing.T) {
	today := civil.MustParse("2026-11-23")
	tests := []struct {
		name   string
		mutate func(b *BasicInfo)
		fields []string
	}{
		{"OK", func(b *BasicInfo) {}, nil},
		{"NothingRecorded", func(b *BasicInfo) { *b = BasicInfo{} }, nil},
		{"UnknownABO", func(b *BasicInfo) { b.BloodABO = "A" }, []string{"blood_abo"}},
		{"UnknownRh", func(b *BasicInfo) { b.BloodRh = "4" }, []string{"blood_rh"}},
		{"UnknownEducation", func(b *BasicInfo) { b.Education = "11" }, []string{"education"}},
		{"UnknownOccupation", func(b *BasicInfo) { b.Occupation = "9" }, []string{"occupation"}},
		{"UnknownMarital", func(b *BasicInfo) { b.MaritalStatus = "已婚" }, []string{"marital_status"}},
		{"UnknownPayment", func(b *BasicInfo) { b.PaymentTypes = []string{"1", "9"} }, []string{"payment_types"}},
		{"PaymentOtherWithoutCode", func(b *BasicInfo) { b.PaymentTypes = []string{"1"} }, []string{"payment_other"}},
		{"AllergyNoneWithOthers", func(b *BasicInfo) { b.DrugAllergies = []string{"1", "2"}; b.AllergyOther = "" }, []string{"drug_allergies"}},
		{"UnknownExposure", func(b *BasicInfo) { b.Exposures = []string{"5"} }, []string{"exposures"}},
		{"DiseaseNoneIsEmptyList", func(b *BasicInfo) { b.PastDiseases = []PastDisease{{Code: "1", DiagnosedOn: "2015-06"}} }, []string{"past_diseases"}},
		{"DiseaseWithoutDate", func(b *BasicInfo) { b.PastDiseases[0].DiagnosedOn = "" }, []string{"past_diseases"}},
		{"DiseaseFutureDate", func(b *BasicInfo) { b.PastDiseases[0].DiagnosedOn = "2026-12" }, []string{"past_diseases"}},
		{"DiseaseImpossibleDate", func(b *BasicInfo) { b.PastDiseases[0].DiagnosedOn = "2015-13" }, []string{"past_diseases"}},
		{"OperationWithoutName", func(b *BasicInfo) { b.Operations[0].Name = " " }, []string{"operations"}},
		{"TraumaBadDate", func(b *BasicInfo) { b.Traumas = []Event{{Name: "骨折", Date: "2020/01/01"}} }, []string{"traumas"}},
		{"TransfusionOK", func(b *BasicInfo) { b.Transfusions = []Event{{Name: "产后出血", Date: "1990-03"}} }, nil},
		{"UnknownFamily", func(b *BasicInfo) { b.FamilyMother = []string{"13"} }, []string{"family_mother"}},
		{"FamilyOtherWithoutCode", func(b *BasicInfo) { b.FamilyChildren = []string{"1"} }, []string{"family_history_other"}},
		{"DisabilityNoneWithOthers", func(b *BasicInfo) { b.Disabilities = []string{"1", "5"} }, []string{"disabilities"}},
		{"UnknownKitchen", func(b *BasicInfo) { b.KitchenExhaust = "5" }, []string{"kitchen_exhaust"}},
		{"UnknownFuel", func(b *BasicInfo) { b.Fuel = "7" }, []string{"fuel"}},
		{"UnknownWater", func(b *BasicInfo) { b.Water = "0" }, []string{"water"}},
		{"UnknownToilet", func(b *BasicInfo) { b.Toilet = "6" }, []string{"toilet"}},
		{"UnknownLivestock", func(b *BasicInfo) { b.LivestockPen = "5" }, []string{"livestock_pen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := filled()
			tt.mutate(&b)
			fe := b.Validate(today)
			var got []string
			for _, f := range fe {
				got = append(got, f.Field)
				if f.Reason == "" {
					t.Errorf("field %s without a reason", f.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("fields = %v (%v), want %v", got, fe, tt.fields)
			}
		})
	}
	t.Run("ReasonNamesTheCode", func(t *testing.T) {
		b := BasicInfo{BloodABO: "9"}
		fe := b.Validate(today)
		if len(fe) != 1 || !strings.Contains(fe[0].Reason, `"9"`) || !strings.Contains(fe[0].Reason, "AB型") {
			t.Fatalf("reason = %v", fe)
		}
	})
	t.Run("RecordValidateIncludesTable", func(t *testing.T) {
		r := Record{Name: "王芳", Sex: "F", BirthDate: civil.MustParse("1955-03-08"), BasicInfo: BasicInfo{Toilet: "9"}}
		e, _ := apperr.As(r.Validate(today))
		if e == nil || len(e.Fields) != 1 || e.Fields[0].Field != "toilet" {
			t.Fatalf("err = %v", e)
		}
	})
}

// None and not recorded survive JSON and the database's jsonb as themselves.
func TestBasicInfoNoneIsNotUnrecorded(t *testing.T) {
	b := BasicInfo{DrugAllergies: []string{}, Operations: []Event{}, Exposures: []string{"1"}}
	b.Normalize()
	if b.DrugAllergies != nil {
		t.Fatal("an empty list of codes is not read as not recorded")
	}
	v, err := StoredBasicInfo(b).Value()
	if err != nil {
		t.Fatal(err)
	}
	var back BasicInfo
	if err := (*StoredBasicInfo)(&back).Scan(v); err != nil {
		t.Fatal(err)
	}
	if v, _ := (StoredBasicInfo{}).Value(); v != "{}" {
		t.Fatalf("nothing recorded stored as %v", v)
	}
	if back.Operations == nil || len(back.Operations) != 0 || back.Traumas != nil || back.DrugAllergies != nil || back.Exposures[0] != "1" {
		t.Fatalf("round trip: %+v", back)
	}
	var fromAPI Record
	if err := json.Unmarshal([]byte(`{"operations":[],"traumas":null,"blood_abo":"5"}`), &fromAPI); err != nil {
		t.Fatal(err)
	}
	if fromAPI.Operations == nil || fromAPI.Traumas != nil || fromAPI.BloodABO != "5" {
		t.Fatalf("from the API: %+v", fromAPI.BasicInfo)
	}
	a := map[string]string{}
	full := filled()
	for _, kv := range full.Answers() {
		a[kv[0]] = kv[1]
	}
	if a["既往史：外伤"] != "无" || a["既往史：手术"] != "阑尾切除术（1998-07-12）" || a["药物过敏史"] != "青霉素、其他：头孢" ||
		a["家族史：子女"] != "其他（其他：痛风）" || a["遗传病史"] != "无" || a["血型"] != "A型 / Rh阳性" {
		t.Fatalf("answers: %v", a)
	}
	var empty BasicInfo
	for _, kv := range empty.Answers() {
		if !strings.Contains(kv[1], "未填写") {
			t.Errorf("%s of an empty table: %q", kv[0], kv[1])
		}
	}
}

// Every code list is well formed: codes unique, none and other codes its own.
func TestCodeLists(t *testing.T) {
	names := map[string]bool{}
	for _, l := range CodeLists {
		if names[l.Name] {
			t.Errorf("list %s twice", l.Name)
		}
		names[l.Name] = true
		seen := map[string]bool{}
		for _, c := range l.Codes {
			if seen[c.Code] || c.Label == "" {
				t.Errorf("%s: code %q repeated or unlabelled", l.Name, c.Code)
			}
			seen[c.Code] = true
		}
		if l.None != "" && !seen[l.None] || l.Other != "" && !seen[l.Other] {
			t.Errorf("%s: none %q or other %q not a code", l.Name, l.None, l.Other)
		}
	}
	if len(BasicFields()) != len(basicItems) || BasicLabel("toilet") != "厕所" {
		t.Fatal("items")
	}
}

// TestBasicInfoIsZero: a table is empty only when no item holds anything,
// an empty list ("none", []) included — item by item, each alone.
func TestBasicInfoIsZero(t *testing.T) {
	var b BasicInfo
	if !b.IsZero() {
		t.Fatal("the zero table is not empty")
	}
	f := filled()
	f.DisabilityOther = "听力"
	full := reflect.ValueOf(&f).Elem()
	for i := range full.NumField() {
		var one BasicInfo
		reflect.ValueOf(&one).Elem().Field(i).Set(full.Field(i))
		if one.IsZero() {
			t.Errorf("a table with only %s = %v is empty", full.Type().Field(i).Name, full.Field(i))
		}
	}
	if (&BasicInfo{Traumas: []Event{}}).IsZero() {
		t.Error("a table answering 'no traumas' ([]) is empty")
	}
}
