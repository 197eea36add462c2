package importer

import (
	"strings"

	"healthrec/internal/civil"
	"healthrec/internal/record"
)

// basicColumns are the optional columns of residents.csv that carry the
// personal basic information table (docs/import.md): the API's field names.
// A cell left empty is "not recorded". Lists separate their items with "|";
// an operation, trauma or transfusion is "name@date", a past disease
// "code@date" or "code:note@date"; "无" is the none answer of those lists
// (the code lists have their own none code).
var basicColumns = record.BasicFields()

// basicRow reads the table's columns of the current row into b and reports
// every bad value under its column. today bounds the dates.
func basicRow(t *table, first int, b *record.BasicInfo, today civil.Date) {
	*b = record.BasicInfo{}
	text := func(name string) string { return t.get(first + indexOf(basicColumns, name)) }
	codes := func(name string) []string {
		v := text(name)
		if v == "" {
			return nil
		}
		return splitItems(v)
	}
	events := func(name string) []record.Event {
		v := text(name)
		switch v {
		case "":
			return nil
		case "无":
			return []record.Event{}
		}
		out := []record.Event{}
		for _, it := range splitItems(v) {
			name, date, _ := strings.Cut(it, "@")
			out = append(out, record.Event{Name: strings.TrimSpace(name), Date: strings.TrimSpace(date)})
		}
		return out
	}
	b.BloodABO, b.BloodRh = text("blood_abo"), text("blood_rh")
	b.Education, b.Occupation, b.MaritalStatus = text("education"), text("occupation"), text("marital_status")
	b.PaymentTypes, b.PaymentOther = codes("payment_types"), text("payment_other")
	b.DrugAllergies, b.AllergyOther = codes("drug_allergies"), text("drug_allergy_other")
	b.Exposures = codes("exposures")
	if v := text("past_diseases"); v == "无" {
		b.PastDiseases = []record.PastDisease{}
	} else if v != "" {
		b.PastDiseases = []record.PastDisease{}
		for _, it := range splitItems(v) {
			head, date, _ := strings.Cut(it, "@")
			code, note, _ := strings.Cut(head, ":")
			b.PastDiseases = append(b.PastDiseases, record.PastDisease{Code: strings.TrimSpace(code), Note: strings.TrimSpace(note),
				DiagnosedOn: strings.TrimSpace(date)})
		}
	}
	b.Operations, b.Traumas, b.Transfusions = events("operations"), events("traumas"), events("transfusions")
	b.FamilyFather, b.FamilyMother = codes("family_father"), codes("family_mother")
	b.FamilySiblings, b.FamilyChildren = codes("family_siblings"), codes("family_children")
	b.FamilyOther = text("family_history_other")
	if v := text("hereditary_diseases"); v == "无" {
		b.HereditaryDiseases = []string{}
	} else if v != "" {
		b.HereditaryDiseases = splitItems(v)
	}
	b.Disabilities, b.DisabilityOther = codes("disabilities"), text("disability_other")
	b.KitchenExhaust, b.Fuel, b.Water = text("kitchen_exhaust"), text("fuel"), text("water")
	b.Toilet, b.LivestockPen = text("toilet"), text("livestock_pen")
	for _, f := range b.Validate(today) {
		t.fail(f.Field, f.Reason)
	}
}

func splitItems(v string) []string {
	var out []string
	for _, it := range strings.Split(v, "|") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}
