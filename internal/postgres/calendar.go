package postgres

import (
	"context"
	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/review"
)

// CalendarYear returns one year's holidays and make-up working days; empty
// lists when none are stored.
func (db *DB) CalendarYear(ctx context.Context, year int) (*review.CalendarYear, error) {
	out := &review.CalendarYear{Year: year, Holidays: []civil.Date{}, Workdays: []civil.Date{}}
	var rows []struct {
		Day  civil.Date     `db:"day"`
		Kind review.DayKind `db:"kind"`
	}
	err := db.inTx(ctx, func(tx *Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT day, kind FROM calendar_days WHERE day >= $1 AND day < $2 ORDER BY day`,
			civil.New(year, 1, 1), civil.New(year+1, 1, 1))
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Kind == review.Holiday {
			out.Holidays = append(out.Holidays, r.Day)
		} else {
			out.Workdays = append(out.Workdays, r.Day)
		}
	}
	return out, nil
}

// PutCalendarYear replaces one year's exceptions, then recomputes the
// deadlines of every case still open, since a holiday announced late moves
// them. The year is normalized first (Invalid for a bad date).
func (db *DB) PutCalendarYear(ctx context.Context, actor string, y *review.CalendarYear) error {
	if err := y.Normalize(); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM calendar_days WHERE day >= $1 AND day < $2`,
			civil.New(y.Year, 1, 1), civil.New(y.Year+1, 1, 1)); err != nil {
			return err
		}
		now := db.Now()
		for kind, days := range map[review.DayKind][]civil.Date{review.Holiday: y.Holidays, review.Workday: y.Workdays} {
			for _, d := range days {
				if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_days (day, kind, updated_at, updated_by) VALUES ($1, $2, $3, $4)`,
					d, kind, now, actor); err != nil {
					return err
				}
			}
		}
		return recomputeDeadlines(ctx, tx)
	})
}

// recomputeDeadlines brings open cases' deadlines in line with the calendar.
func recomputeDeadlines(ctx context.Context, tx *Tx) error {
	cal, err := calendar(ctx, tx)
	if err != nil {
		return err
	}
	var open []review.Case
	if err := tx.SelectContext(ctx, &open, `SELECT `+caseColumns+` FROM cases
		WHERE NOT (state = ANY($1)) ORDER BY id FOR UPDATE`, pq.Array(review.FinalStates)); err != nil {
		return err
	}
	for i := range open {
		c := &open[i]
		deadlines := func() string {
			return c.InvestigationDue.String() + c.DefenceDue.String() + c.ServingDue.String() + c.AppealDue.String()
		}
		before := deadlines()
		c.Recompute(cal)
		if deadlines() == before {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET investigation_due = $2, serving_due = $3, appeal_due = $4, defence_due = $5 WHERE id = $1`,
			c.ID, c.InvestigationDue, c.ServingDue, c.AppealDue, c.DefenceDue); err != nil {
			return err
		}
	}
	return nil
}
