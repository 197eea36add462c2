package postgres

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/jmoiron/sqlx"
)

// copier streams rows into one table with COPY. While it is open the
// transaction can run nothing else.
//
// It writes COPY's text format itself, a chunk of rows at a time, through
// lib/pq's COPY statement (CopyData) on the import's own connection, rather
// than one database/sql Exec per row: on the 1M county those calls were a
// quarter of the entries' 45.6 s of Go CPU (lib/pq's encoding included),
// and their boxed arguments garbage to collect; with the copier the step
// took 39 s. The values are what lib/pq encodes the same way: NULL,
// strings, int64, float64, booleans, and driver.Valuers of those.
type copier struct {
	ctx  context.Context
	conn *sqlx.Conn
	stmt copyStream
	buf  []byte
	n    int
}

// copyStream is lib/pq's COPY … FROM STDIN statement.
type copyStream interface {
	driver.Stmt
	// CopyData sends line and a newline; errors of earlier data may
	// surface here or at the end.
	CopyData(ctx context.Context, line string) (driver.Result, error)
}

// copyChunk is how much of the stream is sent at a time: about lib/pq's own
// buffer, which it flushes past 63 KiB.
const copyChunk = 64 << 10

func (t *ImportTx) copyInto(ctx context.Context, table string, columns ...string) (*copier, error) {
	c := &copier{ctx: ctx, conn: t.conn, buf: make([]byte, 0, copyChunk+4096)}
	// Identifiers are this file's constants, never input.
	q := fmt.Sprintf("COPY %s (%s) FROM STDIN", table, strings.Join(columns, ", "))
	err := t.conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("postgres: the driver's connection %T prepares no COPY", dc)
		}
		st, err := prep.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		if c.stmt, ok = st.(copyStream); !ok {
			st.Close()
			return fmt.Errorf("postgres: the driver's COPY statement %T takes no data", st)
		}
		return nil
	})
	if err != nil {
		return nil, translate(err)
	}
	return c, nil
}

// row adds one row; it is sent with the chunk it fills.
func (c *copier) row(values ...any) error {
	c.n++
	for i, v := range values {
		if i > 0 {
			c.buf = append(c.buf, '\t')
		}
		var err error
		if c.buf, err = appendCopyText(c.buf, v); err != nil {
			return err
		}
	}
	c.buf = append(c.buf, '\n')
	if len(c.buf) >= copyChunk {
		return c.flush()
	}
	return nil
}

// flush sends the rows buffered.
func (c *copier) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	// CopyData adds the last newline, and copies the chunk into lib/pq's
	// buffer before it returns: the chunk's bytes are read as a string
	// without a copy of their own, and reused.
	chunk := unsafe.String(&c.buf[0], len(c.buf)-1)
	err := c.conn.Raw(func(any) error {
		_, err := c.stmt.CopyData(c.ctx, chunk)
		return err
	})
	c.buf = c.buf[:0]
	return translate(err)
}

// close ends the COPY and reports the first error PostgreSQL raised, if any.
func (c *copier) close() (int, error) {
	err := c.flush()
	if rerr := c.conn.Raw(func(any) error {
		// No values: lib/pq ends the COPY and waits for its result.
		_, err := c.stmt.Exec(nil)
		if cerr := c.stmt.Close(); err == nil {
			err = cerr
		}
		return err
	}); err == nil {
		err = rerr
	}
	return c.n, translate(err)
}

// appendCopyText appends v in COPY's text format: \N for NULL, and in
// text the four characters COPY gives a meaning escaped.
func appendCopyText(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, `\N`...), nil
	case string:
		for i := 0; i < len(x); i++ {
			switch b := x[i]; b {
			case '\\':
				buf = append(buf, '\\', '\\')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, b)
			}
		}
		return buf, nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case float64:
		return strconv.AppendFloat(buf, x, 'f', -1, 64), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case driver.Valuer:
		dv, err := x.Value()
		if err != nil {
			return buf, err
		}
		if _, again := dv.(driver.Valuer); again {
			return buf, fmt.Errorf("postgres: COPY of a %T whose value is a %T", v, dv)
		}
		return appendCopyText(buf, dv)
	default:
		return buf, fmt.Errorf("postgres: COPY of a value of type %T", v)
	}
}
