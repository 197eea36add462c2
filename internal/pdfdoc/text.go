package pdfdoc

import (
	"strings"
	"unicode"
)

// runeWidth returns the advance width of r at the current font size. Widths
// are measured once per rune at size 1000 and scaled, which is exact for
// gopdf (no kerning, no character spacing).
func (d *Doc) runeWidth(r rune) float64 {
	u, ok := d.unitW[r]
	if !ok {
		d.fail(d.pdf.SetFontSize(1000))
		w, err := d.pdf.MeasureTextWidth(string(r))
		d.fail(err)
		d.fail(d.pdf.SetFontSize(d.size))
		u = w / 1000
		d.unitW[r] = u
	}
	return u * d.size
}

// width returns the width of s at the current font size.
func (d *Doc) width(s string) float64 {
	w := 0.0
	for _, r := range s {
		w += d.runeWidth(r)
	}
	return w
}

// ellipsis marks text cut short by fit.
const ellipsis = "…"

// fit returns s, cut and ended with "…" if it is wider than maxW.
func (d *Doc) fit(s string, maxW float64) string {
	if d.width(s) <= maxW {
		return s
	}
	limit := maxW - d.width(ellipsis)
	w := 0.0
	for i, r := range s {
		w += d.runeWidth(r)
		if w > limit {
			return strings.TrimRight(s[:i], " ") + ellipsis
		}
	}
	return s
}

// clean turns tabs into spaces and drops other control characters except
// "\n" (the font has no glyphs for them and gopdf would print a space).
func clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// wrap splits s into lines no wider than maxW at the current font size.
// "\n" forces a break. An empty string gives one empty line.
func (d *Doc) wrap(s string, maxW float64) []string {
	var lines []string
	for _, para := range strings.Split(clean(s), "\n") {
		lines = append(lines, d.wrapLine([]rune(para), maxW)...)
	}
	return lines
}

func (d *Doc) wrapLine(rs []rune, maxW float64) []string {
	var out []string
	start := 0 // first rune of the current line
	brk := -1  // last place the current line may end (before rs[brk])
	w := 0.0   // width of rs[start:i]
	for i := 0; i < len(rs); {
		r := rs[i]
		if i == start && r == ' ' && len(out) > 0 {
			start, i = start+1, i+1 // no leading space on a continued line
			continue
		}
		if i > start && canBreakBefore(rs[i-1], r) {
			brk = i
		}
		rw := d.runeWidth(r)
		if w+rw > maxW && i > start {
			cut := i
			if brk > start {
				cut = brk
			}
			out = append(out, strings.TrimRight(string(rs[start:cut]), " "))
			start, brk = cut, -1
			w = 0
			for _, r := range rs[start:i] {
				w += d.runeWidth(r)
			}
			continue // look at rs[i] again, on the new line
		}
		w += rw
		i++
	}
	return append(out, strings.TrimRight(string(rs[start:]), " "))
}

// canBreakBefore reports whether a line may end between prev and r: after a
// space, or next to a CJK character, but never before closing punctuation or
// after opening punctuation.
func canBreakBefore(prev, r rune) bool {
	switch {
	case strings.ContainsRune("，。、；：？！）》」』〕】”’…·,.;:?!)]}%", r):
		return false
	case strings.ContainsRune("（《「『〔【“‘([{", prev):
		return false
	case prev == ' ':
		return true
	}
	return isCJK(prev) || isCJK(r)
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303f) || // CJK symbols and punctuation
		(r >= 0xff00 && r <= 0xffef) // full-width forms
}
