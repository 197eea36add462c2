package access

import (
	"sync"

	"github.com/casbin/casbin/v2/persist/cache"
)

// maxDecisions bounds the decisions kept. Keys grow with callers' grant sets
// times routes and domains (and consent grants add a domain per record), so
// the cache starts afresh when full rather than growing without end.
const maxDecisions = 50000

// decisionCache is casbin's decision cache, bounded (casbin's own map is not).
type decisionCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]bool
}

func newDecisionCache(max int) *decisionCache {
	return &decisionCache{max: max, m: make(map[string]bool)}
}

// Set implements cache.Cache. Decisions never expire: the policy is fixed
// for the process's life.
func (c *decisionCache) Set(key string, value bool, _ ...interface{}) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		c.m = make(map[string]bool)
	}
	c.m[key] = value
	return nil
}

// Get implements cache.Cache.
func (c *decisionCache) Get(key string) (bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[key]
	if !ok {
		return false, cache.ErrNoSuchKey
	}
	return v, nil
}

// Delete implements cache.Cache.
func (c *decisionCache) Delete(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		return cache.ErrNoSuchKey
	}
	delete(c.m, key)
	return nil
}

// Clear implements cache.Cache.
func (c *decisionCache) Clear() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = make(map[string]bool)
	return nil
}
