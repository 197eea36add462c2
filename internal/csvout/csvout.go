// Package csvout is the one CSV writer of every CSV the service writes. It
// neutralises cells a spreadsheet would run as a formula (OWASP's "CSV
// injection"): a staff, village or resident name such as
// =HYPERLINK("http://x","y") comes out as text.
package csvout

import (
	"encoding/csv"
	"io"
	"regexp"
)

// Writer writes CSV records with every cell neutralised.
type Writer struct {
	cw  *csv.Writer
	buf []string
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{cw: csv.NewWriter(w)} }

// Write writes one record; the caller's slice is left as it was.
func (w *Writer) Write(record []string) error {
	w.buf = w.buf[:0]
	for _, c := range record {
		w.buf = append(w.buf, Neutralise(c))
	}
	return w.cw.Write(w.buf)
}

// Flush writes what is buffered and returns the first error of any write.
func (w *Writer) Flush() error {
	w.cw.Flush()
	return w.cw.Error()
}

// number is a plain decimal number: a spreadsheet reads it as a number, not
// a formula, and the contract of numeric columns (a negative gap, -5.0) is
// that it stays one.
var number = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$`)

// Neutralise returns a cell that begins with =, +, -, @, a tab or a
// carriage return with a single quote before it, so that a spreadsheet
// shows it as text; a plain number is returned as it is.
func Neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if number.MatchString(cell) {
			return cell
		}
		return "'" + cell
	}
	return cell
}
