package pdfdoc

import (
	"fmt"
	"math"
	"strconv"

	"github.com/signintech/gopdf"
)

// Bar is one bar of a BarChart.
type Bar struct {
	Label   string  // what the bar is for, e.g. a clinic or a doctor
	Value   float64 // a percentage between 0 and the chart's max
	Missing bool    // no data: drawn as "—" instead of a bar
	Warn    bool    // drawn in the warning colour (e.g. below target)
}

// Chart geometry, in points.
const (
	barRowH    = 15 // one bar per row
	barH       = 9
	chartHeadH = 12 // the target label row and the tick label row
	minLabelW  = 40
)

// colWarnText is the colour of a warned bar's value (darker than the bar, for
// contrast on white).
var colWarnText = rgb{190, 90, 0}

// BarChart draws a horizontal bar chart of percentages, one row per bar, so
// that any number of bars fits: when the page is full the chart continues on
// the next page under its title marked "（续）", with the axis repeated.
//
// Bars run from 0 to maxValue (0 means 100); values outside are drawn
// clamped but labelled with their true value ("93.5%"). A target above 0 is
// drawn as a red dashed line labelled "目标 90%". Bars with Warn set use the
// warning colour, Missing bars show "—". A legend under the title explains
// whichever of these the chart uses. Labels too long for the label column are
// cut with "…".
func (d *Doc) BarChart(title string, bars []Bar, target, maxValue float64) {
	if !d.ok() {
		return
	}
	if maxValue <= 0 || math.IsNaN(maxValue) || math.IsInf(maxValue, 0) {
		maxValue = 100
	}
	c := barChart{d: d, title: title, bars: bars, target: target, max: maxValue}
	c.layout()

	titleH := (sizeBody + 0.5) * 1.5
	legendH := 0.0
	if c.hasLegend() {
		legendH = sizeSmall * 1.8
	}
	d.ensure(titleH + legendH + c.headH() + float64(min(len(bars), 3))*barRowH)
	c.drawTitle("")
	if legendH > 0 {
		c.drawLegend(legendH)
	}
	if len(bars) == 0 {
		d.Note("（无数据）")
		return
	}
	for i := 0; i < len(bars); {
		n := int((d.bottom() - d.y - c.headH()) / barRowH)
		if n < 1 {
			if d.y > d.top() {
				d.addPage()
				c.drawTitle("（续）")
				continue
			}
			n = 1 // a page too small for even one row: draw it anyway
		}
		n = min(n, len(bars)-i)
		c.drawSegment(bars[i : i+n])
		i += n
		if i < len(bars) {
			d.addPage()
			c.drawTitle("（续）")
		}
	}
	d.y += 10
}

type barChart struct {
	d           *Doc
	title       string
	bars        []Bar
	target, max float64

	labelW, valueW float64 // label column and value column
	plotX, plotW   float64 // where the bars go
}

func (c *barChart) layout() {
	d := c.d
	d.setSize(sizeSmall)
	w := 0.0
	for _, b := range c.bars {
		w = max(w, d.width(b.Label))
	}
	c.labelW = min(max(w+8, minLabelW), d.contentW()*0.3)
	c.valueW = d.width("100.0%") + 8
	c.plotX = d.margin + c.labelW
	c.plotW = d.contentW() - c.labelW - c.valueW
}

func (c *barChart) headH() float64 {
	if c.target > 0 {
		return 2 * chartHeadH
	}
	return chartHeadH
}

func (c *barChart) hasLegend() bool {
	if c.target > 0 {
		return true
	}
	for _, b := range c.bars {
		if b.Warn || b.Missing {
			return true
		}
	}
	return false
}

// x returns the x position of value v on the axis, clamped to the plot.
func (c *barChart) x(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		v = 0
	}
	return c.plotX + math.Min(v, c.max)/c.max*c.plotW
}

func (c *barChart) targetLabel() string { return "目标 " + formatNum(c.target) + "%" }

func (c *barChart) drawTitle(suffix string) {
	d := c.d
	d.setSize(sizeBody + 0.5)
	h := (sizeBody + 0.5) * 1.5
	d.textAt(d.margin, d.y, d.contentW(), h, d.fit(c.title+suffix, d.contentW()), gopdf.Left, colText)
	d.y += h
}

func (c *barChart) drawLegend(h float64) {
	d := c.d
	d.setSize(sizeSmall)
	x := d.margin
	mid := d.y + h/2
	text := func(s string, col rgb) {
		w := d.width(s)
		d.textAt(x, d.y, w, h, s, gopdf.Left, col)
		x += w + 12
	}
	swatch := func(col rgb) {
		d.fillRect(x, mid-4, 8, 8, col)
		x += 11
	}
	swatch(colBar)
	text("正常", colText)
	warn, missing := false, false
	for _, b := range c.bars {
		warn = warn || b.Warn
		missing = missing || b.Missing
	}
	if warn {
		swatch(colWarnBar)
		text("预警", colText)
	}
	if c.target > 0 {
		d.line(x, mid, x+16, mid, colTarget, 1, true)
		x += 19
		text(c.targetLabel(), colTarget)
	}
	if missing {
		text("— 无数据", colMuted)
	}
	d.y += h
}

// drawSegment draws the axis and the given bars, which fit on this page.
func (c *barChart) drawSegment(bars []Bar) {
	d := c.d
	d.setSize(sizeTiny)
	const ticks = 4
	tickW := 40.0
	if c.target > 0 {
		s := c.targetLabel()
		w := d.width(s) + 4
		x := math.Min(math.Max(c.x(c.target)-w/2, c.plotX), d.margin+d.contentW()-w)
		d.textAt(x, d.y, w, chartHeadH, s, gopdf.Center, colTarget)
		d.y += chartHeadH
	}
	for k := 0; k <= ticks; k++ {
		v := c.max * float64(k) / ticks
		d.textAt(c.x(v)-tickW/2, d.y, tickW, chartHeadH, formatNum(v)+"%", gopdf.Center, colMuted)
	}
	d.y += chartHeadH

	top := d.y
	bottom := top + float64(len(bars))*barRowH
	for k := 1; k <= ticks; k++ {
		x := c.x(c.max * float64(k) / ticks)
		d.line(x, top, x, bottom, colGrid, 0.5, false)
	}

	d.setSize(sizeSmall)
	valueX := c.plotX + c.plotW
	for j, b := range bars {
		y := top + float64(j)*barRowH
		d.textAt(d.margin, y, c.labelW-6, barRowH, d.fit(b.Label, c.labelW-6), gopdf.Right, colText)
		if b.Missing {
			d.textAt(c.plotX+4, y, 20, barRowH, "—", gopdf.Left, colMuted)
			d.textAt(valueX, y, c.valueW, barRowH, "—", gopdf.Right, colMuted)
			continue
		}
		bar, text := colBar, colText
		if b.Warn {
			bar, text = colWarnBar, colWarnText
		}
		if w := c.x(b.Value) - c.plotX; w > 0 {
			d.fillRect(c.plotX, y+(barRowH-barH)/2, w, barH, bar)
		}
		d.textAt(valueX, y, c.valueW, barRowH, formatPercent(b.Value), gopdf.Right, text)
	}

	d.line(c.plotX, top, c.plotX, bottom, colBorder, 0.8, false)
	if c.target > 0 {
		x := c.x(c.target)
		d.line(x, top-2, x, bottom, colTarget, 1, true)
	}
	d.y = bottom + 2
}

// formatNum formats v with at most one decimal and no trailing zeros: 90,
// 92.5.
func formatNum(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// formatPercent formats a percentage with one decimal: "90.0%".
func formatPercent(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", v)
}
