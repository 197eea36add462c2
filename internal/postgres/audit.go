package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
)

// maxAuditBatch bounds the rows of one group commit.
const maxAuditBatch = 2000

// auditLog commits access-log appends in groups. One writer takes the
// appends waiting when it is free and inserts them in one statement and one
// commit; each request returns only when its own rows are committed, so a
// read is never answered before its audit row is durable. Under load a
// commit carries many requests' rows; alone, a request waits for nobody.
type auditLog struct {
	insert func(context.Context, []access.LogEntry) error

	start   sync.Once
	closing sync.Once
	queue   chan *auditAppend
	stop    chan struct{}
	stopped chan struct{}

	// commits and appends count the group commits and the appends they
	// carried (AuditBatching).
	commits, appends atomic.Int64
}

type auditAppend struct {
	entries []access.LogEntry
	done    chan error
}

func newAuditLog(insert func(context.Context, []access.LogEntry) error) *auditLog {
	return &auditLog{insert: insert, queue: make(chan *auditAppend, 1024), stop: make(chan struct{}), stopped: make(chan struct{})}
}

// append queues entries and waits for their commit. When ctx ends first the
// caller gives up waiting; the rows may still be written, which errs on the
// side of the log.
func (a *auditLog) append(ctx context.Context, entries []access.LogEntry) error {
	a.start.Do(func() { go a.run() })
	req := &auditAppend{entries: entries, done: make(chan error, 1)}
	select {
	case a.queue <- req:
	case <-a.stopped:
		return errAuditClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-a.stopped:
		select {
		case err := <-req.done:
			return err
		default:
			return errAuditClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *auditLog) run() {
	defer close(a.stopped)
	for {
		var first *auditAppend
		select {
		case first = <-a.queue:
		case <-a.stop:
			a.drain()
			return
		}
		batch := []*auditAppend{first}
		rows := len(first.entries)
	gather:
		for rows < maxAuditBatch {
			select {
			case next := <-a.queue:
				batch = append(batch, next)
				rows += len(next.entries)
			default:
				break gather
			}
		}
		a.commit(batch, rows)
	}
}

// commit inserts a batch. If the batch fails, each append is retried on its
// own, so that one request's bad row (or a brief outage) fails that request
// and not the others it happened to share a commit with.
func (a *auditLog) commit(batch []*auditAppend, rows int) {
	a.commits.Add(1)
	a.appends.Add(int64(len(batch)))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if len(batch) > 1 {
		all := make([]access.LogEntry, 0, rows)
		for _, r := range batch {
			all = append(all, r.entries...)
		}
		if a.insert(ctx, all) == nil {
			for _, r := range batch {
				r.done <- nil
			}
			return
		}
	}
	for _, r := range batch {
		r.done <- a.insert(ctx, r.entries)
	}
}

// drain answers what is queued at shutdown.
func (a *auditLog) drain() {
	for {
		select {
		case r := <-a.queue:
			a.commit([]*auditAppend{r}, len(r.entries))
		default:
			return
		}
	}
}

// close stops the writer after it has committed what is queued.
func (a *auditLog) close() {
	a.closing.Do(func() {
		started := true
		a.start.Do(func() { started = false; close(a.stopped) })
		if started {
			close(a.stop)
			<-a.stopped
		}
	})
}

var errAuditClosed = &apperr.Error{Code: apperr.Unavailable, Message: "访问日志已关闭，请稍后重试"}

// AuditBatching returns how many group commits the access log has made and
// how many appends (a request's rows) they carried: the load test's measure
// of how well commits are shared.
func (db *DB) AuditBatching() (commits, appends int64) {
	return db.audit.commits.Load(), db.audit.appends.Load()
}
