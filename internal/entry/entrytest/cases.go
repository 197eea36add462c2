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
	return []Case{
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
