package postgres_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// A multi-host URL with target_session_attrs=read-write (the HA set-up of
// deploy/ha) connects to the first host that accepts writes: a host that is
// down is passed over, and a server that only reads is refused.
func TestOpenMultiHostFindsTheWritableHost(t *testing.T) {
	db := pgtest.NewDB(t)
	u, err := url.Parse(pgtest.AppURL(t, db))
	if err != nil {
		t.Fatal(err)
	}
	live := u.Host
	u.Host = deadAddr(t) + "," + live
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	q.Set("connect_timeout", "3")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	mdb, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("multi-host URL with the first host down: %v", err)
	}
	defer mdb.Close()
	var port string
	if err := mdb.GetContext(ctx, &port, `SELECT current_setting('port')`); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(live, ":"+port) {
		t.Fatalf("connected to port %s, want the live host %s", port, live)
	}

	// The live server now only reads, as a standby would: the connector
	// finds no writable host and says so, rather than serving from it.
	su := pgtest.Superuser(t, db)
	var name string
	_ = su.Get(&name, `SELECT current_database()`)
	if _, err := su.Exec(`ALTER DATABASE ` + pq.QuoteIdentifier(name) + ` SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	defer su.Exec(`ALTER DATABASE ` + pq.QuoteIdentifier(name) + ` RESET default_transaction_read_only`)
	if rdb, err := postgres.Open(ctx, u.String()); err == nil {
		rdb.Close()
		t.Fatal("a read-only server was taken for the primary")
	}
}

// A write that reaches a server which only reads (a standby, or a primary
// being demoted) answers 503, never a 500.
func TestTranslateReadOnlyIsUnavailable(t *testing.T) {
	err := postgres.Translate(&pq.Error{Code: "25006", Message: "cannot execute INSERT in a read-only transaction"})
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.Unavailable {
		t.Fatalf("read-only refusal translates to %v", err)
	}
}
