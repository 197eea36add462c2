package pdfdoc

import (
	"strings"

	"github.com/signintech/gopdf"
)

// maxCellLines is the most lines a table cell shows; longer text is cut and
// ended with "…".
const maxCellLines = 4

// Table draws a bordered table across the content width. The header row has a
// tinted background and is repeated at the top of every page the table runs
// onto. widths are relative column weights ({1, 3} makes the second column
// three times as wide as the first); nil, a wrong length or non-positive
// weights give equal columns. Cell text wraps inside its column (at most four
// lines, then "…"); cells that look numeric ("12", "90.0%", "-3.5") are
// right-aligned. Rows with missing cells are padded, extra cells ignored.
func (d *Doc) Table(header []string, rows [][]string, widths []float64) {
	if !d.ok() {
		return
	}
	n := len(header)
	if n == 0 {
		for _, r := range rows {
			n = max(n, len(r))
		}
	}
	if n == 0 {
		return
	}
	cols := columnWidths(widths, n, d.contentW())
	d.setSize(sizeTable)

	var head *tableRow
	if len(header) > 0 {
		head = d.layoutRow(header, cols, true)
	}
	drawHead := func() {
		if head != nil {
			d.drawRow(head, cols)
		}
	}

	// Keep the header with the first row.
	first := 0.0
	if len(rows) > 0 {
		first = d.layoutRow(rows[0], cols, false).h
	}
	if head != nil {
		d.ensure(head.h + first)
	}
	drawHead()
	for _, r := range rows {
		row := d.layoutRow(r, cols, false)
		if d.ensure(row.h) {
			drawHead()
		}
		d.drawRow(row, cols)
	}
	d.y += 8
}

// Cell padding and line height for tables.
const (
	cellPadX = 4
	cellPadY = 3
)

func tableLineH() float64 { return sizeTable * 1.45 }

type tableRow struct {
	header bool
	cells  [][]string // the wrapped lines of each cell
	align  []int
	h      float64
}

// layoutRow wraps each cell to its column and works out the row height.
func (d *Doc) layoutRow(cells []string, cols []float64, header bool) *tableRow {
	row := &tableRow{header: header, cells: make([][]string, len(cols)), align: make([]int, len(cols))}
	most := 1
	for i, w := range cols {
		s := ""
		if i < len(cells) {
			s = cells[i]
		}
		inner := max(w-2*cellPadX, 1)
		lines := d.wrap(s, inner)
		if len(lines) > maxCellLines {
			lines = lines[:maxCellLines]
			lines[maxCellLines-1] = d.fit(lines[maxCellLines-1]+ellipsis, inner)
		}
		row.cells[i] = lines
		switch {
		case header:
			row.align[i] = gopdf.Center
		case looksNumeric(s):
			row.align[i] = gopdf.Right
		default:
			row.align[i] = gopdf.Left
		}
		most = max(most, len(lines))
	}
	row.h = float64(most)*tableLineH() + 2*cellPadY
	return row
}

func (d *Doc) drawRow(row *tableRow, cols []float64) {
	if row.header {
		d.fillRect(d.margin, d.y, d.contentW(), row.h, colHeadBg)
	}
	x := d.margin
	lh := tableLineH()
	for i, w := range cols {
		d.strokeRect(x, d.y, w, row.h, colBorder, 0.5)
		for j, line := range row.cells[i] {
			d.textAt(x+cellPadX, d.y+cellPadY+float64(j)*lh, w-2*cellPadX, lh, line, row.align[i], colText)
		}
		x += w
	}
	d.y += row.h
}

// columnWidths scales relative weights to the total width.
func columnWidths(weights []float64, n int, total float64) []float64 {
	sum := 0.0
	valid := len(weights) == n
	for _, w := range weights {
		if w <= 0 {
			valid = false
		}
		sum += w
	}
	cols := make([]float64, n)
	for i := range cols {
		if valid {
			cols[i] = total * weights[i] / sum
		} else {
			cols[i] = total / float64(n)
		}
	}
	return cols
}

// looksNumeric reports whether s is a number, possibly signed, with
// thousands separators, a decimal point or a trailing "%".
func looksNumeric(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, "%")
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' || r == ',':
		default:
			return false
		}
	}
	return digits > 0
}
