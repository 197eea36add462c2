package app

import (
	"context"
	"log/slog"
	"time"

	"healthrec/internal/postgres"
)

// FoldInterval is how often the server folds the rate changes noted by
// writes into the report's counters.
const FoldInterval = 5 * time.Second

// RunRateFolds folds the pending rate changes at once and then every interval
// until ctx ends. A report is exact whether or not they are folded (it adds
// the pending ones); folding keeps them few, so a report stays a sum of
// counters. A failed fold changes nothing, is logged and retried.
func RunRateFolds(ctx context.Context, db *postgres.DB, log *slog.Logger, every time.Duration) {
	repeat(ctx, every, func() {
		if _, err := db.FoldRateChanges(ctx); err != nil && ctx.Err() == nil {
			log.Error("fold rate changes", "err", err)
			return
		}
		// The counters just folded are current: tell the province
		// (postgres.BeatCounters; nothing when the county publishes none).
		if err := db.BeatCounters(ctx); err != nil && ctx.Err() == nil {
			log.Error("counter heartbeat", "err", err)
		}
	})
}
