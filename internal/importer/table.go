package importer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"healthrec/internal/civil"
)

// table streams the data rows of one CSV file. Columns may come in any
// order; every column of the file's format must be in the header and no other.
type table struct {
	im       *importer
	file     string
	columns  []string
	rc       io.Closer
	r        *csv.Reader
	pos      []int // the record index of each column, -1 for an absent optional one
	optional []string
	width    int
	rec      []string
	row      row
	// report is false on a second pass over a file already checked.
	report bool
	err    error
}

// open opens a file for reading, or returns nil when it is absent or its
// header is unusable (which is reported). Columns named in optional may be
// left out of the header; they then read as empty.
func (im *importer) open(file string, columns []string, report bool, optional ...string) (*table, error) {
	if !im.present[file] {
		return nil, nil
	}
	rc, err := im.src.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	r := csv.NewReader(bufio.NewReaderSize(rc, 1<<16))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	t := &table{im: im, file: file, columns: columns, rc: rc, r: r, report: report, optional: optional}
	header, err := r.Read()
	if err == io.EOF {
		rc.Close()
		if report {
			im.failFile(file, 1, "", "文件为空，应有标题行")
		}
		return nil, nil
	}
	if err != nil {
		rc.Close()
		if report {
			im.failFile(file, 1, "", "标题行无法读取: "+csvReason(err))
		}
		return nil, nil
	}
	if !t.readHeader(header) {
		rc.Close()
		return nil, nil
	}
	if report {
		im.rep.count(file)
	}
	return t, nil
}

func (t *table) readHeader(header []string) bool {
	t.width = len(header)
	t.pos = make([]int, len(t.columns))
	at := map[string]int{}
	ok := true
	for i, h := range header {
		h = strings.TrimSpace(h)
		if i == 0 {
			// Spreadsheet programs save UTF-8 with a byte order mark.
			h = strings.TrimPrefix(h, "\ufeff")
		}
		if !utf8.ValidString(h) {
			t.headerProblem("", "标题行不是 UTF-8 文本：文件应以 UTF-8 编码保存（可能是 GBK）")
			return false
		}
		if _, dup := at[h]; dup {
			t.headerProblem(h, "列名重复")
			ok = false
		}
		at[h] = i
	}
	for i, c := range t.columns {
		p, found := at[c]
		if !found {
			p = -1
			if !slices.Contains(t.optional, c) {
				t.headerProblem(c, "缺少此列；应有的列: "+strings.Join(t.required(), ","))
				ok = false
			}
		}
		t.pos[i] = p
		delete(at, c)
	}
	for h := range at {
		t.headerProblem(h, "未知的列；应有的列: "+strings.Join(t.required(), ",")+optionalNote(t.optional))
		ok = false
	}
	return ok
}

// required lists the columns a header must have.
func (t *table) required() []string {
	var out []string
	for _, c := range t.columns {
		if !slices.Contains(t.optional, c) {
			out = append(out, c)
		}
	}
	return out
}

func optionalNote(optional []string) string {
	if len(optional) == 0 {
		return ""
	}
	return "，可选的列: " + strings.Join(optional, ",")
}

func (t *table) headerProblem(field, reason string) {
	if t.report {
		t.im.failFile(t.file, 1, field, reason)
	}
}

// next moves to the next data row that is well-formed CSV with the header's
// number of UTF-8 values, reporting the rows that are not.
func (t *table) next() bool {
	for {
		rec, err := t.r.Read()
		if err == io.EOF {
			return false
		}
		t.row = row{file: t.file}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				t.err = fmt.Errorf("read %s: %w", t.file, err)
				return false
			}
			t.row.line = pe.StartLine
			t.countRow()
			t.fail("", "CSV 格式错误: "+csvReason(err))
			continue
		}
		t.row.line, _ = t.r.FieldPos(0)
		t.countRow()
		if len(rec) != t.width {
			t.fail("", fmt.Sprintf("应有 %d 列，实际 %d 列", t.width, len(rec)))
			continue
		}
		for i, c := range t.columns {
			if t.pos[i] >= 0 && !utf8.ValidString(rec[t.pos[i]]) {
				t.fail(c, "不是 UTF-8 文本：文件应以 UTF-8 编码保存（可能是 GBK）")
			}
		}
		if t.row.bad {
			continue
		}
		t.rec = rec
		return true
	}
}

func (t *table) countRow() {
	if t.report {
		c := t.im.rep.count(t.file)
		c.Rows++
		if p := t.im.opt.Progress; p != nil && c.Rows%ProgressEvery == 0 {
			p(t.file, c.Rows)
		}
	}
}

// ProgressEvery is how many rows pass between calls of Options.Progress.
const ProgressEvery = 10000

func (t *table) close() error {
	t.rc.Close()
	return t.err
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote):
			return "引号不成对"
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return "未加引号的字段中出现引号"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// fail reports a bad value of the current row (on the reporting pass).
func (t *table) fail(field, reason string) {
	if t.report {
		t.im.fail(&t.row, field, reason)
	} else {
		t.row.bad = true
	}
}

// get returns column i of the current row, trimmed.
func (t *table) get(i int) string {
	if t.pos[i] < 0 {
		return ""
	}
	return strings.TrimSpace(t.rec[t.pos[i]])
}

// date reads an optional YYYY-MM-DD date of column i.
func (t *table) date(i int) civil.Date {
	s := t.get(i)
	if s == "" {
		return civil.Date{}
	}
	d, err := civil.Parse(s)
	if err != nil {
		t.fail(t.columns[i], "日期应为 YYYY-MM-DD 且为真实日期: "+quote(s))
	}
	return d
}

// requiredDate reads a date that must be present.
func (t *table) requiredDate(i int) civil.Date {
	if t.get(i) == "" {
		t.fail(t.columns[i], "不能为空")
		return civil.Date{}
	}
	return t.date(i)
}

// integer reads an optional integer of column i.
func (t *table) integer(i int) *int {
	s := t.get(i)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.fail(t.columns[i], "应为整数: "+quote(s))
		return nil
	}
	return &n
}

// decimal reads an optional decimal number of column i.
func (t *table) decimal(i int) *float64 {
	s := t.get(i)
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "xXeEnN") {
		t.fail(t.columns[i], "应为数字: "+quote(s))
		return nil
	}
	return &f
}

// quote shows a bad value in a reason, cut short.
func quote(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return strconv.Quote(s)
}
