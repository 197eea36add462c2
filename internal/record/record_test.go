package record

import (
	"encoding/json"
	"fmt"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
)

func validID(first17 string) string { return first17 + string(ident.CheckChar(first17)) }

func TestValidate(t *testing.T) {
	today := civil.MustParse("2026-11-23")
	base := func() Record {
		return Record{VillageCode: "330127100001", Name: "王芳", Sex: "F", BirthDate: civil.MustParse("1955-03-08"),
			IDNumber: validID("33012719550308002")}
	}
	tests := []struct {
		name   string
		mutate func(r *Record)
		fields []string
	}{
		{"OK", func(r *Record) {}, nil},
		{"NoIDNumber", func(r *Record) { r.IDNumber = "" }, nil},
		{"LowercaseX", func(r *Record) {
			r.IDNumber = "33012719550308002"
			r.IDNumber += string(ident.CheckChar(r.IDNumber))
			if r.IDNumber[17] == 'X' {
				r.IDNumber = r.IDNumber[:17] + "x"
			}
		}, nil},
		{"NameMissing", func(r *Record) { r.Name = " " }, []string{"name"}},
		{"SexWrong", func(r *Record) { r.Sex = "U" }, []string{"sex"}},
		{"BirthFuture", func(r *Record) { r.BirthDate = civil.MustParse("2026-11-24"); r.IDNumber = "" }, []string{"birth_date"}},
		{"BirthToday", func(r *Record) { r.BirthDate = today; r.IDNumber = "" }, nil},
		{"Birth1899", func(r *Record) { r.BirthDate = civil.MustParse("1899-12-31"); r.IDNumber = "" }, []string{"birth_date"}},
		{"Birth1900", func(r *Record) { r.BirthDate = civil.MustParse("1900-01-01"); r.IDNumber = "" }, nil},
		{"CheckChar", func(r *Record) {
			c := ident.CheckChar("33012719550308002")
			wrong := byte('1')
			if c == '1' {
				wrong = '2'
			}
			r.IDNumber = "33012719550308002" + string(wrong)
		}, []string{"id_number"}},
		{"BirthAndSexMismatch", func(r *Record) { r.BirthDate = civil.MustParse("1955-03-09"); r.Sex = "M" }, []string{"birth_date", "sex"}},
		{"Residence", func(r *Record) { r.ResidenceType = "其他" }, []string{"residence_type"}},
		{"Phone", func(r *Record) { r.Phone = "1234567" }, []string{"phone"}},
		{"Landline", func(r *Record) { r.Phone = "0571-88881234"; r.ContactPhone = "057188881234" }, nil},
		{"ContactPhone", func(r *Record) { r.ContactPhone = "12800000000" }, []string{"contact_phone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.mutate(&r)
			err := r.Validate(today)
			var got []string
			if e, ok := apperr.As(err); ok {
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.fields) {
				t.Fatalf("fields %v, want %v", got, tt.fields)
			}
			for i := range got {
				if got[i] != tt.fields[i] {
					t.Fatalf("fields %v, want %v", got, tt.fields)
				}
			}
		})
	}
}

func TestApplyPatchAndDiff(t *testing.T) {
	r := Record{Name: "张三", Phone: "13800000000", DetailsUnmapped: Details{"x": "A"}, BasicInfo: BasicInfo{BloodABO: "1", DrugAllergies: []string{"2"}}}
	next := r
	err := ApplyPatch(&next, map[string]json.RawMessage{"name": []byte(`"张叁"`), "details_unmapped": []byte(`{"y":"B"}`),
		"phone": []byte(`null`), "blood_abo": []byte(`"2"`), "drug_allergies": []byte(`["1"]`), "operations": []byte(`[]`)})
	if err != nil {
		t.Fatal(err)
	}
	d := Diff(&r, &next)
	if len(d) != 6 || d["name"].After != "张叁" || d["phone"].After != "" || d["blood_abo"].Before != "1" || d["blood_abo"].After != "2" ||
		fmt.Sprint(d["drug_allergies"].After) != "[1]" || d["operations"].Before != nil || fmt.Sprint(d["operations"].After) != "[]" ||
		len(next.DetailsUnmapped) != 1 {
		t.Fatalf("diff = %+v", d)
	}
	// null is "not recorded" again: the none answer is gone, not kept.
	if err := ApplyPatch(&next, map[string]json.RawMessage{"operations": []byte(`null`), "drug_allergies": []byte(`null`)}); err != nil {
		t.Fatal(err)
	}
	if next.Operations != nil || next.DrugAllergies != nil {
		t.Fatalf("after null: %+v %+v", next.Operations, next.DrugAllergies)
	}
	if err := ApplyPatch(&next, map[string]json.RawMessage{"details": []byte(`{"blood_type":"A"}`)}); err == nil {
		t.Fatal("the retired details field was patched")
	}
	if err := ApplyPatch(&next, map[string]json.RawMessage{"status": []byte(`"deceased"`), "sex": []byte(`5`)}); err == nil {
		t.Fatal("read-only and mistyped fields accepted")
	} else if e, _ := apperr.As(err); len(e.Fields) != 2 {
		t.Fatalf("fields = %v", e.Fields)
	}
}

func TestExam(t *testing.T) {
	today := civil.MustParse("2026-11-23")
	i := func(v int) *int { return &v }
	f := func(v float64) *float64 { return &v }
	e := Exam{ExamDate: today, Systolic: i(120), Diastolic: i(80), HeightCM: f(160), WeightKG: f(51.2)}
	if err := e.Validate(today); err != nil || *e.BMI != 20 || !e.Complete() {
		t.Fatalf("err %v bmi %v complete %v", err, e.BMI, e.Complete())
	}
	e.WeightKG = nil
	if e.Complete() {
		t.Fatal("exam without weight is complete")
	}
	bad := Exam{ExamDate: today.AddDays(1), Systolic: i(80), Diastolic: i(90)}
	err := bad.Validate(today)
	e2, _ := apperr.As(err)
	if e2 == nil || len(e2.Fields) != 2 || e2.Fields[0].Field != "service_date" || e2.Fields[1].Field != "diastolic" {
		t.Fatalf("err = %v", err)
	}
}
