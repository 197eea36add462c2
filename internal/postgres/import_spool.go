package postgres

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// spool keeps the rows of a COPY that cannot run yet in a temporary file,
// each value with its type (NULL, text, integer, float), so that the COPY
// later receives exactly the values it would have received then.
type spool struct {
	f *os.File
	w *bufio.Writer
	n int
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "healthrec-import-*.spool")
	if err != nil {
		return nil, err
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

const (
	spoolNull byte = iota
	spoolText
	spoolInt
	spoolFloat
)

// row appends one row.
func (s *spool) row(values ...any) error {
	var buf [binary.MaxVarintLen64]byte
	s.w.Write(buf[:binary.PutUvarint(buf[:], uint64(len(values)))])
	for _, v := range values {
		switch x := v.(type) {
		case nil:
			s.w.WriteByte(spoolNull)
		case string:
			s.w.WriteByte(spoolText)
			s.w.Write(buf[:binary.PutUvarint(buf[:], uint64(len(x)))])
			s.w.WriteString(x)
		case int64:
			s.w.WriteByte(spoolInt)
			s.w.Write(buf[:binary.PutVarint(buf[:], x)])
		case float64:
			s.w.WriteByte(spoolFloat)
			s.w.Write(binary.LittleEndian.AppendUint64(buf[:0], math.Float64bits(x)))
		default:
			return fmt.Errorf("import spool: a value of type %T", v)
		}
	}
	s.n++
	return nil
}

// replay passes every row to fn, in the order written.
func (s *spool) replay(fn func(values ...any) error) error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(s.f, 1<<20)
	var values []any
	for i := 0; i < s.n; i++ {
		width, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("import spool: %w", err)
		}
		values = values[:0]
		for k := uint64(0); k < width; k++ {
			kind, err := r.ReadByte()
			if err != nil {
				return fmt.Errorf("import spool: %w", err)
			}
			switch kind {
			case spoolNull:
				values = append(values, nil)
			case spoolText:
				n, err := binary.ReadUvarint(r)
				if err != nil {
					return fmt.Errorf("import spool: %w", err)
				}
				b := make([]byte, n)
				if _, err := io.ReadFull(r, b); err != nil {
					return fmt.Errorf("import spool: %w", err)
				}
				values = append(values, string(b))
			case spoolInt:
				x, err := binary.ReadVarint(r)
				if err != nil {
					return fmt.Errorf("import spool: %w", err)
				}
				values = append(values, x)
			case spoolFloat:
				var b [8]byte
				if _, err := io.ReadFull(r, b[:]); err != nil {
					return fmt.Errorf("import spool: %w", err)
				}
				values = append(values, math.Float64frombits(binary.LittleEndian.Uint64(b[:])))
			default:
				return fmt.Errorf("import spool: bad value kind %d", kind)
			}
		}
		if err := fn(values...); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes the file.
func (s *spool) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}
