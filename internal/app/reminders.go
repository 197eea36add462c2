package app

import (
	"context"
	"log/slog"
	"time"

	"healthrec/internal/postgres"
)

// ReminderInterval is how often the server sends due rectification reminders.
const ReminderInterval = 15 * time.Minute

// RunReminders sends due rectification reminders at once and then every
// interval until ctx ends. Sending is exactly-once in the database, so a
// restart, or several servers doing the same, never sends a reminder twice.
// A failed run is logged and retried at the next tick.
func RunReminders(ctx context.Context, db *postgres.DB, log *slog.Logger, every time.Duration) {
	repeat(ctx, every, func() {
		sent, err := db.SendDueReminders(ctx, db.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("send reminders", "err", err)
		case len(sent) > 0:
			for _, r := range sent {
				log.Info("reminder sent", "owner", r.Owner, "item_id", r.ItemID, "case_id", r.CaseID,
					"due_date", r.DueDate.String(), "days_before", r.OffsetDays)
			}
		}
	})
}

// repeat runs fn at once and then every interval until ctx ends.
func repeat(ctx context.Context, every time.Duration, fn func()) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
