package postgres

import (
	"bytes"
	"errors"
	"fmt"
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
	buf := make([]byte, copyChunk)
	held := 0 // the start of a row read but not yet sent
	for {
		if held == len(buf) {
			buf = append(buf, make([]byte, len(buf))...) // a row longer than the buffer
		}
		n, err := s.f.Read(buf[held:])
		held += n
		if last := bytes.LastIndexByte(buf[:held], '\n'); last >= 0 {
			if serr := c.send(buf[:last+1]); serr != nil {
				return serr
			}
			held = copy(buf, buf[last+1:held])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("import spool: %w", err)
		}
	}
	if held != 0 {
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
