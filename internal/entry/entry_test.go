package entry_test

import (
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

var today = civil.MustParse("2024-06-15")

func fieldOf(err error) string {
	e, ok := apperr.As(err)
	if !ok || len(e.Fields) == 0 {
		return ""
	}
	return e.Fields[0].Field
}

func ptr[T any](v T) *T { return &v }

// TestReferralStateMachine walks every (state, transition) pair: the three
// legal moves, and a Conflict carrying the current state for the rest.
func TestReferralStateMachine(t *testing.T) {
	legal := map[entry.ReferralStatus]map[entry.Transition]entry.ReferralStatus{
		entry.Issued:   {entry.Receive: entry.Received, entry.Close: entry.Closed},
		entry.Received: {entry.Return: entry.Returned},
	}
	states := []entry.ReferralStatus{entry.Issued, entry.Received, entry.Returned, entry.Closed}
	moves := []entry.Transition{entry.Receive, entry.Return, entry.Close}
	for _, s := range states {
		for _, m := range moves {
			t.Run(string(s)+"/"+string(m), func(t *testing.T) {
				next, err := s.Next(m)
				want, ok := legal[s][m]
				if ok {
					if err != nil || next != want {
						t.Fatalf("Next = %s, %v; want %s", next, err, want)
					}
					return
				}
				e, isApp := apperr.As(err)
				if !isApp || e.Code != apperr.Conflict || e.Extra["state"] != string(s) {
					t.Fatalf("Next = %s, %v; want conflict with state %s", next, err, s)
				}
			})
		}
	}
}

func issued() *entry.Referral {
	r := entry.New(entry.KindReferral).(*entry.Referral)
	r.ServiceDate = civil.MustParse("2024-06-01")
	r.ToInstitution, r.Impression, r.Reason = "县人民医院", "胸痛待查", "需上级医院检查"
	return r
}

func TestReferralApply(t *testing.T) {
	t.Run("ReceiveReturn", func(t *testing.T) {
		r := issued()
		if err := r.Validate(today); err != nil {
			t.Fatal(err)
		}
		if err := r.Apply(entry.Receive, entry.TransitionForm{}, "docB", today); err != nil {
			t.Fatal(err)
		}
		if got, want := r.ReceivedOn, today; got != want {
			t.Fatalf("received_on = %s, want today %s", got, want)
		}
		back := entry.TransitionForm{Date: today, ReferralBack: entry.ReferralBack{Diagnosis: " 不稳定型心绞痛 ", Recommendations: "社区随访血压"}}
		if err := r.Apply(entry.Return, back, "docB", today); err != nil {
			t.Fatal(err)
		}
		if r.Status != entry.Returned || r.Back == nil || r.Back.Diagnosis != "不稳定型心绞痛" || r.Back.Institution != "县人民医院" {
			t.Fatalf("after return: %+v %+v", r.Status, r.Back)
		}
	})
	t.Run("ErrReturnWithoutDiagnosis", func(t *testing.T) {
		r := issued()
		r.Status = entry.Received
		r.ReceivedOn = r.ServiceDate
		err := r.Apply(entry.Return, entry.TransitionForm{}, "docB", today)
		if got := fieldOf(err); got != "diagnosis" {
			t.Fatalf("field = %q (%v), want diagnosis", got, err)
		}
		if r.Status != entry.Received {
			t.Fatalf("status moved to %s on a bad return", r.Status)
		}
	})
	t.Run("ErrCloseWithoutReason", func(t *testing.T) {
		r := issued()
		r.Status = entry.Issued
		if got := fieldOf(r.Apply(entry.Close, entry.TransitionForm{}, "docA", today)); got != "reason" {
			t.Fatalf("field = %q, want reason", got)
		}
	})
	t.Run("ErrReceiveBeforeIssue", func(t *testing.T) {
		r := issued()
		r.Status = entry.Issued
		err := r.Apply(entry.Receive, entry.TransitionForm{Date: civil.MustParse("2024-05-31")}, "docB", today)
		if got := fieldOf(err); got != "date" {
			t.Fatalf("field = %q, want date", got)
		}
	})
	t.Run("ErrReasonOnReceive", func(t *testing.T) {
		r := issued()
		r.Status = entry.Issued
		if got := fieldOf(r.Apply(entry.Receive, entry.TransitionForm{Reason: "x"}, "docB", today)); got != "reason" {
			t.Fatalf("field = %q, want reason", got)
		}
	})
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		entry entry.Entry
		field string // "" = valid
	}{
		{"VisitOK", &entry.Visit{VisitForm: entry.VisitForm{Base: entry.Base{ServiceDate: today},
			VisitNote: entry.VisitNote{Subjective: "头晕三天", Assessment: "高血压"}}}, ""},
		{"ErrVisitNoComplaint", &entry.Visit{VisitForm: entry.VisitForm{Base: entry.Base{ServiceDate: today},
			VisitNote: entry.VisitNote{Assessment: "高血压"}}}, "subjective"},
		{"ErrFutureDate", &entry.Visit{VisitForm: entry.VisitForm{Base: entry.Base{ServiceDate: today.AddDays(1)},
			VisitNote: entry.VisitNote{Subjective: "x", Assessment: "y"}}}, "service_date"},
		{"ErrNoDate", &entry.Visit{VisitForm: entry.VisitForm{VisitNote: entry.VisitNote{Subjective: "x", Assessment: "y"}}}, "service_date"},
		{"ConsultationOK", &entry.Consultation{ConsultationForm: entry.ConsultationForm{Base: entry.Base{ServiceDate: today},
			ConsultationNote: entry.ConsultationNote{Reason: "血糖控制不佳", Opinion: "调整用药",
				Consultants: []entry.Consultant{{Institution: "县人民医院", Doctor: "李医生"}}}}}, ""},
		{"ErrConsultationNoConsultant", &entry.Consultation{ConsultationForm: entry.ConsultationForm{Base: entry.Base{ServiceDate: today},
			ConsultationNote: entry.ConsultationNote{Reason: "r", Opinion: "o"}}}, "consultants"},
		{"HospitalisationDefaultsServiceDate", &entry.Hospitalisation{HospitalisationForm: entry.HospitalisationForm{
			HospitalisationNote: entry.HospitalisationNote{Hospital: "县人民医院", Diagnosis: "肺炎",
				AdmittedOn: civil.MustParse("2024-05-01"), DischargedOn: civil.MustParse("2024-05-09")}}}, ""},
		{"ErrDischargeBeforeAdmission", &entry.Hospitalisation{HospitalisationForm: entry.HospitalisationForm{
			HospitalisationNote: entry.HospitalisationNote{Hospital: "县人民医院", Diagnosis: "肺炎",
				AdmittedOn: civil.MustParse("2024-05-01"), DischargedOn: civil.MustParse("2024-04-30")}}}, "discharged_on"},
		{"FollowupOK", followup(func(f *entry.Followup) {}), ""},
		{"FollowupByPhoneWithoutBP", followup(func(f *entry.Followup) { f.Method, f.Systolic, f.Diastolic = entry.MethodPhone, nil, nil }), ""},
		{"ErrFollowupAtHomeWithoutBP", followup(func(f *entry.Followup) { f.Systolic, f.Diastolic = nil, nil }), "systolic"},
		{"ErrDiabetesWithoutGlucose", followup(func(f *entry.Followup) { f.Programme = entry.Type2Diabetes }), "fasting_glucose"},
		{"ErrFollowupElderly", followup(func(f *entry.Followup) { f.Programme = entry.Elderly }), "programme"},
		{"ErrFollowupMethod", followup(func(f *entry.Followup) { f.Method = "email" }), "method"},
		{"ErrFollowupClass", followup(func(f *entry.Followup) { f.Classification = "" }), "classification"},
		{"ErrFollowupAdherence", followup(func(f *entry.Followup) { f.Adherence = "sometimes" }), "adherence"},
		{"ErrNextDateNotAfter", followup(func(f *entry.Followup) { f.NextDate = f.ServiceDate }), "next_date"},
		{"ErrDiastolicAboveSystolic", followup(func(f *entry.Followup) { f.Diastolic = ptr(150) }), "diastolic"},
		{"ErrAdverseWithoutText", followup(func(f *entry.Followup) { f.Classification = entry.ClassAdverseReaction }), "adverse_reactions"},
		{"ReferralToCodeOnly", &entry.Referral{ReferralForm: entry.ReferralForm{Base: entry.Base{ServiceDate: today},
			ReferralOut: entry.ReferralOut{ToInstitutionCode: "INSTB", Impression: "i", Reason: "r"}}}, ""},
		{"ErrReferralNoDestination", &entry.Referral{ReferralForm: entry.ReferralForm{Base: entry.Base{ServiceDate: today},
			ReferralOut: entry.ReferralOut{Impression: "i", Reason: "r"}}}, "to_institution"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.entry.Validate(today)
			if got := fieldOf(err); got != tc.field || (tc.field == "" && err != nil) {
				t.Fatalf("Validate = %v, want field %q", err, tc.field)
			}
		})
	}
}

func followup(change func(*entry.Followup)) *entry.Followup {
	f := &entry.Followup{FollowupForm: entry.FollowupForm{Base: entry.Base{ServiceDate: today}, Programme: entry.Hypertension,
		FollowupNote: entry.FollowupNote{Method: entry.MethodHome, Systolic: ptr(138), Diastolic: ptr(86),
			Adherence: entry.AdherenceRegular, Classification: entry.ClassSatisfactory}}}
	change(f)
	return f
}

func TestEnrolmentValidate(t *testing.T) {
	born1959 := entry.Resident{Sex: "M", BirthDate: civil.MustParse("1959-06-16")}
	cases := []struct {
		name  string
		form  entry.EnrolmentForm
		who   entry.Resident
		field string
	}{
		{"OK", entry.EnrolmentForm{Programme: entry.Hypertension, EnrolledOn: today}, born1959, ""},
		{"ElderlyOn65thBirthday", entry.EnrolmentForm{Programme: entry.Elderly, EnrolledOn: today},
			entry.Resident{Sex: "M", BirthDate: civil.MustParse("1959-06-15")}, ""},
		{"ErrFuture", entry.EnrolmentForm{Programme: entry.Hypertension, EnrolledOn: today.AddDays(1)}, born1959, "enrolled_on"},
		{"ErrElderlyAt64", entry.EnrolmentForm{Programme: entry.Elderly, EnrolledOn: today}, born1959, "programme"},
		{"ErrChildAt7", entry.EnrolmentForm{Programme: entry.Children06, EnrolledOn: today},
			entry.Resident{Sex: "F", BirthDate: civil.MustParse("2017-06-15")}, "programme"},
		{"ChildAt6", entry.EnrolmentForm{Programme: entry.Children06, EnrolledOn: today},
			entry.Resident{Sex: "F", BirthDate: civil.MustParse("2017-06-16")}, ""},
		{"ErrMaternalMale", entry.EnrolmentForm{Programme: entry.Maternal, EnrolledOn: today}, born1959, "programme"},
		{"ErrUnknown", entry.EnrolmentForm{Programme: "flu", EnrolledOn: today}, born1959, "programme"},
		{"ErrBeforeBirth", entry.EnrolmentForm{Programme: entry.Tuberculosis, EnrolledOn: civil.MustParse("1950-01-01")}, born1959, "enrolled_on"},
		{"EndedFromPaper", entry.EnrolmentForm{Programme: entry.Tuberculosis, EnrolledOn: civil.MustParse("2020-01-01"),
			Status: entry.EnrolmentEnded, EndedOn: civil.MustParse("2020-07-01"), EndReason: "治愈"}, born1959, ""},
		{"ErrEndedWithoutDate", entry.EnrolmentForm{Programme: entry.Tuberculosis, EnrolledOn: civil.MustParse("2020-01-01"),
			Status: entry.EnrolmentEnded}, born1959, "ended_on"},
		{"ErrActiveWithEnd", entry.EnrolmentForm{Programme: entry.Tuberculosis, EnrolledOn: civil.MustParse("2020-01-01"),
			EndedOn: civil.MustParse("2020-07-01")}, born1959, "ended_on"},
		{"ErrStatus", entry.EnrolmentForm{Programme: entry.Tuberculosis, EnrolledOn: today, Status: "paused"}, born1959, "status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.form.Validate(today, tc.who)
			if got := fieldOf(err); got != tc.field || (tc.field == "" && err != nil) {
				t.Fatalf("Validate = %v, want field %q", err, tc.field)
			}
		})
	}
}

func TestEnrolmentEnd(t *testing.T) {
	e := entry.Enrolment{EnrolmentForm: entry.EnrolmentForm{Programme: entry.Hypertension, EnrolledOn: civil.MustParse("2024-01-01"),
		Status: entry.EnrolmentActive}}
	if got := fieldOf(e.End(entry.EndForm{EndedOn: civil.MustParse("2023-12-31")}, today)); got != "ended_on" {
		t.Fatalf("end before enrolment: field %q", got)
	}
	if err := e.End(entry.EndForm{Reason: "迁出"}, today); err != nil || e.Status != entry.EnrolmentEnded || e.EndedOn != today {
		t.Fatalf("End = %v, %+v", err, e)
	}
	err := e.End(entry.EndForm{}, today)
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Conflict || ae.Extra["state"] != entry.EnrolmentEnded {
		t.Fatalf("second End = %v, want conflict with state ended", err)
	}
}
