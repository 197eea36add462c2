package pgtest

import (
	"context"
	"testing"

	"healthrec/internal/postgres"
)

// CheckRateFacts fails the test for every difference healthrec check-rates
// reports (postgres.CheckRates): every record whose write-time facts differ
// from their definition over its exams and entries, every village and
// doctor whose count of active records is not the records', and every rate
// counter that differs from the records' changes.
func CheckRateFacts(t testing.TB, db *postgres.DB) {
	t.Helper()
	drift, err := db.CheckRates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		t.Error(d)
	}
}
