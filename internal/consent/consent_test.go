package consent_test

import (
	"testing"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/consent"
)

func TestNext(t *testing.T) {
	cases := []struct {
		from consent.State
		act  consent.Action
		want consent.State // "" means a conflict
	}{
		{consent.Submitted, consent.Approve, consent.Approved},
		{consent.Submitted, consent.Reject, consent.Rejected},
		{consent.Submitted, consent.Consent, ""}, // consent before approval
		{consent.Submitted, consent.Refuse, ""},
		{consent.Submitted, consent.Revoke, ""},
		{consent.Approved, consent.Consent, consent.Active},
		{consent.Approved, consent.Refuse, consent.Refused},
		{consent.Approved, consent.Revoke, consent.Revoked},
		{consent.Approved, consent.Approve, ""},
		{consent.Approved, consent.Reject, ""},
		{consent.Active, consent.Revoke, consent.Revoked},
		{consent.Active, consent.Consent, ""},
		{consent.Active, consent.Approve, ""},
		{consent.Expired, consent.Revoke, ""},
		{consent.Revoked, consent.Revoke, ""},
		{consent.Rejected, consent.Approve, ""},
		{consent.Refused, consent.Consent, ""},
	}
	for _, tc := range cases {
		t.Run(string(tc.from)+"/"+string(tc.act), func(t *testing.T) {
			got, err := consent.Next(tc.from, tc.act)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Conflict || e.Extra["state"] != string(tc.from) {
				t.Fatalf("err = %v, want conflict with state %s", err, tc.from)
			}
		})
	}
}

func TestStateAt(t *testing.T) {
	act := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	exp := consent.ExpiresAt(act, 2)
	if got, want := exp, act.Add(48*time.Hour); !got.Equal(want) {
		t.Fatalf("expires %v, want %v", got, want)
	}
	cases := []struct {
		name   string
		stored consent.State
		now    time.Time
		want   consent.State
	}{
		{"BeforeExpiry", consent.Active, exp.Add(-time.Nanosecond), consent.Active},
		{"AtExpiry", consent.Active, exp, consent.Expired},
		{"AfterExpiry", consent.Active, exp.Add(time.Hour), consent.Expired},
		{"RevokedStaysRevoked", consent.Revoked, exp.Add(time.Hour), consent.Revoked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := consent.StateAt(tc.stored, &exp, tc.now); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSubmissionValidate(t *testing.T) {
	ok := func() consent.Submission {
		return consent.Submission{RecordID: "3301271001010001", Purpose: " 转诊 ", Sections: []string{"exams", "basic"}, Days: 30}
	}
	t.Run("OK", func(t *testing.T) {
		s := ok()
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if s.Purpose != "转诊" || len(s.Sections) != 2 || s.Sections[0] != "basic" {
			t.Fatalf("normalised to %+v", s)
		}
	})
	cases := []struct {
		name  string
		edit  func(*consent.Submission)
		field string
	}{
		{"NoRecord", func(s *consent.Submission) { s.RecordID = "" }, "record_id"},
		{"BadRecord", func(s *consent.Submission) { s.RecordID = "12345" }, "record_id"},
		{"NoPurpose", func(s *consent.Submission) { s.Purpose = "  " }, "purpose"},
		{"NoSections", func(s *consent.Submission) { s.Sections = nil }, "sections"},
		{"UnknownSection", func(s *consent.Submission) { s.Sections = []string{"basic", "history"} }, "sections"},
		{"DuplicateSection", func(s *consent.Submission) { s.Sections = []string{"basic", "basic"} }, "sections"},
		{"ZeroDays", func(s *consent.Submission) { s.Days = 0 }, "days"},
		{"TooManyDays", func(s *consent.Submission) { s.Days = 91 }, "days"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.edit(&s)
			e, isErr := apperr.As(s.Validate())
			if !isErr || e.Code != apperr.Invalid || e.Fields[0].Field != tc.field {
				t.Fatalf("err = %v, want invalid %s", e, tc.field)
			}
		})
	}
	t.Run("NinetyDays", func(t *testing.T) {
		s := ok()
		s.Days = consent.MaxDays
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAnswerValidate(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name  string
		a     consent.Answer
		field string // "" means valid
	}{
		{"Consent", consent.Answer{Given: &yes, GivenBy: "林秀英", Relationship: "本人", Method: consent.SignedForm, Reference: "ZQ-2025-001"}, ""},
		{"RefusalWithoutReference", consent.Answer{Given: &no, GivenBy: "林秀英", Relationship: "本人", Method: consent.Phone}, ""},
		{"NoGiven", consent.Answer{GivenBy: "x", Relationship: "本人", Method: consent.Phone, Reference: "r"}, "given"},
		{"NoGivenBy", consent.Answer{Given: &yes, Relationship: "本人", Method: consent.Phone, Reference: "r"}, "given_by"},
		{"NoRelationship", consent.Answer{Given: &yes, GivenBy: "x", Method: consent.Phone, Reference: "r"}, "relationship"},
		{"BadMethod", consent.Answer{Given: &yes, GivenBy: "x", Relationship: "本人", Method: "email", Reference: "r"}, "method"},
		{"ConsentWithoutReference", consent.Answer{Given: &yes, GivenBy: "x", Relationship: "父亲", Method: consent.InPerson}, "reference"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.a.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Fields[0].Field != tc.field {
				t.Fatalf("err = %v, want field %s", err, tc.field)
			}
		})
	}
}

func TestMayDecide(t *testing.T) {
	r := consent.Request{ID: 7, RequestedBy: "raA"}
	if err := r.MayDecide("raA"); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("own request: err = %v, want forbidden", err)
	}
	if err := r.MayDecide("raA2"); err != nil {
		t.Fatal(err)
	}
}
