package postgres

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"

	"github.com/jmoiron/sqlx"

	"healthrec/internal/civil"
)

// copier streams rows into one table with COPY. While it is open the
// transaction can run nothing else.
//
// It writes COPY's text format itself (copyText), a chunk of rows at a
// time, through lib/pq's COPY statement (CopyData) on the import's own
// connection, rather than one database/sql Exec per row: on the 1M county
// those calls were a quarter of the entries' 45.6 s of Go CPU (lib/pq's
// encoding included), and their boxed arguments garbage to collect; with
// the copier the step took 39 s.
type copier struct {
	copyText
	ctx  context.Context
	conn *sqlx.Conn
	stmt copyStream
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
	c := &copier{ctx: ctx, conn: t.conn}
	c.copyText = newCopyText(c.send)
	// Identifiers are this file's constants, never input.
	var err error
	if c.stmt, err = startCopy(ctx, t.conn, fmt.Sprintf("COPY %s (%s) FROM STDIN", table, strings.Join(columns, ", "))); err != nil {
		return nil, err
	}
	return c, nil
}

// startCopy starts the COPY … FROM STDIN statement q on conn.
func startCopy(ctx context.Context, conn *sqlx.Conn, q string) (copyStream, error) {
	var stmt copyStream
	err := conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("postgres: the driver's connection %T prepares no COPY", dc)
		}
		st, err := prep.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		if stmt, ok = st.(copyStream); !ok {
			st.Close()
			return fmt.Errorf("postgres: the driver's COPY statement %T takes no data", st)
		}
		return nil
	})
	return stmt, translate(err)
}

// endCopy ends the COPY stmt on conn and returns the rows it wrote, or the
// first error PostgreSQL raised.
func endCopy(conn *sqlx.Conn, stmt copyStream) (int64, error) {
	var n int64
	err := conn.Raw(func(any) error {
		// No values: lib/pq ends the COPY and waits for its result.
		res, err := stmt.Exec(nil)
		if err == nil {
			n, err = res.RowsAffected()
		}
		if cerr := stmt.Close(); err == nil {
			err = cerr
		}
		return err
	})
	return n, translate(err)
}

// CopyCSV copies r, a CSV file whose first line names its columns, as it
// is into table (which has those columns, in that order) on conn, within
// whatever transaction conn has open, and returns the rows copied. The
// file goes through unchanged, a chunk of whole lines at a time: the
// floor cmd/bench measures a load against. Identifiers are the caller's
// constants, never input.
func CopyCSV(ctx context.Context, conn *sqlx.Conn, table string, r io.Reader) (int64, error) {
	stmt, err := startCopy(ctx, conn, fmt.Sprintf("COPY %s FROM STDIN (FORMAT csv, HEADER true)", table))
	if err != nil {
		return 0, err
	}
	// The copier's send, without its text writer: the file's lines are
	// already COPY's input.
	send := (&copier{ctx: ctx, conn: conn, stmt: stmt}).send
	rest, err := sendLines(r, "CopyCSV "+table, send)
	if err == nil && len(rest) > 0 {
		err = send(append(rest, '\n')) // a last line without its newline
	}
	n, cerr := endCopy(conn, stmt)
	if err != nil {
		return 0, translate(err)
	}
	return n, cerr
}

// sendLines reads r a chunk at a time and gives send whole lines only, a
// line longer than the buffer growing it; it returns what follows the last
// newline (nothing when r ends with one). A read error is named after what.
func sendLines(r io.Reader, what string, send func(lines []byte) error) (rest []byte, err error) {
	buf := make([]byte, copyChunk)
	held := 0 // the start of a line read but not yet sent
	for {
		if held == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		n, rerr := r.Read(buf[held:])
		held += n
		if last := bytes.LastIndexByte(buf[:held], '\n'); last >= 0 {
			if err := send(buf[:last+1]); err != nil {
				return nil, err
			}
			held = copy(buf, buf[last+1:held])
		}
		if errors.Is(rerr, io.EOF) {
			return buf[:held], nil
		}
		if rerr != nil {
			return nil, fmt.Errorf("%s: %w", what, rerr)
		}
	}
}

// send sends whole rows, each ended by its newline.
func (c *copier) send(rows []byte) error {
	if len(rows) == 0 {
		return nil
	}
	// CopyData adds the last newline, and copies the chunk into lib/pq's
	// buffer before it returns: the chunk's bytes are read as a string
	// without a copy of their own, and may be reused.
	chunk := unsafe.String(&rows[0], len(rows)-1)
	return translate(c.conn.Raw(func(any) error {
		_, err := c.stmt.CopyData(c.ctx, chunk)
		return err
	}))
}

// close ends the COPY and reports the first error PostgreSQL raised, if any.
func (c *copier) close() (int, error) {
	err := c.flush()
	if _, rerr := endCopy(c.conn, c.stmt); err == nil {
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
		return appendEscaped(buf, x), nil
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

// appendEscaped appends s as COPY's text format reads text back: a
// backslash, newline, carriage return and tab escaped, the rest as is.
func appendEscaped[T string | []byte](buf []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; b {
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
	return buf
}

// copyText builds rows in COPY's text format in buf, a value at a time by
// its type: no value is boxed in an interface. (Boxing a county's 10M
// entries' values was 3.3 s of the import's Go CPU, and garbage for the
// collector, which then competed with PostgreSQL for the cores.) A chunk of
// whole rows goes to sink once it fills: the COPY's (copier) or a spool's
// file.
type copyText struct {
	buf []byte
	// more is set once a row has a value: the next one follows a tab.
	more bool
	// n counts the rows ended.
	n    int
	sink func(rows []byte) error
}

func newCopyText(sink func(rows []byte) error) copyText {
	return copyText{buf: make([]byte, 0, copyChunk+4096), sink: sink}
}

// endRow ends the row written since the last; it goes to the sink with the
// chunk it fills.
func (w *copyText) endRow() error {
	w.end()
	w.n++
	if len(w.buf) >= copyChunk {
		return w.flush()
	}
	return nil
}

// flush hands the rows buffered to the sink.
func (w *copyText) flush() error {
	err := w.sink(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *copyText) sep() {
	if w.more {
		w.buf = append(w.buf, '\t')
	}
	w.more = true
}

// end ends the row.
func (w *copyText) end() {
	w.buf = append(w.buf, '\n')
	w.more = false
}

func (w *copyText) null() {
	w.sep()
	w.buf = append(w.buf, `\N`...)
}

// text writes s; textOrNull writes "" as NULL.
func (w *copyText) text(s string) {
	w.sep()
	w.buf = appendEscaped(w.buf, s)
}

func (w *copyText) textOrNull(s string) {
	if s == "" {
		w.null()
		return
	}
	w.text(s)
}

// jsonOr writes the JSON document b, or def when b is empty.
func (w *copyText) jsonOr(b []byte, def string) {
	if len(b) == 0 {
		w.text(def)
		return
	}
	w.sep()
	w.buf = appendEscaped(w.buf, b)
}

// date writes d, the zero date as NULL.
func (w *copyText) date(d civil.Date) {
	if d.IsZero() {
		w.null()
		return
	}
	w.sep()
	w.buf = d.AppendISO(w.buf)
}

func (w *copyText) intOrNull(p *int) {
	if p == nil {
		w.null()
		return
	}
	w.sep()
	w.buf = strconv.AppendInt(w.buf, int64(*p), 10)
}

func (w *copyText) floatOrNull(p *float64) {
	if p == nil {
		w.null()
		return
	}
	w.sep()
	w.buf = strconv.AppendFloat(w.buf, *p, 'f', -1, 64)
}

// value writes v, of a type appendCopyText takes.
func (w *copyText) value(v any) error {
	w.sep()
	var err error
	w.buf, err = appendCopyText(w.buf, v)
	return err
}
