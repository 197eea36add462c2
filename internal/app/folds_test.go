package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"healthrec/internal/app"
	"healthrec/internal/civil"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

// TestRunRateFolds: the server's fold loop moves the changes a filing notes
// into the counters, and stops with its context.
func TestRunRateFolds(t *testing.T) {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	r := &record.Record{VillageCode: f.VillageA1, Name: "居民", Sex: "F", BirthDate: civil.MustParse("1960-01-01")}
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	pending := func() (n int) {
		if err := db.Get(&n, `SELECT count(*) FROM rate_changes`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if pending() == 0 {
		t.Fatal("a filing noted no rate changes")
	}
	done := make(chan struct{})
	go func() {
		app.RunRateFolds(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)), 10*time.Millisecond)
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); pending() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the changes were never folded")
		}
	}
	pgtest.CheckRateFacts(t, db)
	cancel()
	<-done
}
