package pgtest

import (
	"context"
	"sync"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

// Panel adds the rest of the county's review office to the fixture: a
// second reviewer (rev2), a third (rev3, who sits in no decision) and the
// leading group (lead1, lead2). With the fixture's rev1 they form an
// investigation group and a decision meeting (DESIGN §7.2).
func (f *Fixture) Panel(t testing.TB, db *postgres.DB) {
	t.Helper()
	ctx := context.Background()
	for code, role := range map[string]staff.Role{"rev2": staff.Reviewer, "rev3": staff.Reviewer, "lead1": staff.ReviewLead, "lead2": staff.ReviewLead} {
		if err := db.CreateStaff(ctx, &staff.Staff{Code: code, Name: "人员" + code, Phone: "13800000000",
			Grants: []staff.Grant{{Role: role, Domain: staff.CountyDomain(f.County)}}}, ""); err != nil {
			t.Fatal(err)
		}
		ResetPassword(t, db, code)
	}
}

var panels sync.Map // *Fixture → true once its panel is added

// EnsurePanel adds the panel once.
func (f *Fixture) EnsurePanel(t testing.TB, db *postgres.DB) {
	t.Helper()
	if _, done := panels.LoadOrStore(f, true); !done {
		f.Panel(t, db)
	}
}

// Step moves a case by one step as the fixture's reviewer, doing what the
// procedure asks around it: the panel added once, the investigation group
// (rev1, rev2) formed before a determination, a decision meeting of the
// leading group held today (with a reason when the outcome leaves the
// matrix), and a review by rev3, who took no part in the decision.
func (f *Fixture) Step(t testing.TB, db *postgres.DB, id int64, s review.Step) (*review.Case, error) {
	t.Helper()
	f.EnsurePanel(t, db)
	ctx := context.Background()
	actor := f.Reviewer
	c, err := db.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case s.To == review.Determined && c.State != review.Determined && len(c.Group) == 0:
		if _, err := db.SetCaseGroup(ctx, id, []string{f.Reviewer, "rev2"}, f.Reviewer); err != nil {
			return nil, err
		}
	case s.To == review.Decided && s.Meeting == nil:
		s.Meeting = &review.Meeting{Date: civil.Of(db.Now()), Body: "局务会", Present: []string{"lead1", "lead2"}}
		if review.Deviation(c.SubjectType, c.Responsibility, c.Severity, s.Outcome) != "" {
			s.Meeting.DeviationReason = "态度端正，已主动整改"
		}
		actor = "lead1"
	case s.To == review.Reviewed:
		actor = "rev3"
	}
	return db.TransitionCase(ctx, id, s, actor)
}
