package httpapi

import (
	"context"
	"fmt"
	"testing"
	"time"

	"healthrec/internal/postgres"
)

// A spray of new keys evicts the keys tried least recently and keeps the
// cache at its bound; the most recent keys stay locked.
func TestLoginLimiterEvictsNeverWipes(t *testing.T) {
	const size = 100
	l := newLoginLimiter(size)
	now := time.Now()
	const keys = 3 * size
	for i := range keys {
		for range loginMaxFailures {
			// one address per key, so that only the pair count decides
			l.fail(fmt.Sprintf("192.0.2.%d-%d", i%250, i), "d011", now)
		}
	}
	if n := l.pairs.Len(); n != size {
		t.Fatalf("pairs hold %d keys, want the bound %d", n, size)
	}
	if n := l.addrs.Len(); n != size {
		t.Fatalf("addresses hold %d keys, want the bound %d", n, size)
	}
	for i := keys - size; i < keys; i++ {
		if l.locked(fmt.Sprintf("192.0.2.%d-%d", i%250, i), "d011", now) == "" {
			t.Fatalf("recent key %d forgotten", i)
		}
	}
	if l.locked(fmt.Sprintf("192.0.2.%d-%d", 0, 0), "d011", now) != "" {
		t.Fatal("the oldest key is still held beyond the bound")
	}
	// A key under attack is touched at every attempt, so a spray of new
	// keys after it does not evict it.
	l.fail("198.51.100.1", "admin", now)
	for i := range size - 1 {
		l.fail(fmt.Sprintf("203.0.113.%d", i), "x", now)
		l.locked("198.51.100.1", "admin", now)
	}
	if _, ok := l.pairs.Peek(pairKey("198.51.100.1", "admin")); !ok {
		t.Fatal("the key under attack was evicted")
	}
	// Failures age out of the window.
	if l.locked(fmt.Sprintf("192.0.2.%d-%d", (keys-1)%250, keys-1), "d011", now.Add(loginWindow)) != "" {
		t.Fatal("failures older than the window still lock")
	}
}

// The session cache drops the sessions used least recently past its bound,
// never all of them: a busy session keeps being served from the cache.
func TestSessionCacheEvictsNeverWipes(t *testing.T) {
	now := time.Now()
	sc := newSessionCache(func() time.Time { return now })
	loads := 0
	load := func(_ context.Context, tok string) (*postgres.ActiveSession, error) {
		loads++
		return &postgres.ActiveSession{ExpiresAt: now.Add(time.Hour)}, nil
	}
	ctx := context.Background()
	for i := range sessionCacheSize + 500 {
		sc.resolve(ctx, fmt.Sprint("t", i), load)
		sc.resolve(ctx, "busy", load)
	}
	if n := sc.entries.Len(); n != sessionCacheSize {
		t.Fatalf("%d cached, want %d", n, sessionCacheSize)
	}
	before := loads
	sc.resolve(ctx, "busy", load)
	sc.resolve(ctx, fmt.Sprint("t", sessionCacheSize+499), load)
	if loads != before {
		t.Fatal("recent sessions were dropped")
	}
	sc.resolve(ctx, "t0", load)
	if loads != before+1 {
		t.Fatal("the oldest session is still cached beyond the bound")
	}
}
