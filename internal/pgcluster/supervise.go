package pgcluster

import (
	"context"
	"time"
)

// The supervisor's states.
const (
	StateRunning    = "running"    // the postmaster runs
	StateRestarting = "restarting" // it died; the supervisor is starting it again
	StateFailed     = "failed"     // the supervisor gave up: the service needs a person
	StateStopped    = "stopped"    // stopped on purpose
)

// Supervision settings: how often the postmaster is looked at, the backoff
// between restart attempts, and how many attempts in a row before giving up
// (with these, about three minutes).
var (
	CheckEvery      = 500 * time.Millisecond
	firstBackoff    = 500 * time.Millisecond
	maxBackoff      = 30 * time.Second
	MaxRestartTries = 10
)

// Status is what the supervisor knows of the postmaster.
type Status struct {
	State     string    `json:"state"`
	PID       int       `json:"pid,omitempty"`
	Restarts  int       `json:"restarts"`
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since"`
}

// Status returns the postmaster's current state.
func (c *Cluster) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *Cluster) setStatus(state string, pid int, lastErr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status.State != state {
		c.status.Since = time.Now()
	}
	c.status.State, c.status.PID = state, pid
	if lastErr != "" || state == StateRunning {
		c.status.LastError = lastErr
	}
}

// Supervise watches the postmaster until ctx ends or Stop is called, and
// starts it again on the same port when it dies, with a backoff that doubles
// from half a second up to 30 seconds. After MaxRestartTries failed attempts
// in a row it gives up and reports StateFailed. A server Start attached to
// is watched too: once it dies, the one started in its place is ours.
func (c *Cluster) Supervise(ctx context.Context) {
	c.mu.Lock()
	if c.stopSup != nil || c.stopping {
		c.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	c.stopSup, c.supDone = cancel, make(chan struct{})
	done := c.supDone
	c.mu.Unlock()
	go func() {
		defer close(done)
		c.supervise(ctx)
	}()
}

func (c *Cluster) stopSupervisor() {
	c.mu.Lock()
	c.stopping = true
	cancel, done := c.stopSup, c.supDone
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (c *Cluster) supervise(ctx context.Context) {
	t := time.NewTicker(CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pf, _ := readPidFile(c.Dir)
		if isPostmasterOf(pf.pid, c.realDir) {
			continue
		}
		dead := c.Status().PID
		c.setStatus(StateRestarting, 0, "")
		c.log.Error("the PostgreSQL postmaster is gone; restarting it", "dir", c.Dir, "pid", dead)
		backoff := firstBackoff
		for attempt := 1; ; attempt++ {
			err := c.startServer(ctx)
			if err == nil {
				c.mu.Lock()
				c.status.Restarts++
				c.mu.Unlock()
				c.log.Warn("PostgreSQL restarted", "dir", c.Dir, "port", c.Port, "attempt", attempt)
				break
			}
			if ctx.Err() != nil {
				return
			}
			c.setStatus(StateRestarting, 0, err.Error())
			if attempt >= MaxRestartTries {
				c.setStatus(StateFailed, 0, err.Error())
				c.log.Error("gave up restarting PostgreSQL", "dir", c.Dir, "attempts", attempt, "err", err)
				return
			}
			c.log.Warn("restarting PostgreSQL failed; trying again", "attempt", attempt, "in", backoff, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
		}
	}
}
