package review_test

import (
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/review"
)

// TestMatrix: every cell of 第七条 has outcomes; an outcome outside a cell
// is heavier or lighter; an institution never gets a person's measure.
func TestMatrix(t *testing.T) {
	for _, st := range []review.SubjectType{review.SubjectStaff, review.SubjectInstitution} {
		for _, r := range []review.Responsibility{review.Direct, review.Leadership, review.Indirect} {
			for _, sv := range []review.Severity{review.Light, review.Serious, review.VerySerious} {
				cell := review.Allowed(st, r, sv)
				if len(cell) == 0 {
					t.Fatalf("%s %s %s: empty cell", st, r, sv)
				}
				for _, o := range cell {
					if st == review.SubjectInstitution && o.ForPersonOnly() {
						t.Fatalf("%s %s %s allows %s", st, r, sv, o)
					}
					if d := review.Deviation(st, r, sv, o); d != "" {
						t.Fatalf("%s within the cell is %s", o, d)
					}
				}
			}
		}
	}
	if d := review.Deviation(review.SubjectStaff, review.Direct, review.Light, review.ProposeDismissal); d != review.Heavier {
		t.Fatalf("dismissal for a light fault: %q", d)
	}
	if d := review.Deviation(review.SubjectStaff, review.Direct, review.VerySerious, review.AdmonishingTalk); d != review.Lighter {
		t.Fatalf("a talk for a very serious fault: %q", d)
	}
}

// TestConsequences: 第八条 as facts.
func TestConsequences(t *testing.T) {
	day := civil.MustParse("2026-11-16")
	for _, tt := range []struct {
		typ    review.SubjectType
		o      review.Outcome
		period string
		cap    string
	}{
		{review.SubjectStaff, review.CriticismEducation, "", ""},
		{review.SubjectStaff, review.AdmonishingTalk, "2026-11", review.CapNotExcellent},
		{review.SubjectStaff, review.WrittenSelfExamination, "2026-11", review.CapNotExcellent},
		{review.SubjectStaff, review.CirculatedCriticism, "2026-11", review.CapBasicallyCompetent},
		{review.SubjectStaff, review.Suspension, "2026-11", review.CapNotCompetent},
		{review.SubjectStaff, review.OrderResign, "2026-11", review.CapNotCompetent},
		{review.SubjectInstitution, review.CirculatedCriticism, "2026", review.CapNotExcellent},
		{review.SubjectInstitution, review.CriticismEducation, "", ""},
	} {
		c := &review.Case{SubjectType: tt.typ, Outcome: tt.o, DecidedOn: day}
		ks := c.DeriveConsequences()
		if tt.cap == "" {
			if len(ks) != 0 {
				t.Fatalf("%s %s: %+v", tt.typ, tt.o, ks)
			}
			continue
		}
		if len(ks) != 1 || ks[0].Period != tt.period || ks[0].Cap != tt.cap {
			t.Fatalf("%s %s: %+v", tt.typ, tt.o, ks)
		}
	}
}

// TestMeetingAndGroup: the group's size and members, the meeting's quorum,
// members and reasons, and the review by someone else.
func TestMeetingAndGroup(t *testing.T) {
	cal := review.NewCalendar(nil, nil)
	c := review.NewCase(civil.Of(start), cal)
	c.SubjectType, c.SubjectCode, c.SubjectInstitution = review.SubjectStaff, "docA", "INSTA"
	p := &review.Panel{Reviewers: []string{"rev1", "rev2", "revA", "lead1", "lead2", "lead3"}, Leads: []string{"lead1", "lead2", "lead3"},
		QuorumPercent: 50, Recused: map[string]string{"revA": "回避：本人为被问责对象所在机构（INSTA）的工作人员", "lead3": "回避：本人已申报与被问责对象存在利害关系（亲属）"}}
	now := start.AddDate(0, 0, 1)
	if _, err := c.SetGroup([]string{"rev1"}, "rev1", now, p); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a group of one: %v", err)
	}
	if _, err := c.SetGroup([]string{"rev1", "revA"}, "rev1", now, p); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a recused member: %v", err)
	}
	if _, err := c.SetGroup([]string{"rev1", "docB"}, "rev1", now, p); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("someone who is no reviewer: %v", err)
	}
	if _, err := c.Apply(review.Step{To: review.Investigating, Reason: "调查"}, "rev1", now, cal); err != nil {
		t.Fatal(err)
	}
	det := review.Step{To: review.Determined, Reason: "查实", Responsibility: review.Direct, Severity: review.Light}
	if _, err := c.Apply(det, "rev1", now, cal); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("a determination without a group: %v", err)
	}
	if _, err := c.SetGroup([]string{"rev1", "rev2"}, "rev1", now, p); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(det, "lead1", now, cal); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a determination by someone outside the group: %v", err)
	}
	if _, err := c.Apply(det, "rev2", now, cal); err != nil {
		t.Fatal(err)
	}
	later := c.DefenceDue.Time().AddDate(0, 0, 1)
	meeting := func(present []string, reason string) *review.Meeting {
		return &review.Meeting{Date: civil.Of(later), Body: "局务会", Present: present, DeviationReason: reason}
	}
	field := func(err error) string {
		if e, ok := apperr.As(err); ok && len(e.Fields) > 0 {
			return e.Fields[0].Field
		}
		return ""
	}
	dec := func(o review.Outcome, m *review.Meeting) error {
		x := *c
		_, err := x.Apply(review.Step{To: review.Decided, Reason: "决定", Outcome: o, Meeting: m, Panel: p}, "lead1", later, cal)
		return err
	}
	for name, tt := range map[string]struct {
		o     review.Outcome
		m     *review.Meeting
		field string
	}{
		"NoMeeting":       {review.AdmonishingTalk, nil, "meeting"},
		"NoQuorum":        {review.AdmonishingTalk, meeting([]string{"lead1"}, ""), "meeting.members_present"},
		"RecusedLead":     {review.AdmonishingTalk, meeting([]string{"lead1", "lead3"}, ""), "meeting.members_present"},
		"NotALead":        {review.AdmonishingTalk, meeting([]string{"lead1", "lead2", "rev1"}, ""), "meeting.members_present"},
		"HeavierNoReason": {review.Suspension, meeting([]string{"lead1", "lead2"}, ""), "meeting.deviation_reason"},
		"ReasonNotNeeded": {review.AdmonishingTalk, meeting([]string{"lead1", "lead2"}, "态度好"), "meeting.deviation_reason"},
		"FutureMeeting":   {review.AdmonishingTalk, &review.Meeting{Date: civil.Of(later).AddDays(1), Body: "局务会", Present: []string{"lead1", "lead2"}}, "meeting.date"},
		"NoBody":          {review.AdmonishingTalk, &review.Meeting{Date: civil.Of(later), Present: []string{"lead1", "lead2"}}, "meeting.body"},
		"Valid":           {review.AdmonishingTalk, meeting([]string{"lead1", "lead2"}, ""), ""},
	} {
		t.Run(name, func(t *testing.T) {
			err := dec(tt.o, tt.m)
			if got := field(err); got != tt.field {
				t.Fatalf("field %q (%v), want %q", got, err, tt.field)
			}
		})
	}
	if err := dec(review.Suspension, meeting([]string{"lead1", "lead2"}, "拒不整改，态度恶劣")); err != nil {
		t.Fatalf("heavier with a reason: %v", err)
	}
	if _, err := c.Apply(review.Step{To: review.Decided, Reason: "决定", Outcome: review.AdmonishingTalk, Meeting: meeting([]string{"lead1", "lead2"}, ""), Panel: p}, "lead1", later, cal); err != nil {
		t.Fatal(err)
	}
	if c.Meeting == nil || c.Meeting.Chair != "lead1" || c.DecidedBy != "lead1" || !c.TookPart("lead2") || c.TookPart("rev1") {
		t.Fatalf("meeting %+v", c.Meeting)
	}
	for _, to := range []review.State{review.Served, review.Appealed} {
		if _, err := c.Apply(review.Step{To: to, Reason: "x"}, "rev1", later, cal); err != nil {
			t.Fatal(err)
		}
	}
	rv := review.Step{To: review.Reviewed, Reason: "复核", ReviewResult: review.Upheld}
	if _, err := c.Apply(rv, "lead2", later, cal); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a review by a member present at the meeting: %v", err)
	}
	if _, err := c.Apply(rv, "rev1", later, cal); err != nil || c.ReviewedBy != "rev1" || c.Outcome != review.AdmonishingTalk {
		t.Fatalf("review by someone else: %v", err)
	}
}

// TestRecusalOf: every path of §7.4.
func TestRecusalOf(t *testing.T) {
	c := &review.Case{SubjectType: review.SubjectStaff, SubjectCode: "docA", SubjectInstitution: "INSTA"}
	for name, tt := range map[string]struct {
		s           review.Sitter
		complainant string
		recused     bool
	}{
		"Subject":       {review.Sitter{Code: "docA"}, "", true},
		"Institution":   {review.Sitter{Code: "x", Institution: "INSTA"}, "", true},
		"RoleThere":     {review.Sitter{Code: "x", Domains: []string{"inst:INSTA"}}, "", true},
		"Complainant":   {review.Sitter{Code: "x"}, "x", true},
		"Conflict":      {review.Sitter{Code: "x", Conflicts: []review.Conflict{{SubjectType: review.SubjectStaff, SubjectCode: "docA", Relation: "relative"}}}, "", true},
		"OtherConflict": {review.Sitter{Code: "x", Conflicts: []review.Conflict{{SubjectType: review.SubjectStaff, SubjectCode: "docB", Relation: "relative"}}}, "", false},
		"Free":          {review.Sitter{Code: "x", Institution: "INSTB"}, "y", false},
	} {
		if got := c.RecusalOf(tt.s, tt.complainant); (got != "") != tt.recused {
			t.Fatalf("%s: %q", name, got)
		}
	}
}
