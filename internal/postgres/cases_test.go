package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/region"
	"healthrec/internal/review"
)

// clock gives db a settable clock and returns the setter.
func clock(db *postgres.DB, start string) func(day string) {
	now := civil.MustParse(start).Time().Add(9 * time.Hour)
	db.Now = func() time.Time { return now }
	return func(day string) { now = civil.MustParse(day).Time().Add(9 * time.Hour) }
}

func rate(v float64) *float64 { return &v }

// warnFigure is a doctor's or institution's figure in an assessment.
func warnFigure(level, scope, ind string, rate float64, rank int) review.Warning {
	gap := rate - 90
	return review.Warning{Level: level, ScopeCode: scope, Indicator: ind, Rate: &rate, Target: 90, Gap: &gap, Rank: rank}
}

func assessment(id, county string, kind review.SnapshotKind, at time.Time, figs ...review.Warning) review.Assessment {
	return review.Assessment{SnapshotID: id, County: county, Kind: kind, PublishedAt: at, Figures: figs}
}

// TestProposeFromAssessment: an assessment proposes a case for each doctor
// or institution below target, in proposed with no clock; a doctor last
// but above target gets none; a pre-assessment proposes nothing; a second
// assessment adds its figures to the open case instead of opening another.
func TestProposeFromAssessment(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-04-30")
	pre := assessment("P1", f.County, review.KindPreAssessment, db.Now(),
		warnFigure("doctor", f.DoctorA, "coverage", 95, 1), warnFigure("doctor", f.DoctorB, "coverage", 50, 2))
	if cases, err := db.ProposeFromAssessment(ctx, pre); err != nil || len(cases) != 0 {
		t.Fatalf("a pre-assessment proposed %d cases (%v)", len(cases), err)
	}
	set("2026-06-30")
	s1 := assessment("S1", f.County, review.KindAssessment, db.Now(),
		warnFigure("doctor", f.DoctorA, "coverage", 95, 1), warnFigure("doctor", f.DoctorB, "coverage", 91, 2), // docB last, above target
		warnFigure("doctor", f.DoctorA, "usage", 80, 1), warnFigure("doctor", f.DoctorB, "usage", 70, 2),
		warnFigure("institution", f.InstA, "quality", 60, 2), warnFigure("institution", f.InstB, "quality", 95, 1))
	cases, err := db.ProposeFromAssessment(ctx, s1)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 {
		t.Fatalf("%d cases, want docA and docB (usage below target) and INSTA", len(cases))
	}
	inst, docA, docB := cases[0], cases[1], cases[2]
	if inst.SubjectCode != f.InstA || docA.SubjectCode != f.DoctorA || docB.SubjectCode != f.DoctorB {
		t.Fatalf("subjects %s %s %s", inst.SubjectCode, docA.SubjectCode, docB.SubjectCode)
	}
	if docA.State != review.Proposed || !docA.AcceptedOn.IsZero() || !docA.InvestigationDue.IsZero() || docA.ProposedOn.String() != "2026-06-30" ||
		docA.TalkBy != "" || docA.Source != review.FromSnapshot || docA.SnapshotID != "S1" || len(docA.Triggers) != 1 {
		t.Fatalf("docA proposal %+v", docA)
	}
	if docB.TalkBy != review.TalkDeputy || inst.TalkBy != review.TalkDeputy || len(docB.Triggers) != 1 || docB.Triggers[0].Indicator != "usage" {
		t.Fatalf("docB (last on usage, below) talk %q triggers %+v; inst talk %q", docB.TalkBy, docB.Triggers, inst.TalkBy)
	}

	t.Run("Idempotent", func(t *testing.T) {
		again, err := db.ProposeFromAssessment(ctx, s1)
		if err != nil || len(again) != 3 || again[1].ID != docA.ID {
			t.Fatalf("replay: %d cases %v", len(again), err)
		}
		if _, total, _ := db.Cases(ctx, postgres.CaseFilter{Counties: []string{f.County}}); total != 3 {
			t.Fatalf("total %d after a replay", total)
		}
	})
	t.Run("OneOpenCasePerSubject", func(t *testing.T) {
		set("2026-12-31")
		s2 := assessment("S2", f.County, review.KindAssessment, db.Now(),
			warnFigure("doctor", f.DoctorA, "usage", 80, 1), warnFigure("doctor", f.DoctorB, "usage", 70, 2))
		cases, err := db.ProposeFromAssessment(ctx, s2)
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) != 2 || cases[0].ID != docA.ID || cases[1].ID != docB.ID {
			t.Fatalf("S2 opened new cases: %+v", cases)
		}
		b := cases[1]
		if len(b.Triggers) != 2 || b.Triggers[1].SnapshotID != "S2" || !b.Escalated || b.TalkBy != review.TalkPrincipal ||
			b.Escalation.PreviousSnapshotID != "S1" || !strings.Contains(b.Facts, "S2") {
			t.Fatalf("docB after S2: triggers %+v talk %s escalation %+v", b.Triggers, b.TalkBy, b.Escalation)
		}
		list, _, err := db.Cases(ctx, postgres.CaseFilter{Counties: []string{f.County}, SnapshotID: "S2"})
		if err != nil || len(list) != 2 {
			t.Fatalf("cases of S2: %d %v", len(list), err)
		}
		full, _ := db.Case(ctx, b.ID)
		if last := full.Events[len(full.Events)-1]; last.From != "proposed" || last.To != "proposed" || last.Details["snapshot_id"] != "S2" {
			t.Fatalf("the addition is no event: %+v", last)
		}
	})
	t.Run("AcceptStartsTheClock", func(t *testing.T) {
		set("2027-01-04")
		c, err := db.TransitionCase(ctx, docA.ID, review.Step{To: review.Accepted, Reason: "初步核实：使用率数据属实"}, f.Reviewer)
		if err != nil {
			t.Fatal(err)
		}
		if c.AcceptedOn.String() != "2027-01-04" || c.InvestigationDue.String() != "2027-02-01" || c.AcceptanceNote == "" {
			t.Fatalf("accepted %s due %s", c.AcceptedOn, c.InvestigationDue)
		}
		d, err := db.TransitionCase(ctx, inst.ID, review.Step{To: review.Dismissed, Reason: "数据错误"}, f.Reviewer)
		if err != nil || d.State != review.Dismissed || d.ClosedOn.String() != "2027-01-04" {
			t.Fatalf("dismiss: %+v %v", d, err)
		}
		// A dismissed case is not open: the next assessment proposes anew.
		set("2027-06-30")
		cases, err := db.ProposeFromAssessment(ctx, assessment("S3", f.County, review.KindAssessment, db.Now(),
			warnFigure("institution", f.InstA, "quality", 60, 2), warnFigure("institution", f.InstB, "quality", 95, 1)))
		if err != nil || len(cases) != 1 || cases[0].ID == inst.ID || cases[0].State != review.Proposed {
			t.Fatalf("after a dismissal: %+v %v", cases, err)
		}
	})
	t.Run("ErrUnknownScope", func(t *testing.T) {
		_, err := db.ProposeFromAssessment(ctx, assessment("S9", f.County, review.KindAssessment, db.Now(), warnFigure("doctor", "nobody", "coverage", 50, 2)))
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Invalid {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}

// TestEscalation: docA is last and below target on coverage in S1 and S2
// (principal in S2), the pre-assessment between them does not count, and a
// clean S3 breaks the run before S4.
func TestEscalation(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-04-30")
	last := func(id, day string, kind review.SnapshotKind, rateA float64) review.Case {
		t.Helper()
		set(day)
		cases, err := db.ProposeFromAssessment(ctx, assessment(id, f.County, kind, db.Now(),
			warnFigure("doctor", f.DoctorA, "coverage", rateA, 2), warnFigure("doctor", f.DoctorB, "coverage", 99, 1)))
		if err != nil {
			t.Fatal(err)
		}
		// Close the case so that the next proposal is a case of its own.
		for _, c := range cases {
			if _, err := db.TransitionCase(ctx, c.ID, review.Step{To: review.Dismissed, Reason: "测试"}, f.Reviewer); err != nil {
				t.Fatal(err)
			}
			return c
		}
		return review.Case{}
	}
	last("S1", "2026-06-30", review.KindAssessment, 50)
	last("P1", "2026-08-31", review.KindPreAssessment, 50)
	if c := last("S2", "2026-12-31", review.KindAssessment, 50); !c.Escalated || c.TalkBy != review.TalkPrincipal || c.Escalation.PreviousSnapshotID != "S1" {
		t.Fatalf("S2: escalated=%v talk=%s escalation=%+v", c.Escalated, c.TalkBy, c.Escalation)
	}
	set("2027-06-30")
	if _, err := db.ProposeFromAssessment(ctx, assessment("S3", f.County, review.KindAssessment, db.Now(),
		warnFigure("doctor", f.DoctorA, "coverage", 99, 1), warnFigure("doctor", f.DoctorB, "coverage", 98, 2))); err != nil {
		t.Fatal(err)
	}
	if c := last("S4", "2027-12-31", review.KindAssessment, 50); c.Escalated || c.TalkBy != review.TalkDeputy {
		t.Fatalf("S4 escalated though S3 broke the run: %+v", c)
	}
}

func TestCaseLifecycle(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-09-25")
	c, created, err := db.CreateCase(ctx, f.Reviewer, postgres.Idempotency{}, review.Opening{Source: review.FromComplaint,
		SubjectType: review.SubjectStaff, SubjectCode: f.DoctorA, Facts: "群众投诉：档案信息与本人不符"})
	if err != nil || !created {
		t.Fatal(err)
	}
	if got, want := c.InvestigationDue.String(), "2026-10-23"; got != want {
		t.Fatalf("due %s, want %s without a calendar", got, want)
	}

	t.Run("CalendarMovesOpenDeadlines", func(t *testing.T) {
		var hol []civil.Date
		for d := civil.MustParse("2026-10-01"); !d.After(civil.MustParse("2026-10-07")); d = d.AddDays(1) {
			hol = append(hol, d)
		}
		y := &review.CalendarYear{Year: 2026, Holidays: hol, Workdays: []civil.Date{civil.MustParse("2026-09-20"), civil.MustParse("2026-10-10")}}
		if err := db.PutCalendarYear(ctx, f.Admin, y); err != nil {
			t.Fatal(err)
		}
		got, err := db.Case(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := "2026-10-29"; got.InvestigationDue.String() != want {
			t.Fatalf("due %s after the calendar, want %s", got.InvestigationDue, want)
		}
		back, err := db.CalendarYear(ctx, 2026)
		if err != nil || len(back.Holidays) != 7 || len(back.Workdays) != 2 {
			t.Fatalf("calendar %+v %v", back, err)
		}
	})

	t.Run("Overdue", func(t *testing.T) {
		yes := true
		set("2026-10-29")
		list, _, err := db.Cases(ctx, postgres.CaseFilter{Counties: []string{f.County}, Overdue: &yes})
		if err != nil || len(list) != 0 {
			t.Fatalf("overdue on the deadline day: %d %v", len(list), err)
		}
		set("2026-10-30")
		list, _, err = db.Cases(ctx, postgres.CaseFilter{Counties: []string{f.County}, Overdue: &yes})
		if err != nil || len(list) != 1 || !list[0].Overdue || list[0].OverdueDeadline != review.DeadlineInvestigation {
			t.Fatalf("overdue list %+v %v", list, err)
		}
	})

	steps := []review.Step{
		{To: review.Investigating, Reason: "立案调查"},
		{To: review.Determined, Reason: "查实", Responsibility: review.Direct, Severity: review.Light},
		{To: review.Determined, Reason: "申辩"},
		{To: review.Decided, Reason: "决定", Outcome: review.AdmonishingTalk},
		{To: review.Served, Reason: "当面送达"},
	}
	for _, s := range steps {
		if c, err = f.Step(t, db, c.ID, s); err != nil {
			t.Fatalf("to %s: %v", s.To, err)
		}
	}
	// Opening, investigation, the group, determination, defence, decision
	// by lead1 for the meeting, serving (which tells the complainant).
	if c.State != review.Served || len(c.Events) != 7 || c.Events[6].Actor != f.Reviewer || c.Events[5].Details["outcome"] != "admonishing_talk" ||
		c.Events[5].Actor != "lead1" || c.Events[6].Details["complainant_informed"] != true {
		t.Fatalf("state %s events %+v", c.State, c.Events)
	}
	t.Run("ErrIllegal", func(t *testing.T) {
		_, err := f.Step(t, db, c.ID, review.Step{To: review.Decided, Reason: "x", Outcome: review.Transfer})
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Conflict || e.Extra["state"] != review.Served {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := db.TransitionCase(ctx, 999, review.Step{To: review.Investigating, Reason: "x"}, f.Reviewer); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("NotEligibleForExcellent", func(t *testing.T) {
		s, err := db.Accountability(ctx, f.DoctorA, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if !s.NotEligibleForExcellent || len(s.Reasons) != 1 || len(s.Cases) != 1 || !s.Cases[0].BarsExcellent {
			t.Fatalf("summary %+v", s)
		}
		if s, _ := db.Accountability(ctx, f.DoctorA, 2027); s.NotEligibleForExcellent || len(s.Cases) != 0 {
			t.Fatalf("2027 summary %+v", s)
		}
		if s, _ := db.Accountability(ctx, f.DoctorB, 2026); s.NotEligibleForExcellent {
			t.Fatalf("docB summary %+v", s)
		}
	})
}

// TestRemindersExactlyOnce runs the scheduler twice on each reminder day:
// every reminder is sent once, and once only.
func TestRemindersExactlyOnce(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-11-02")
	c, _, err := db.CreateCase(ctx, f.Reviewer, postgres.Idempotency{}, review.Opening{Source: review.FromInspection,
		SubjectType: review.SubjectStaff, SubjectCode: f.DoctorA, Facts: "检查发现档案缺体检"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []review.Step{{To: review.Investigating, Reason: "a"}, {To: review.Determined, Reason: "b", Responsibility: review.Direct, Severity: review.Light},
		{To: review.Determined, Reason: "申辩"},
		{To: review.Decided, Reason: "c", Outcome: review.CriticismEducation}} {
		if _, err := f.Step(t, db, c.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	it, _, err := db.CreateItem(ctx, c.ID, f.Reviewer, postgres.Idempotency{}, review.NewItem{Owner: f.DoctorA, DueDate: civil.MustParse("2026-11-20"), Description: "补齐 30 份体检"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := db.CreateItem(ctx, c.ID, f.Reviewer, postgres.Idempotency{}, review.NewItem{Owner: f.AdminA, DueDate: civil.MustParse("2026-11-20"), Description: "核对人口数"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CloseItem(ctx, other.ID, f.AdminA, review.Close{Evidence: "已核对"}); err != nil {
		t.Fatal(err)
	}
	run := func(day string, want ...int) {
		t.Helper()
		set(day)
		for i := 0; i < 2; i++ {
			sent, err := db.SendDueReminders(ctx, db.Now())
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				want = nil // the second run finds everything sent
			}
			if len(sent) != len(want) {
				t.Fatalf("%s run %d: sent %+v, want offsets %v", day, i+1, sent, want)
			}
			for j, r := range sent {
				if r.ItemID != it.ID || r.OffsetDays != want[j] || r.Owner != f.DoctorA {
					t.Fatalf("%s run %d: sent %+v, want offsets %v", day, i+1, sent, want)
				}
			}
		}
	}
	run("2026-11-12")
	run("2026-11-13", 7)
	run("2026-11-14")
	run("2026-11-17", 3)
	run("2026-11-19", 1)
	run("2026-11-20")
	run("2026-11-21")

	set("2026-11-19")
	due, err := db.DueReminders(ctx, f.DoctorA)
	if err != nil || len(due) != 1 || due[0].OffsetDays != 1 || due[0].SentAt == nil {
		t.Fatalf("due reminders %+v %v", due, err)
	}
	if due, _ := db.DueReminders(ctx, f.AdminA); len(due) != 0 {
		t.Fatalf("a closed item's reminders: %+v", due)
	}
}

// TestSnapshotWithoutWarnings: a snapshot with no warnings registers with
// the review (it used to fail on a NULL county list), and it counts as the
// previous snapshot of its own county only: a snapshot of another county
// between two of this county's does not break a run.
func TestSnapshotWithoutWarnings(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-06-30")
	if err := db.CreateRegion(ctx, &region.Region{Code: "330122", Name: "桐庐县"}); err != nil {
		t.Fatal(err)
	}
	lastA := []review.Warning{warnFigure("doctor", f.DoctorA, "coverage", 50, 2), warnFigure("doctor", f.DoctorB, "coverage", 99, 1)}
	first, err := db.ProposeFromAssessment(ctx, assessment("S1", f.County, review.KindAssessment, db.Now(), lastA...))
	if err != nil || len(first) != 1 {
		t.Fatal(err)
	}
	if _, err := db.TransitionCase(ctx, first[0].ID, review.Step{To: review.Dismissed, Reason: "测试"}, f.Reviewer); err != nil {
		t.Fatal(err)
	}
	set("2026-09-30")
	if _, err := db.ProposeFromAssessment(ctx, assessment("OTHER", "330122", review.KindAssessment, db.Now())); err != nil {
		t.Fatalf("a snapshot without figures does not register: %v", err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM review_snapshots WHERE snapshot_id = 'OTHER'`); err != nil || n != 1 {
		t.Fatalf("registered %d times, err %v", n, err)
	}
	set("2026-12-31")
	cases, err := db.ProposeFromAssessment(ctx, assessment("S2", f.County, review.KindAssessment, db.Now(), lastA...))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || !cases[0].Escalated || cases[0].Escalation.PreviousSnapshotID != "S1" {
		t.Fatalf("another county's snapshot broke the run: %+v", cases)
	}
}
