package postgres

import (
	"context"
	"fmt"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/notify"
	"healthrec/internal/review"
)

// remindFollowups reminds the county's reviewers, 7, 3 and 1 days before,
// of each later check (回头看) falling due on a closed item; exactly once by
// the message key.
func remindFollowups(ctx context.Context, tx *Tx, sms bool, now time.Time) error {
	today := civil.Of(now)
	var due []struct {
		review.Item
		CountyCode string `db:"county_code"`
	}
	if err := tx.SelectContext(ctx, &due, `SELECT `+itemColumns+`, c.county_code `+itemFrom+` JOIN cases c ON c.id = i.case_id
		WHERE i.state = 'closed' AND i.followup_due BETWEEN $1 AND $2 ORDER BY i.id`, today, today.AddDays(review.ReminderOffsets[0])); err != nil {
		return err
	}
	for _, it := range due {
		c, err := caseTx(ctx, tx, it.CaseID, false)
		if err != nil {
			return err
		}
		to, err := countyReviewers(ctx, tx, c)
		if err != nil {
			return err
		}
		closed := civil.Of(*it.ClosedAt)
		for _, off := range review.DueOffsets(closed, it.FollowupDue, today) {
			m := notify.Message{Kind: notify.KindReminder, Key: fmt.Sprintf("reminder:followup:%d:%s:%d", it.ID, it.FollowupDue, off),
				Title: fmt.Sprintf("整改事项回头看 %d 天后到期（%s）", off, it.FollowupDue), Body: it.Description,
				Link:    fmt.Sprintf("/bureau#/case/%d", it.CaseID),
				Details: notify.Details{"case_id": it.CaseID, "item_id": it.ID, "followup_due": it.FollowupDue, "days_before": off}}
			if err := notifyAll(ctx, tx, sms, now, m, to...); err != nil {
				return err
			}
		}
	}
	return nil
}

// OnTimeRates is the on-time completion rate of items per institution of
// the county for the month starting on month (the owner's institution): the
// items due that month, and those reported done by their due date.
func (db *DB) OnTimeRates(ctx context.Context, county string, month civil.Date) ([]review.OnTime, error) {
	out := []review.OnTime{}
	err := db.SelectContext(ctx, &out, `SELECT s.institution_code, inst.name AS institution_name, to_char($2::date, 'YYYY-MM') AS month,
			count(*) AS due, count(*) FILTER (WHERE i.closed_at IS NOT NULL AND i.closed_at::date <= i.due_date) AS on_time
		FROM case_items i JOIN cases c ON c.id = i.case_id JOIN staff s ON s.code = i.owner
		JOIN institutions inst ON inst.code = s.institution_code
		WHERE c.county_code = $1 AND i.due_date >= $2 AND i.due_date < $3
		GROUP BY s.institution_code, inst.name ORDER BY s.institution_code`, county, month, month.AddMonths(1))
	if err != nil {
		return nil, translate(err)
	}
	for i := range out {
		out[i].Compute()
	}
	return out, nil
}

// AddHelpVisit records an expert help visit.
func (db *DB) AddHelpVisit(ctx context.Context, v *review.HelpVisit) error {
	if err := v.Validate(db.today()); err != nil {
		return err
	}
	v.CreatedAt = db.Now()
	return translate(db.GetContext(ctx, &v.ID, `INSERT INTO help_visits (county_code, scope_type, scope_code, visited_on, experts, findings, items, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, v.CountyCode, v.ScopeType, v.ScopeCode, v.VisitedOn, v.Experts, v.Findings, v.Items,
		v.CreatedAt, v.CreatedBy))
}

// HelpVisits lists a county's expert help visits, newest first.
func (db *DB) HelpVisits(ctx context.Context, county string) ([]review.HelpVisit, error) {
	out := []review.HelpVisit{}
	err := db.SelectContext(ctx, &out, `SELECT id, county_code, scope_type, scope_code, visited_on, experts, findings, items, created_at, created_by
		FROM help_visits WHERE county_code = $1 ORDER BY visited_on DESC, id DESC`, county)
	return out, translate(err)
}
