// Package entrytest holds test cases shared by the tests of the entry rules
// and of their SQL definitions in the store.
package entrytest

import (
	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

// Case is an entry and the required items it misses, by field, in order,
// separated by spaces ("" when it conforms).
type Case struct {
	Name    string
	Entry   entry.Entry
	Missing string
}

// ConformanceCases are entries of every kind, filled and with each required
// item left out in turn, with the items each misses. The store's test
// holds the SQL definition (entry_conforms) to the same cases.
func ConformanceCases() []Case {
	on := civil.MustParse("2024-06-01")
	visit := func(s, a string) entry.Entry {
		v := entry.New(entry.KindVisit).(*entry.Visit)
		v.ServiceDate, v.Subjective, v.Assessment, v.Plan = on, s, a, "观察"
		return v
	}
	referral := func(to, reason, impression string) entry.Entry {
		r := entry.New(entry.KindReferral).(*entry.Referral)
		r.ServiceDate, r.ToInstitution, r.Reason, r.Impression, r.Status = on, to, reason, impression, entry.Issued
		return r
	}
	followup := func(p entry.Programme, bp, glucose bool, class string, next bool) entry.Entry {
		f := entry.New(entry.KindFollowup).(*entry.Followup)
		f.ServiceDate, f.Programme, f.Method, f.Classification, f.Symptoms = on, p, entry.MethodPhone, class, []string{}
		if bp {
			s, d := 140, 90
			f.Systolic, f.Diastolic = &s, &d
		}
		if glucose {
			g := 6.1
			f.FastingGlucose = &g
		}
		if next {
			f.NextDate = on.AddMonths(3)
		}
		return f
	}
	consultation := func(reason, opinion string) entry.Entry {
		c := entry.New(entry.KindConsultation).(*entry.Consultation)
		c.ServiceDate, c.Reason, c.Opinion = on, reason, opinion
		c.Consultants = []entry.Consultant{{Institution: "县医院", Doctor: "王医生"}}
		return c
	}
	stay := func(admitted bool, hospital, diagnosis string) entry.Entry {
		h := entry.New(entry.KindHospitalisation).(*entry.Hospitalisation)
		h.ServiceDate, h.Hospital, h.Diagnosis = on, hospital, diagnosis
		if admitted {
			h.AdmittedOn = on
		}
		return h
	}
	num := func(v float64) *float64 { return &v }
	whole := func(v int) *int { return &v }
	child := func(service entry.Service, f func(*entry.ChildVisit)) entry.Entry {
		v := entry.New(entry.KindChildVisit).(*entry.ChildVisit)
		v.ServiceDate, v.Service, v.WeightKG = on, service, num(4.2)
		if service == entry.NewbornVisit {
			v.BirthWeightKG, v.Feeding, v.Jaundice, v.UmbilicalCord = num(3.3), "mixed", "none", "fallen"
		} else {
			v.LengthCM = num(60)
		}
		f(v)
		return v
	}
	maternal := func(service entry.Service, f func(*entry.MaternalVisit)) entry.Entry {
		v := entry.New(entry.KindMaternalVisit).(*entry.MaternalVisit)
		v.ServiceDate, v.Service, v.Systolic, v.Diastolic, v.Classification = on, service, whole(115), whole(75), entry.Normal
		switch service {
		case entry.Postpartum, entry.Postpartum42:
			v.Breasts, v.Lochia, v.Uterus, v.Wound = entry.Normal, entry.Normal, entry.Normal, "none"
		default:
			v.GestationalWeeks, v.WeightKG, v.FundalHeightCM, v.FetalHeartRate = whole(22), num(60), num(21), whole(140)
		}
		f(v)
		return v
	}
	elderly := func(f func(*entry.ElderlyCheck)) entry.Entry {
		v := entry.New(entry.KindElderlyCheck).(*entry.ElderlyCheck)
		v.ServiceDate, v.Service, v.HealthSelfAssessment = on, entry.Annual, whole(2)
		v.SelfCare = entry.SelfCare{Eating: whole(0), Grooming: whole(1), Dressing: whole(0), Toileting: whole(0), Activity: whole(1)}
		f(v)
		return v
	}
	return []Case{
		{"NewbornOK", child(entry.NewbornVisit, func(*entry.ChildVisit) {}), ""},
		{"NewbornNoBirthWeight", child(entry.NewbornVisit, func(v *entry.ChildVisit) { v.BirthWeightKG = nil }), "birth_weight_kg"},
		{"NewbornNoCord", child(entry.NewbornVisit, func(v *entry.ChildVisit) { v.UmbilicalCord, v.Feeding = "", "" }), "feeding umbilical_cord"},
		{"ChildCheckOK", child(entry.Check3m, func(*entry.ChildVisit) {}), ""},
		{"ChildCheckNoLength", child(entry.Check3m, func(v *entry.ChildVisit) { v.LengthCM, v.WeightKG = nil, nil }), "weight_kg length_cm"},
		{"Prenatal1OK", maternal(entry.Prenatal1, func(v *entry.MaternalVisit) { v.FundalHeightCM, v.FetalHeartRate = nil, nil }), ""},
		{"Prenatal3NoFetalHeart", maternal(entry.Prenatal3, func(v *entry.MaternalVisit) { v.FetalHeartRate = nil }), "fetal_heart_rate"},
		{"PrenatalNoBP", maternal(entry.Prenatal2, func(v *entry.MaternalVisit) { v.Diastolic, v.GestationalWeeks = nil, nil }), "systolic gestational_weeks"},
		{"PostpartumOK", maternal(entry.Postpartum, func(*entry.MaternalVisit) {}), ""},
		{"Postpartum42NoLochia", maternal(entry.Postpartum42, func(v *entry.MaternalVisit) { v.Lochia, v.Classification = "", "" }), "classification lochia"},
		{"ElderlyOK", elderly(func(*entry.ElderlyCheck) {}), ""},
		{"ElderlyNoSelfCare", elderly(func(v *entry.ElderlyCheck) { v.SelfCare.Toileting, v.HealthSelfAssessment = nil, nil }),
			"health_self_assessment self_care.toileting"},
		{"VisitOK", visit("头晕三天", "高血压"), ""},
		{"VisitNoComplaint", visit("", "高血压"), "subjective"},
		{"VisitBlankAssessment", visit("头晕", " \t\n"), "assessment"},
		{"VisitFullWidthSpaceIsText", visit("\u3000", "高血压"), ""},
		{"VisitEmpty", visit("", ""), "subjective assessment"},
		{"ReferralOK", referral("县人民医院", "需上级医院检查", "胸痛待查"), ""},
		{"ReferralNoInstitution", referral("", "需上级医院检查", "胸痛待查"), "to_institution"},
		{"ReferralNoReason", referral("县人民医院", "", "胸痛待查"), "reason"},
		{"ReferralNoImpression", referral("县人民医院", "需上级医院检查", " "), "impression"},
		{"HypertensionOK", followup(entry.Hypertension, true, false, entry.ClassSatisfactory, true), ""},
		{"HypertensionGlucoseOnly", followup(entry.Hypertension, false, true, entry.ClassSatisfactory, true), "systolic"},
		{"HypertensionNoNextDate", followup(entry.Hypertension, true, false, entry.ClassSatisfactory, false), "next_date"},
		{"HypertensionNoClass", followup(entry.Hypertension, true, false, "", true), "classification"},
		{"DiabetesOK", followup(entry.Type2Diabetes, false, true, entry.ClassUnsatisfactory, true), ""},
		{"DiabetesBPOnly", followup(entry.Type2Diabetes, true, false, entry.ClassSatisfactory, true), "fasting_glucose"},
		{"FollowupNothing", followup(entry.Hypertension, false, false, "", false), "systolic classification next_date"},
		{"ConsultationOK", consultation("诊断不明", "建议住院"), ""},
		{"ConsultationNoReason", consultation("", "建议住院"), "reason"},
		{"ConsultationNoOpinion", consultation("诊断不明", ""), "opinion"},
		{"HospitalisationOK", stay(true, "县人民医院", "肺炎"), ""},
		{"HospitalisationNoAdmission", stay(false, "县人民医院", "肺炎"), "admitted_on"},
		{"HospitalisationNoHospital", stay(true, "", "肺炎"), "hospital"},
		{"HospitalisationNoDiagnosis", stay(true, "县人民医院", ""), "diagnosis"},
	}
}
