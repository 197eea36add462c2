package access

import (
	"context"
	"sync/atomic"
)

// Every denial is logged (DESIGN §6.3). The gate logs those it decides; a
// request's other refusals (a role that may not call the route at all, a
// missing CSRF token, a handler's own reach check) are logged once at the
// end of the request by whoever answers it. TrackDenials lets that last
// step know whether the gate has logged the denial already.

type denialsKey struct{}

// TrackDenials returns a context in which the gate notes that it logged a
// denial.
func TrackDenials(ctx context.Context) context.Context {
	return context.WithValue(ctx, denialsKey{}, new(atomic.Bool))
}

// DenialLogged reports whether a denial was logged under ctx (TrackDenials).
func DenialLogged(ctx context.Context) bool {
	b, _ := ctx.Value(denialsKey{}).(*atomic.Bool)
	return b != nil && b.Load()
}

func noteDenial(ctx context.Context) {
	if b, _ := ctx.Value(denialsKey{}).(*atomic.Bool); b != nil {
		b.Store(true)
	}
}
