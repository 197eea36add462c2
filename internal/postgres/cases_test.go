package postgres_test

import (
	"context"
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

func TestProposeFromWarnings(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	clock(db, "2026-04-30")
	published := time.Date(2026, 4, 30, 8, 0, 0, 0, time.UTC)
	ws := []review.Warning{
		{Level: "doctor", ScopeCode: f.DoctorA, ScopeName: "张医生", Indicator: "coverage", Rate: rate(70.2), Target: 90, Gap: rate(-19.8), Rank: 5, BottomThree: true},
		{Level: "doctor", ScopeCode: f.DoctorA, ScopeName: "张医生", Indicator: "usage", Rate: rate(45), Target: 60, Gap: rate(-15), Rank: 2},
		{Level: "institution", ScopeCode: f.InstB, ScopeName: "文昌镇卫生院", Indicator: "quality", Rate: rate(60), Target: 90, Gap: rate(-30), Rank: 2, BottomThree: true},
		{Level: "county", ScopeCode: f.County, Indicator: "quality", Rate: rate(70), Target: 90, Gap: rate(-20), Rank: 1},
	}
	cases, err := db.ProposeFromWarnings(ctx, "S1", f.County, published, ws)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(cases), 2; got != want {
		t.Fatalf("%d cases, want %d (one per warned doctor or institution)", got, want)
	}
	inst, doc := cases[0], cases[1]
	if inst.SubjectType != review.SubjectInstitution || inst.SubjectCode != f.InstB || doc.SubjectCode != f.DoctorA {
		t.Fatalf("subjects %s:%s %s:%s", inst.SubjectType, inst.SubjectCode, doc.SubjectType, doc.SubjectCode)
	}
	if doc.Source != review.FromSnapshot || doc.SnapshotID != "S1" || doc.State != review.Accepted || doc.CountyCode != f.County ||
		doc.SubjectInstitution != f.InstA || doc.TalkBy != review.TalkDeputy || doc.Escalated {
		t.Fatalf("proposed case %+v", doc)
	}
	if len(doc.Triggers) != 2 || *doc.Triggers[0].Rate != 70.2 || doc.Triggers[0].Target != 90 || !doc.Triggers[0].BottomThree {
		t.Fatalf("triggering figures not kept: %+v", doc.Triggers)
	}
	if got, want := doc.InvestigationDue.String(), "2026-05-28"; got != want {
		t.Fatalf("investigation due %s, want %s", got, want)
	}

	t.Run("Idempotent", func(t *testing.T) {
		again, err := db.ProposeFromWarnings(ctx, "S1", f.County, published, ws)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 2 || again[0].ID != inst.ID || again[1].ID != doc.ID {
			t.Fatalf("second call: %d cases, ids %d %d", len(again), again[0].ID, again[1].ID)
		}
		_, total, err := db.Cases(ctx, postgres.CaseFilter{Counties: []string{f.County}})
		if err != nil || total != 2 {
			t.Fatalf("total %d err %v", total, err)
		}
	})
	t.Run("ErrUnknownScope", func(t *testing.T) {
		_, err := db.ProposeFromWarnings(ctx, "S9", f.County, published, []review.Warning{{Level: "doctor", ScopeCode: "nobody", Indicator: "coverage", BottomThree: true}})
		if e, _ := apperr.As(err); e == nil || e.Code != apperr.Invalid {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}

// TestEscalation publishes four snapshots: docA is in the bottom three of
// coverage in S1 and S2 (escalated in S2), of quality only in S3, and of
// coverage again in S4 (not consecutive with S2: not escalated).
func TestEscalation(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-04-30")
	bottom := func(scope, ind string) review.Warning {
		return review.Warning{Level: "doctor", ScopeCode: scope, Indicator: ind, Rate: rate(50), Target: 90, Gap: rate(-40), Rank: 9, BottomThree: true}
	}
	publish := func(id, day string, ws ...review.Warning) map[string]review.Case {
		t.Helper()
		set(day)
		cases, err := db.ProposeFromWarnings(ctx, id, f.County, db.Now(), ws)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]review.Case{}
		for _, c := range cases {
			out[c.SubjectCode] = c
		}
		return out
	}
	publish("S1", "2026-04-30", bottom(f.DoctorA, "coverage"))
	s2 := publish("S2", "2026-08-31", bottom(f.DoctorA, "coverage"), bottom(f.DoctorB, "usage"))
	if c := s2[f.DoctorA]; !c.Escalated || c.TalkBy != review.TalkPrincipal || c.Escalation == nil ||
		c.Escalation.PreviousSnapshotID != "S1" || c.Escalation.Indicators[0] != "coverage" {
		t.Fatalf("S2 docA: escalated=%v talk_by=%s escalation=%+v", c.Escalated, c.TalkBy, c.Escalation)
	}
	if c := s2[f.DoctorB]; c.Escalated || c.TalkBy != review.TalkDeputy {
		t.Fatalf("S2 docB (first time) escalated")
	}
	s3 := publish("S3", "2026-12-31", bottom(f.DoctorA, "quality"))
	if s3[f.DoctorA].Escalated {
		t.Fatal("S3 docA escalated on another indicator")
	}
	s4 := publish("S4", "2027-04-30", bottom(f.DoctorA, "coverage"))
	if s4[f.DoctorA].Escalated {
		t.Fatal("S4 docA escalated though S3 broke the run")
	}
	// A replay of S2 after later snapshots still compares with S1.
	if again := publish("S2", "2027-05-01", bottom(f.DoctorA, "coverage")); !again[f.DoctorA].Escalated {
		t.Fatal("replayed S2 lost its escalation")
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
		{To: review.Decided, Reason: "决定", Outcome: review.AdmonishingTalk},
		{To: review.Served, Reason: "当面送达"},
	}
	for _, s := range steps {
		if c, err = db.TransitionCase(ctx, c.ID, s, f.Reviewer); err != nil {
			t.Fatalf("to %s: %v", s.To, err)
		}
	}
	if c.State != review.Served || len(c.Events) != 5 || c.Events[4].Actor != f.Reviewer || c.Events[3].Details["outcome"] != "admonishing_talk" {
		t.Fatalf("state %s events %+v", c.State, c.Events)
	}
	t.Run("ErrIllegal", func(t *testing.T) {
		_, err := db.TransitionCase(ctx, c.ID, review.Step{To: review.Decided, Reason: "x", Outcome: review.Transfer}, f.Reviewer)
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
		{To: review.Decided, Reason: "c", Outcome: review.CriticismEducation}} {
		if _, err := db.TransitionCase(ctx, c.ID, s, f.Reviewer); err != nil {
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
// previous snapshot of its own county only: a warning-free snapshot of
// another county between two of this county's does not break a run.
func TestSnapshotWithoutWarnings(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-04-30")
	if err := db.CreateRegion(ctx, &region.Region{Code: "330122", Name: "桐庐县"}); err != nil {
		t.Fatal(err)
	}
	bottom := review.Warning{Level: "doctor", ScopeCode: f.DoctorA, Indicator: "coverage", Rate: rate(50), Target: 90, Gap: rate(-40), Rank: 9, BottomThree: true}
	if _, err := db.ProposeFromWarnings(ctx, "S1", f.County, db.Now(), []review.Warning{bottom}); err != nil {
		t.Fatal(err)
	}
	set("2026-05-31")
	if _, err := db.ProposeFromWarnings(ctx, "OTHER", "330122", db.Now(), nil); err != nil {
		t.Fatalf("a snapshot without warnings does not register: %v", err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM review_snapshots WHERE snapshot_id = 'OTHER'`); err != nil || n != 1 {
		t.Fatalf("registered %d times, err %v", n, err)
	}
	set("2026-08-31")
	cases, err := db.ProposeFromWarnings(ctx, "S2", f.County, db.Now(), []review.Warning{bottom})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || !cases[0].Escalated || cases[0].Escalation.PreviousSnapshotID != "S1" {
		t.Fatalf("another county's snapshot broke the run: %+v", cases)
	}
	// This county's own warning-free snapshot does break it.
	set("2026-10-31")
	if _, err := db.ProposeFromWarnings(ctx, "S3", f.County, db.Now(), nil); err != nil {
		t.Fatal(err)
	}
	set("2026-12-31")
	cases, err = db.ProposeFromWarnings(ctx, "S4", f.County, db.Now(), []review.Warning{bottom})
	if err != nil || len(cases) != 1 || cases[0].Escalated {
		t.Fatalf("S4 escalated over a clean S3: %+v %v", cases, err)
	}
}
