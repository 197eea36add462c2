package app

import (
	"context"
	"log/slog"
	"time"

	"healthrec/internal/notify"
	"healthrec/internal/postgres"
)

// ReminderInterval is how often the server produces due reminders.
const ReminderInterval = 15 * time.Minute

// DeliveryInterval is how often the server sends queued SMS: a message
// waits at most this long, and a failed one its backoff.
const DeliveryInterval = 30 * time.Second

// RunReminders puts due reminders (rectification items, appeal periods) in
// the inbox at once and then every interval until ctx ends. Each is keyed in
// the database, so a restart, or several servers doing the same, never
// produces a reminder twice. A failed run is logged and retried at the next
// tick.
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

// RunDeliveries sends the queued SMS through the gateway at once and then
// every interval until ctx ends. Each delivery is locked while it is sent
// (FOR UPDATE SKIP LOCKED), so two servers never send one twice; a failure
// stays queued with backoff, so a gateway that is down delays, never loses.
func RunDeliveries(ctx context.Context, db *postgres.DB, gw *notify.Gateway, log *slog.Logger, every time.Duration) {
	repeat(ctx, every, func() {
		if _, err := Deliver(ctx, db, gw, log); err != nil && ctx.Err() == nil {
			log.Error("deliver sms", "err", err)
		}
	})
}

// Deliver sends what is due now, up to a batch, and returns how many were sent.
func Deliver(ctx context.Context, db *postgres.DB, gw *notify.Gateway, log *slog.Logger) (int, error) {
	sent, failed, err := db.DeliverDue(ctx, db.Now(), 200, gw.Send)
	if failed > 0 {
		log.Warn("sms gateway failed; will retry", "failed", failed, "sent", sent)
	}
	return sent, err
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
