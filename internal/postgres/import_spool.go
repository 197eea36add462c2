package postgres

import (
	"errors"
	"io"
	"os"
)

// spool keeps the rows of a COPY that cannot run yet in a temporary file,
// already in COPY's text format (copyText), so that the COPY later receives
// exactly the bytes it would have received then, with nothing to decode.
type spool struct {
	copyText
	f *os.File
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "healthrec-import-*.spool")
	if err != nil {
		return nil, err
	}
	s := &spool{f: f}
	s.copyText = newCopyText(func(rows []byte) error {
		_, err := f.Write(rows)
		return err
	})
	return s, nil
}

// replay sends every row to c, in the order written, a chunk of whole rows
// at a time.
func (s *spool) replay(c *copier) error {
	if err := s.flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	rest, err := sendLines(s.f, "import spool", c.send)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("import spool: the last row is cut short")
	}
	c.n += s.n
	return nil
}

// remove deletes the file.
func (s *spool) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}
