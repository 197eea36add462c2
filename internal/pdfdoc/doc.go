// Package pdfdoc builds simple flowing PDF documents with Chinese text: a
// title, section headings, paragraphs, label/value blocks, bordered tables and
// horizontal bar charts. It wraps github.com/signintech/gopdf and always uses
// the CJK font embedded in the binary (healthrec/web.Fonts), so reports work
// in a slim container with no system fonts.
//
// A Doc keeps a cursor (the current y position) and starts a new page by
// itself whenever the next line, table row or chart row would not fit. The
// drawing methods return nothing: the first error is remembered and returned
// by Err, Bytes and WriteTo, so a report reads as a plain list of calls:
//
//	d, err := pdfdoc.New()
//	if err != nil {
//		return err
//	}
//	d.Title("健康档案记录卡")
//	d.KeyValues([][2]string{{"姓名", "张三"}, {"性别", "男"}})
//	d.Heading("就诊记录")
//	d.Table([]string{"日期", "诊断"}, rows, []float64{1, 3})
//	_, err = d.WriteTo(w)
//
// All lengths are in PDF points (1/72 inch). A Doc is not safe for concurrent
// use, but any number of Docs may be built concurrently.
package pdfdoc

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/signintech/gopdf"

	"healthrec/web"
)

// FontFile is the path of the embedded font inside web.Fonts.
const FontFile = "fonts/wqy-microhei.ttf"

// fontFamily is the name the font is registered under in each gopdf document.
const fontFamily = "cjk"

// Font sizes in points.
const (
	sizeTitle   = 18
	sizeHeading = 13
	sizeBody    = 10.5
	sizeTable   = 9.5
	sizeSmall   = 8.5
	sizeTiny    = 7.5
)

// Colours. gopdf takes colours as separate r, g, b bytes.
var (
	colText    = rgb{0, 0, 0}
	colMuted   = rgb{96, 96, 96}
	colRule    = rgb{150, 150, 150}
	colBorder  = rgb{120, 120, 120}
	colGrid    = rgb{222, 222, 222}
	colHeadBg  = rgb{232, 236, 241}
	colAccent  = rgb{40, 90, 150}
	colBar     = rgb{70, 130, 180}
	colWarnBar = rgb{230, 126, 34}
	colTarget  = rgb{204, 0, 0}
)

type rgb struct{ r, g, b uint8 }

// ErrWritten is recorded when something is drawn on a Doc after Bytes or
// WriteTo has produced its PDF.
var ErrWritten = errors.New("pdfdoc: document already written")

// The font is parsed once per process (about 4.6 MB) and shared, read-only,
// by every Doc; each Doc embeds only the glyphs it uses.
var (
	fontOnce      sync.Once
	fontContainer *gopdf.FontContainer
	fontErr       error
)

func loadFont() (*gopdf.FontContainer, error) {
	fontOnce.Do(func() {
		data, err := web.Fonts.ReadFile(FontFile)
		if err != nil {
			fontErr = fmt.Errorf("pdfdoc: read embedded font: %w", err)
			return
		}
		fc := new(gopdf.FontContainer)
		if err := fc.AddTTFFontData(fontFamily, data); err != nil {
			fontErr = fmt.Errorf("pdfdoc: parse embedded font %s: %w", FontFile, err)
			return
		}
		fontContainer = fc
	})
	return fontContainer, fontErr
}

// Option configures a Doc made by New.
type Option func(*settings)

type settings struct {
	landscape bool
	w, h      float64 // a page size other than A4, in points
	margin    float64
	author    string
}

// Landscape makes the pages A4 landscape instead of A4 portrait.
func Landscape() Option { return func(s *settings) { s.landscape = true } }

// PageSize sets another page size, in points (A6 for the record card:
// 297.6 × 419.5). Landscape does not apply to it.
func PageSize(w, h float64) Option {
	return func(s *settings) {
		if w > 0 && h > 0 {
			s.w, s.h = w, h
		}
	}
}

// Margin sets the page margin on all four sides, in points (default 50,
// about 18 mm). The page number sits inside the bottom margin.
func Margin(pt float64) Option {
	return func(s *settings) {
		if pt > 0 {
			s.margin = pt
		}
	}
}

// Author sets the PDF's Author metadata (for example the organisation name).
func Author(name string) Option { return func(s *settings) { s.author = name } }

// Doc is a flowing A4 document: blocks are laid out top to bottom inside the
// margins, with automatic page breaks and a page number ("第 N 页") at the
// foot of every page.
type Doc struct {
	pdf          *gopdf.GoPdf
	info         gopdf.PdfInfo
	pageW, pageH float64
	margin       float64
	y            float64 // top of the next block
	page         int
	size         float64          // current font size
	unitW        map[rune]float64 // advance width of a rune at font size 1
	err          error
	out          []byte // the PDF, once Bytes or WriteTo has run
}

// New starts a document with one empty page: A4 portrait unless Landscape is
// given. It fails only if the embedded font cannot be loaded. The font is
// parsed on the first call (tens of milliseconds) and shared afterwards.
func New(opts ...Option) (*Doc, error) {
	s := settings{margin: 50}
	for _, o := range opts {
		o(&s)
	}
	fc, err := loadFont()
	if err != nil {
		return nil, err
	}
	size := *gopdf.PageSizeA4
	if s.landscape {
		size = *gopdf.PageSizeA4Landscape
	}
	if s.w > 0 {
		size = gopdf.Rect{W: s.w, H: s.h}
	}
	pdf := new(gopdf.GoPdf)
	pdf.Start(gopdf.Config{Unit: gopdf.UnitPT, PageSize: size})
	if err := pdf.AddTTFFontFromFontContainer(fontFamily, fc); err != nil {
		return nil, fmt.Errorf("pdfdoc: add font: %w", err)
	}
	if err := pdf.SetFont(fontFamily, "", sizeBody); err != nil {
		return nil, fmt.Errorf("pdfdoc: set font: %w", err)
	}
	d := &Doc{
		pdf:    pdf,
		info:   gopdf.PdfInfo{Author: s.author, Creator: "healthrec"},
		pageW:  size.W,
		pageH:  size.H,
		margin: s.margin,
		size:   sizeBody,
		unitW:  make(map[rune]float64),
	}
	d.pdf.SetInfo(d.info)
	d.addPage()
	if d.err != nil {
		return nil, d.err
	}
	return d, nil
}

// Err returns the first error met while drawing, if any.
func (d *Doc) Err() error { return d.err }

// Pages returns the number of pages so far.
func (d *Doc) Pages() int { return d.page }

// Bytes finishes the document and returns the PDF. It may be called more than
// once (it returns the same bytes); nothing may be drawn afterwards.
func (d *Doc) Bytes() ([]byte, error) {
	if d.out != nil {
		return d.out, nil
	}
	if d.err != nil {
		return nil, d.err
	}
	// gopdf's compile step is not repeatable (it appends to its page list
	// each time), so the result is kept.
	b, err := d.pdf.GetBytesPdfReturnErr()
	if err != nil {
		d.err = fmt.Errorf("pdfdoc: compile: %w", err)
		return nil, d.err
	}
	d.out = b
	return d.out, nil
}

// WriteTo finishes the document and writes the PDF to w. It implements
// io.WriterTo.
func (d *Doc) WriteTo(w io.Writer) (int64, error) {
	b, err := d.Bytes()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// Space adds pt points of vertical space (no more than to the page foot).
func (d *Doc) Space(pt float64) {
	if !d.ok() || pt <= 0 {
		return
	}
	d.y = min(d.y+pt, d.bottom())
}

// Title draws the document title, large and centred. The first title also
// becomes the PDF's Title metadata.
func (d *Doc) Title(s string) {
	if !d.ok() {
		return
	}
	if d.info.Title == "" {
		d.info.Title = s
		d.pdf.SetInfo(d.info)
	}
	d.setSize(sizeTitle)
	lh := sizeTitle * 1.5
	for _, line := range d.wrap(s, d.contentW()) {
		d.ensure(lh)
		d.textAt(d.margin, d.y, d.contentW(), lh, line, gopdf.Center, colText)
		d.y += lh
	}
	d.y += 8
}

// Heading draws a section heading with a rule under it. It starts a new page
// rather than sit alone at the foot of one.
func (d *Doc) Heading(s string) {
	if !d.ok() {
		return
	}
	d.setSize(sizeHeading)
	lh := sizeHeading * 1.5
	lines := d.wrap(s, d.contentW())
	d.y += 4
	d.ensure(float64(len(lines))*lh + 50) // keep with the next few lines
	for _, line := range lines {
		d.textAt(d.margin, d.y, d.contentW(), lh, line, gopdf.Left, colAccent)
		d.y += lh
	}
	d.line(d.margin, d.y+1, d.margin+d.contentW(), d.y+1, colAccent, 0.8, false)
	d.y += 7
}

// Text draws a paragraph, wrapped at the margins. Chinese text is broken
// between any two characters, Latin words at spaces; "\n" forces a new line.
// Closing punctuation such as "，" or "。" never starts a line.
func (d *Doc) Text(s string) {
	d.paragraph(s, sizeBody, colText)
}

// Note draws a paragraph in small grey type, for sources, footnotes and the
// like.
func (d *Doc) Note(s string) {
	d.paragraph(s, sizeSmall, colMuted)
}

func (d *Doc) paragraph(s string, size float64, c rgb) {
	if !d.ok() {
		return
	}
	d.setSize(size)
	lh := size * 1.6
	for _, line := range d.wrap(s, d.contentW()) {
		d.ensure(lh)
		d.textAt(d.margin, d.y, d.contentW(), lh, line, gopdf.Left, c)
		d.y += lh
	}
	d.y += size * 0.5
}

// KeyValues draws label/value pairs one per line, labels in grey followed by
// a full-width colon ("姓名：张三"), values aligned in a second column and
// wrapped to fit.
func (d *Doc) KeyValues(rows [][2]string) {
	if !d.ok() || len(rows) == 0 {
		return
	}
	d.setSize(sizeBody)
	lh := sizeBody * 1.6
	labelW := 0.0
	for _, r := range rows {
		labelW = max(labelW, d.width(r[0]+"："))
	}
	labelW = min(labelW+6, d.contentW()*0.35)
	valueX := d.margin + labelW
	valueW := d.contentW() - labelW
	for _, r := range rows {
		lines := d.wrap(r[1], valueW)
		d.ensure(lh)
		d.textAt(d.margin, d.y, labelW, lh, d.fit(r[0]+"：", labelW), gopdf.Left, colMuted)
		for i, line := range lines {
			if i > 0 {
				d.y += lh
				d.ensure(lh)
			}
			d.textAt(valueX, d.y, valueW, lh, line, gopdf.Left, colText)
		}
		d.y += lh
	}
	d.y += sizeBody * 0.5
}

// --- internals shared by all blocks ---

func (d *Doc) ok() bool {
	if d.out != nil && d.err == nil {
		d.err = ErrWritten
	}
	return d.err == nil
}

func (d *Doc) fail(err error) {
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("pdfdoc: %w", err)
	}
}

func (d *Doc) top() float64      { return d.margin }
func (d *Doc) bottom() float64   { return d.pageH - d.margin }
func (d *Doc) contentW() float64 { return d.pageW - 2*d.margin }

// ensure starts a new page if a block of height h does not fit below the
// cursor. It reports whether it did.
func (d *Doc) ensure(h float64) bool {
	if d.y+h <= d.bottom() || d.y <= d.top() {
		return false
	}
	d.addPage()
	return true
}

// addPage adds a page, draws its number and puts the cursor at the top.
// Every page has a fresh PDF graphics state (black, solid 1 pt lines), which
// is why the drawing helpers below set colour, width and dash every time.
func (d *Doc) addPage() {
	d.pdf.AddPage()
	d.page++
	d.y = d.top()
	keep := d.size
	d.setSize(sizeSmall)
	d.textAt(d.margin, d.pageH-d.margin/2-sizeSmall, d.contentW(), sizeSmall*1.5,
		"第 "+strconv.Itoa(d.page)+" 页", gopdf.Center, colMuted)
	d.setSize(keep)
}

func (d *Doc) setSize(size float64) {
	d.size = size
	d.fail(d.pdf.SetFontSize(size))
}

// textAt draws one line of text in the box (x, y, w, h), vertically centred
// and aligned horizontally by align (gopdf.Left, gopdf.Center or
// gopdf.Right). It does not clip: callers wrap or fit the text first.
func (d *Doc) textAt(x, y, w, h float64, s string, align int, c rgb) {
	if s == "" {
		return
	}
	// gopdf writes the text colour as the fill colour ("rg") inside the text
	// object, so it also changes the fill colour of later shapes; fillRect
	// therefore always sets its own.
	d.pdf.SetTextColor(c.r, c.g, c.b)
	d.pdf.SetXY(x, y)
	d.fail(d.pdf.CellWithOption(&gopdf.Rect{W: w, H: h}, s, gopdf.CellOption{Align: align | gopdf.Middle}))
}

// line draws a straight line; dashed lines use a 4 on, 3 off pattern.
func (d *Doc) line(x1, y1, x2, y2 float64, c rgb, width float64, dashed bool) {
	d.pdf.SetStrokeColor(c.r, c.g, c.b)
	d.pdf.SetLineWidth(width)
	if dashed {
		d.pdf.SetCustomLineType([]float64{4, 3}, 0)
	} else {
		d.pdf.SetLineType("solid") // any name but "dashed"/"dotted" resets the dash
	}
	d.pdf.Line(x1, y1, x2, y2)
	if dashed {
		d.pdf.SetLineType("solid")
	}
}

// fillRect fills a rectangle given by its upper-left corner.
func (d *Doc) fillRect(x, y, w, h float64, c rgb) {
	d.pdf.SetFillColor(c.r, c.g, c.b)
	d.pdf.RectFromUpperLeftWithStyle(x, y, w, h, "F")
}

// strokeRect outlines a rectangle given by its upper-left corner.
func (d *Doc) strokeRect(x, y, w, h float64, c rgb, width float64) {
	d.pdf.SetStrokeColor(c.r, c.g, c.b)
	d.pdf.SetLineWidth(width)
	d.pdf.SetLineType("solid")
	d.pdf.RectFromUpperLeftWithStyle(x, y, w, h, "D")
}
