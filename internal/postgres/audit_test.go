package postgres

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"healthrec/internal/access"
)

// TestAuditLogGroupsCommits checks the group commit of the access log: appends
// that queue while a commit runs share the next one, every caller hears of
// its own rows only once they are committed, and one bad row fails only the
// request that brought it.
func TestAuditLogGroupsCommits(t *testing.T) {
	var mu sync.Mutex
	var batches [][]access.LogEntry
	release := make(chan struct{})
	firstStarted := make(chan struct{})
	first := true
	insert := func(_ context.Context, rows []access.LogEntry) error {
		mu.Lock()
		isFirst := first
		first = false
		mu.Unlock()
		if isFirst {
			close(firstStarted)
			<-release // hold the first commit while the others queue
		}
		for _, r := range rows {
			if r.Path == "bad" {
				return errors.New("invalid byte sequence")
			}
		}
		mu.Lock()
		batches = append(batches, append([]access.LogEntry(nil), rows...))
		mu.Unlock()
		return nil
	}
	a := newAuditLog(insert)
	ctx := context.Background()

	errs := make(chan error, 1)
	go func() { errs <- a.append(ctx, []access.LogEntry{{RecordID: "first"}}) }()
	<-firstStarted

	const n = 20
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := access.LogEntry{RecordID: "r", Path: "/ok"}
			if i == 7 {
				e.Path = "bad"
			}
			results[i] = a.append(ctx, []access.LogEntry{e, e})
		}()
	}
	// Wait until all twenty are queued behind the held commit.
	for len(a.queue) < n {
		select {
		case err := <-errs:
			t.Fatalf("first append returned before its commit: %v", err)
		default:
			runtime.Gosched()
		}
	}
	close(release)
	if err := <-errs; err != nil {
		t.Fatalf("first append: %v", err)
	}
	wg.Wait()
	for i, err := range results {
		if (err != nil) != (i == 7) {
			t.Errorf("append %d: err = %v", i, err)
		}
	}
	mu.Lock()
	rows := 0
	for _, b := range batches {
		rows += len(b)
	}
	commits := len(batches)
	mu.Unlock()
	if rows != 1+2*(n-1) {
		t.Errorf("%d rows committed, want %d", rows, 1+2*(n-1))
	}
	// The first commit, the failed group of twenty, then each of the twenty
	// on its own (one of them failing again): 1 + 19 successful commits.
	// Without grouping there would be as many; what grouping must show is
	// that the twenty were tried as one group first.
	if commits != 1+(n-1) {
		t.Errorf("%d successful commits, want %d", commits, 1+(n-1))
	}

	// With no bad row, a queue of appends is one commit.
	mu.Lock()
	batches, first = nil, true
	mu.Unlock()
	release, firstStarted = make(chan struct{}), make(chan struct{})
	go func() { errs <- a.append(ctx, []access.LogEntry{{RecordID: "first"}}) }()
	<-firstStarted
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.append(ctx, []access.LogEntry{{RecordID: "r"}}); err != nil {
				t.Error(err)
			}
		}()
	}
	for len(a.queue) < n {
		runtime.Gosched()
	}
	close(release)
	<-errs
	wg.Wait()
	mu.Lock()
	if len(batches) != 2 || len(batches[1]) != n {
		t.Errorf("batches %d (second of %d rows), want 2 with the second of %d", len(batches), len(batches[len(batches)-1]), n)
	}
	mu.Unlock()

	a.close()
	if err := a.append(ctx, []access.LogEntry{{RecordID: "late"}}); !errors.Is(err, errAuditClosed) {
		t.Errorf("append after close: %v", err)
	}
}
