// Package postgres is the service's storage: every SQL statement lives here,
// one file per entity. Public methods open a transaction and call unexported
// helpers that take the transaction, so helpers compose.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	sqlfiles "healthrec/sql"
)

// DB is the service's database handle.
type DB struct {
	*sqlx.DB
	// Now is the clock; tests replace it to cross expiry and deadline edges
	// without sleeping.
	Now func() time.Time
	// SMS queues every new inbox message for delivery by SMS as well: set
	// when a gateway is configured (inbox.go).
	SMS bool
	// stmts are the prepared statements that GetContext, SelectContext and
	// ExecContext go through (statements.go).
	stmts *statements
	// audit commits access-log appends in groups (audit.go).
	audit *auditLog
	// pending is the audit row of the one write this copy of the store is
	// for (Audited), or nil.
	pending *access.PendingAudit
	// split, when set, is when a sampled report draws on two connections
	// (rates.go); nil for the default.
	split *drawSplit
}

// Open connects to url and checks the connection.
//
// Parameters go in lib/pq's binary_parameters mode: a statement with
// arguments is then one round trip (parse, bind and execute sent together)
// instead of two (prepare, then execute), which halves the network waits of
// every request. In that mode a []byte argument is sent as binary data, so
// JSON for jsonb columns is passed as a string.
//
// url may name several hosts (postgres://u:p@db1:5432,db2:5432/healthrec?
// target_session_attrs=read-write&connect_timeout=3): a new connection goes
// to the first host that accepts writes, so after a standby's promotion the
// pool's next connections find the new primary by themselves, and requests
// answer 503 until then (docs/operations.md).
func Open(ctx context.Context, url string) (*DB, error) {
	dsn, err := multiHostDSN(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	cfg.BinaryParameters = true
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	out := &DB{DB: db, Now: time.Now, stmts: newStatements(db)}
	out.audit = newAuditLog(out.insertAccess)
	return out, nil
}

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	// Out-of-order is allowed so that migrations written on parallel branches
	// apply on a database that already has a later one.
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB.DB, mustSub(sqlfiles.Migrations, "migrations"), goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Today returns the current date in local time, truncated to midnight UTC so
// that it compares with DATE columns scanned by lib/pq.
func (db *DB) Today() time.Time {
	n := db.Now()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// inTx runs fn in a transaction, committing when fn returns nil. A
// transaction PostgreSQL aborts for a deadlock or a serialisation failure
// runs again from the start (retry): fn must set what it returns afresh on
// every run, and its writes are undone with the aborted transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	return translate(db.retry(ctx, func() error {
		t, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		defer t.Rollback()
		tx := &Tx{Tx: t, stmts: db.stmts}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	}))
}

// maxAttempts bounds the runs of a transaction that keeps being aborted for
// a deadlock or a serialisation failure.
const maxAttempts = 6

// retry runs attempt — one transaction, or one statement outside any — until
// it succeeds, fails otherwise, or has been aborted maxAttempts times for a
// deadlock (40P01) or a serialisation failure (40001). It returns the
// error as the driver gave it, for the caller to translate. PostgreSQL resolves a deadlock by aborting one of the transactions
// in it; the others go on, so the aborted one, run again a moment later,
// normally passes. The write paths take their locks in one order (docs/rates.md)
// so that deadlocks are rare; this keeps the rare one from reaching a user.
// Creates are safe to run again: their idempotency keys are written in the
// same transaction.
func (db *DB) retry(ctx context.Context, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || !retryable(err) {
			return err
		}
		if n == maxAttempts {
			return &apperr.Error{Code: apperr.Unavailable, Message: "数据库繁忙，请稍后重试"}
		}
		// A short random pause, growing, so that the transactions that
		// collided do not collide again.
		select {
		case <-time.After(time.Duration(n) * time.Duration(5+rand.IntN(20)) * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

// retryable is whether err is a deadlock or a serialisation failure.
func retryable(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// Translate is translate for callers outside the package: the HTTP layer's
// last line of defence for a storage error that escaped untranslated.
func Translate(err error) error { return translate(err) }

// translate turns driver errors into application errors once, here. A
// client never sees PostgreSQL's own text: refused input gets a Chinese
// reason, with the field where the error names a column, and the driver
// error stays the Cause, for the server log.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFoundf("未找到")
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code.Class() {
		case "08", "57": // connection exception, operator intervention (shutdown)
			return &apperr.Error{Code: apperr.Unavailable, Message: "数据库暂不可用，请稍后重试", Cause: err}
		case "22", "54": // data exception (bad encoding, out of range…), program limit (value too large to index)
			return invalidInput(pe, dataReason(pe), err)
		}
		switch pe.Code {
		case "25006": // read_only_sql_transaction: a standby, or a primary being demoted
			return &apperr.Error{Code: apperr.Unavailable, Message: "数据库暂不可用，请稍后重试", Cause: err}
		case "23505":
			return &apperr.Error{Code: apperr.Conflict, Message: "数据已存在，不能重复登记", Cause: err}
		case "23503":
			return invalidInput(pe, "引用的对象不存在", err)
		case "23502":
			return invalidInput(pe, "不能为空", err)
		case "23514":
			return invalidInput(pe, "不符合取值规则", err)
		}
	}
	if isConnError(err) {
		return &apperr.Error{Code: apperr.Unavailable, Message: "数据库暂不可用，请稍后重试", Cause: err}
	}
	return err
}

// dataReason is the Chinese reason for a data exception (class 22) or a
// program limit (54).
func dataReason(pe *pq.Error) string {
	switch pe.Code {
	case "22001", "54000": // string_data_right_truncation, program_limit_exceeded
		return "内容过长"
	case "22003": // numeric_value_out_of_range
		return "数值超出范围"
	case "22007", "22008": // invalid_datetime_format, datetime_field_overflow
		return "日期或时间不合法"
	case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
		return "含有不允许的字符"
	case "22P02": // invalid_text_representation
		return "格式不合法"
	}
	return "取值不合法"
}

// invalidInput is a 400 naming the column when PostgreSQL tells which one:
// directly (not-null), or through a constraint's generated name,
// <table>_<column>_check or _fkey.
func invalidInput(pe *pq.Error, reason string, cause error) *apperr.Error {
	if f := pgField(pe); f != "" {
		e := apperr.InvalidField(f, reason)
		e.Cause = cause
		return e
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "输入有误：" + reason, Cause: cause}
}

func pgField(pe *pq.Error) string {
	if pe.Column != "" {
		return pe.Column
	}
	c := pe.Constraint
	if c == "" || pe.Table == "" || !strings.HasPrefix(c, pe.Table+"_") {
		return ""
	}
	c = strings.TrimPrefix(c, pe.Table+"_")
	c = strings.TrimRight(c, "0123456789")
	for _, suf := range []string{"_check", "_fkey"} {
		if strings.HasSuffix(c, suf) {
			return strings.TrimSuffix(c, suf)
		}
	}
	return ""
}

// isConflictOn reports whether err is a unique violation of the constraint.
func isConflictOn(err error, constraint string) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505" && pe.Constraint == constraint
}
