package postgres

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// maxPrepared bounds the statements kept prepared. The service's queries are
// a fixed set of texts; the bound only guards against a caller that builds
// texts without end, whose statements then run unprepared.
const maxPrepared = 1000

// statements keeps one prepared statement per query text, which database/sql
// prepares once on each pooled connection and reuses. A prepared statement
// skips PostgreSQL's parse and analysis and, after a few runs, its planning:
// for the short lookups of a request, planning cost more than running.
type statements struct {
	db *sqlx.DB
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

func newStatements(db *sqlx.DB) *statements {
	return &statements{db: db, m: map[string]*sqlx.Stmt{}}
}

// get returns the prepared statement for query, or nil when it should run
// unprepared: a query without arguments (it may hold several statements,
// which only the simple protocol takes), a full cache, or a text that does
// not prepare (run unprepared, it reports its own error).
func (s *statements) get(ctx context.Context, query string, nargs int) *sqlx.Stmt {
	st, known := s.lookup(query, nargs)
	if st != nil || known {
		return st
	}
	return s.prepare(ctx, query)
}

// cached returns the prepared statement for query if there is one, and
// otherwise prepares it in the background and returns nil. A transaction
// asks this way: it holds a connection, and preparing on the pool needs
// another, which a pool full of such transactions would never free.
func (s *statements) cached(query string, nargs int) *sqlx.Stmt {
	st, known := s.lookup(query, nargs)
	if st != nil || known {
		return st
	}
	s.mu.Lock()
	if _, ok := s.m[query]; ok {
		s.mu.Unlock()
		return nil
	}
	s.m[query] = nil // being prepared
	s.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.prepare(ctx, query)
	}()
	return nil
}

// lookup returns the statement for query and whether the query is known:
// prepared, being prepared, or not to be prepared.
func (s *statements) lookup(query string, nargs int) (*sqlx.Stmt, bool) {
	if nargs == 0 {
		return nil, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[query]
	return st, ok || len(s.m) >= maxPrepared
}

func (s *statements) prepare(ctx context.Context, query string) *sqlx.Stmt {
	st, err := s.db.PreparexContext(ctx, query)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if prev, ok := s.m[query]; ok && prev == nil {
			delete(s.m, query) // try again next time: the database may have been away
		}
		return nil
	}
	if prev, ok := s.m[query]; ok && prev != nil {
		st.Close()
		return prev
	}
	s.m[query] = st
	return st
}

func (s *statements) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q, st := range s.m {
		if st != nil {
			st.Close()
		}
		delete(s.m, q)
	}
}

// GetContext is sqlx's GetContext through the prepared statements.
func (db *DB) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := db.stmts.get(ctx, query, len(args)); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return db.DB.GetContext(ctx, dest, query, args...)
}

// SelectContext is sqlx's SelectContext through the prepared statements.
func (db *DB) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := db.stmts.get(ctx, query, len(args)); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return db.DB.SelectContext(ctx, dest, query, args...)
}

// ExecContext is database/sql's ExecContext through the prepared statements.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := db.stmts.get(ctx, query, len(args)); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.DB.ExecContext(ctx, query, args...)
}

// Close commits the queued audit rows, then closes the prepared statements
// and the pool.
func (db *DB) Close() error {
	db.audit.close()
	db.stmts.close()
	return db.DB.Close()
}

// Tx is a transaction whose GetContext, SelectContext and ExecContext go
// through the prepared statements, or run unprepared when stmts is nil (the
// reports', whose plans must follow each call's parameters).
type Tx struct {
	*sqlx.Tx
	stmts *statements
	// db is, for a report's read-only transaction (inSnapshot), the store
	// it may open a second transaction of the same snapshot on (beside).
	db *DB
}

// stmt returns the transaction's handle on the prepared statement for query,
// or nil to run it unprepared. database/sql reuses the statement already
// prepared on the transaction's connection.
func (tx *Tx) stmt(ctx context.Context, query string, nargs int) *sqlx.Stmt {
	if tx.stmts == nil {
		return nil
	}
	if st := tx.stmts.cached(query, nargs); st != nil {
		return tx.StmtxContext(ctx, st)
	}
	return nil
}

// GetContext is sqlx's GetContext through the prepared statements.
func (tx *Tx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := tx.stmt(ctx, query, len(args)); st != nil {
		defer st.Close()
		return st.GetContext(ctx, dest, args...)
	}
	return tx.Tx.GetContext(ctx, dest, query, args...)
}

// SelectContext is sqlx's SelectContext through the prepared statements.
func (tx *Tx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := tx.stmt(ctx, query, len(args)); st != nil {
		defer st.Close()
		return st.SelectContext(ctx, dest, args...)
	}
	return tx.Tx.SelectContext(ctx, dest, query, args...)
}

// ExecContext is database/sql's ExecContext through the prepared statements.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.stmt(ctx, query, len(args)); st != nil {
		defer st.Close()
		return st.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}
