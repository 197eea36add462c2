package postgres_test

import (
	"context"
	"strings"
	"testing"

	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/review"
)

// TestCaseDeadlineReminders: the county's reviewers are reminded before the
// investigation is due, the subject before the appeal period ends, each
// reminder once however often the scheduler runs; the subject hears of
// each step of their case.
func TestCaseDeadlineReminders(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-09-25") // a Friday: investigation due 2026-10-23
	c, _, err := db.CreateCase(ctx, f.Reviewer, postgres.Idempotency{}, review.Opening{Source: review.FromComplaint,
		SubjectType: review.SubjectStaff, SubjectCode: f.DoctorA, Facts: "投诉"})
	if err != nil {
		t.Fatal(err)
	}
	titles := func(who, kind string) []string {
		t.Helper()
		msgs, _, _, err := db.Inbox(ctx, postgres.InboxFilter{Recipient: who, Kind: kind, Page: postgres.Page{PerPage: 100}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, m.Title)
		}
		return out
	}
	for _, day := range []string{"2026-10-15", "2026-10-16", "2026-10-16", "2026-10-20", "2026-10-22"} {
		set(day)
		if _, err := db.SendDueReminders(ctx, db.Now()); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(titles(f.Reviewer, "reminder"), " | ")
	for _, want := range []string{"调查期限 7 天后届满", "调查期限 3 天后届满", "调查期限 1 天后届满"} {
		if strings.Count(got, want) != 1 {
			t.Errorf("reviewer reminders %q: want %q once", got, want)
		}
	}
	if r := titles(f.DoctorA, "reminder"); len(r) != 0 {
		t.Errorf("the subject got the office's reminders: %v", r)
	}
	for _, s := range []review.Step{{To: review.Investigating, Reason: "调查"},
		{To: review.Determined, Reason: "查实", Responsibility: review.Direct, Severity: review.Light},
		{To: review.Determined, Reason: "申辩"},
		{To: review.Decided, Reason: "决定", Outcome: review.AdmonishingTalk}, {To: review.Served, Reason: "送达"}} {
		if _, err := f.Step(t, db, c.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	if steps := titles(f.DoctorA, "case"); len(steps) != 5 || !strings.Contains(steps[0], "送达") {
		t.Fatalf("the subject's case messages: %v", steps)
	}
	set("2026-11-05") // served 2026-10-22, appeal due 2026-11-05 … reminders from 10-29
	for _, day := range []string{"2026-10-29", "2026-11-02", "2026-11-04", "2026-11-04"} {
		set(day)
		if _, err := db.SendDueReminders(ctx, db.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if got := titles(f.DoctorA, "reminder"); len(got) != 3 || !strings.Contains(got[0], "复核申请期 1 天后届满") {
		t.Fatalf("the subject's appeal reminders: %v", got)
	}
}

// TestDefenceReminders: the subject is reminded before the defence period
// ends, and not after giving their statement.
func TestDefenceReminders(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	set := clock(db, "2026-11-02") // Monday
	c, _, err := db.CreateCase(ctx, f.Reviewer, postgres.Idempotency{}, review.Opening{Source: review.FromInspection,
		SubjectType: review.SubjectStaff, SubjectCode: f.DoctorA, Facts: "抽查"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []review.Step{{To: review.Investigating, Reason: "调查"},
		{To: review.Determined, Reason: "查实", Responsibility: review.Direct, Severity: review.Light}} {
		if c, err = f.Step(t, db, c.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	if c.DefenceDue.String() != "2026-11-09" {
		t.Fatalf("defence due %s", c.DefenceDue)
	}
	remind := func(day string) []string {
		t.Helper()
		set(day)
		if _, err := db.SendDueReminders(ctx, db.Now()); err != nil {
			t.Fatal(err)
		}
		msgs, _, _, err := db.Inbox(ctx, postgres.InboxFilter{Recipient: f.DoctorA, Kind: "reminder", Page: postgres.Page{PerPage: 10}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, m.Title)
		}
		return out
	}
	if got := remind("2026-11-06"); len(got) != 2 || !strings.Contains(got[0], "申辩期 3 天后届满") {
		t.Fatalf("defence reminders by Friday: %v", got)
	}
	if _, err := db.TransitionCase(ctx, c.ID, review.Step{To: review.Determined, Reason: "书面申辩"}, f.DoctorA); err != nil {
		t.Fatal(err)
	}
	if got := remind("2026-11-08"); len(got) != 2 {
		t.Fatalf("reminded after the statement: %v", got)
	}
}
