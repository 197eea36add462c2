package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"healthrec/internal/postgres"
)

// sessionCacheTTL is how long a resolved session is reused without asking
// the database. Roles and village assignments are read with the session, so
// this bounds how long a change made through another server process takes
// to apply; changes made through this one apply at once (flush).
const sessionCacheTTL = 5 * time.Second

// sessionCache remembers resolved sessions for a few seconds: resolving one
// (the session, the staff member, their roles and villages) was one of the
// handful of queries of every request.
// It is an LRU of sessionCacheSize entries: past that, the sessions used
// least recently are dropped, and the ones in use stay.
type sessionCache struct {
	mu      sync.Mutex
	entries *simplelru.LRU[string, cachedSession]
	now     func() time.Time
}

const sessionCacheSize = 10000

type cachedSession struct {
	*postgres.ActiveSession
	fetched time.Time
}

func newSessionCache(now func() time.Time) *sessionCache {
	entries, err := simplelru.NewLRU[string, cachedSession](sessionCacheSize, nil)
	if err != nil {
		panic(err)
	}
	return &sessionCache{entries: entries, now: now}
}

// resolve returns the session behind token, from the cache while it is
// fresh and the session has not expired, or else from load.
func (sc *sessionCache) resolve(ctx context.Context, token string, load func(context.Context, string) (*postgres.ActiveSession, error)) (*postgres.ActiveSession, error) {
	now := sc.now()
	sc.mu.Lock()
	e, ok := sc.entries.Get(token)
	sc.mu.Unlock()
	if ok && now.Before(e.ExpiresAt) && now.Sub(e.fetched) < sessionCacheTTL && !now.Before(e.fetched) {
		return e.ActiveSession, nil
	}
	sess, err := load(ctx, token)
	if err != nil {
		sc.forget(token)
		return nil, err
	}
	sc.mu.Lock()
	sc.entries.Add(token, cachedSession{ActiveSession: sess, fetched: now})
	sc.mu.Unlock()
	return sess, nil
}

// forget drops one session (logout).
func (sc *sessionCache) forget(token string) {
	sc.mu.Lock()
	sc.entries.Remove(token)
	sc.mu.Unlock()
}

// flush drops every session, after a change to staff, roles or villages.
func (sc *sessionCache) flush() {
	sc.mu.Lock()
	sc.entries.Purge()
	sc.mu.Unlock()
}
