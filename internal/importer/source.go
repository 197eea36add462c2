package importer

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Source holds the files of one import.
type Source interface {
	// Names lists the files present, known or not: an unknown name is
	// reported, so that a misspelt file is not silently left out.
	Names() ([]string, error)
	// Open opens a file by name. The importer reads residents.csv and
	// entries.csv twice, so a file must open more than once.
	Open(name string) (io.ReadCloser, error)
}

// Dir is a directory of CSV files; files not ending in .csv are ignored.
type Dir string

// Names lists the directory's CSV files.
func (d Dir) Names() ([]string, error) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Open opens one file of the directory.
func (d Dir) Open(name string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(string(d), filepath.Base(name)))
}

// CountRows counts a file's data rows by its line breaks, to show progress
// against a total. A quoted field holding a line break counts twice, so it
// is an estimate: the rows checked may stop short of it.
func CountRows(src Source, name string) (int, error) {
	rc, err := src.Open(name)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	buf := make([]byte, 64<<10)
	lines, last := 0, byte('\n')
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			lines += bytes.Count(buf[:n], []byte{'\n'})
			last = buf[n-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		lines++ // the last line has no line break
	}
	return max(lines-1, 0), nil // less the header
}
