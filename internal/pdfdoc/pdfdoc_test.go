package pdfdoc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"healthrec/internal/pdfdoc/pdftest"
)

var surnames = []string{"张", "李", "王", "赵", "刘", "陈", "杨", "黄"}

func sampleReport(t *testing.T, opts ...Option) *Doc {
	t.Helper()
	d, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	d.Title("2024年第一季度慢性病随访质量报告")
	d.KeyValues([][2]string{
		{"机构", "城东社区卫生服务中心"},
		{"统计期间", "2024-01-01 至 2024-03-31"},
		{"说明", "本报告统计高血压、2型糖尿病患者的规范管理率与随访率，数据来源于健康档案系统（HIS），按签约医生汇总。"},
	})
	d.Heading("一、随访明细")
	d.Text("下表列出每位患者最近一次随访的情况。随访率 = 实际随访次数 ÷ 应随访次数 × 100%，低于目标值 90% 的以橙色标出。")
	rows := [][]string{{"1", "张三", "高血压", "2024-03-15", "90.0%"}}
	for i := 2; i <= 90; i++ {
		rows = append(rows, []string{
			fmt.Sprint(i),
			surnames[i%len(surnames)] + "某" + fmt.Sprint(i),
			[]string{"高血压", "2型糖尿病", "高血压合并2型糖尿病，伴慢性肾病三期，需每月复查肾功能及尿微量白蛋白"}[i%3],
			fmt.Sprintf("2024-03-%02d", i%28+1),
			fmt.Sprintf("%.1f%%", float64(50+i%50)),
		})
	}
	d.Table([]string{"序号", "姓名", "诊断", "最近随访", "随访率"}, rows, []float64{0.6, 1.2, 3, 1.5, 1})

	d.Heading("二、各医生随访率")
	var bars []Bar
	for i := 0; i < 40; i++ {
		v := float64(60 + (i*7)%41)
		bars = append(bars, Bar{
			Label:   fmt.Sprintf("%s医生%02d", surnames[i%len(surnames)], i+1),
			Value:   v,
			Warn:    v < 90,
			Missing: i == 5,
		})
	}
	bars[0] = Bar{Label: "张三医生（家庭医生团队负责人）", Value: 90}
	d.BarChart("随访率（按签约医生）", bars, 90, 100)
	d.Note("注：— 表示该医生本期无签约患者。")
	return d
}

func TestReportText(t *testing.T) {
	d := sampleReport(t)
	pdf, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 16)])
	}
	if d.Pages() < 3 {
		t.Errorf("Pages() = %d, want the table and chart to span at least 3 pages", d.Pages())
	}
	// Only the glyphs used are embedded, not the whole 4.6 MB font.
	if len(pdf) > 500_000 {
		t.Errorf("PDF is %d bytes; font subsetting not working?", len(pdf))
	}

	// pdftotext may drop the spaces around CJK characters ("第 1 页" comes
	// out as "第1页"), so spaces are ignored when comparing.
	text := pdftest.Text(t, pdf)
	flat := strings.ReplaceAll(text, " ", "")
	for _, want := range []string{
		"2024年第一季度慢性病随访质量报告",
		"城东社区卫生服务中心",
		"张三",
		"2024-03-15",
		"90.0%",
		"目标 90%",
		"随访率（按签约医生）",
		"第 1 页",
		fmt.Sprintf("第 %d 页", d.Pages()),
	} {
		if !strings.Contains(flat, strings.ReplaceAll(want, " ", "")) {
			t.Errorf("extracted text lacks %q", want)
		}
	}
	// The table header is repeated on each page the table runs onto.
	if n := strings.Count(text, "最近随访"); n < 2 {
		t.Errorf("table header found %d times, want it repeated after the page break", n)
	}
	if t.Failed() {
		t.Logf("extracted text:\n%s", text)
	}
}

func TestBarChartPageBreaks(t *testing.T) {
	d, err := New(Landscape())
	if err != nil {
		t.Fatal(err)
	}
	var bars []Bar
	for i := 0; i < 50; i++ {
		bars = append(bars, Bar{Label: fmt.Sprintf("医生%02d", i+1), Value: float64(i * 2)})
	}
	bars[49].Value = 123.4 // beyond max: clamped bar, true label
	d.BarChart("规范管理率", bars, 85, 100)
	pdf, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if d.Pages() < 2 {
		t.Errorf("50 bars on A4 landscape used %d page(s), want a page break", d.Pages())
	}
	flat := strings.ReplaceAll(pdftest.Text(t, pdf), " ", "")
	for _, want := range []string{"规范管理率（续）", "医生01", "医生50", "0.0%", "123.4%", "目标 85%"} {
		if !strings.Contains(flat, strings.ReplaceAll(want, " ", "")) {
			t.Errorf("extracted text lacks %q", want)
		}
	}
}

func TestWrap(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d.setSize(sizeBody)
	const maxW = 120
	cases := []string{
		"高血压患者应每季度至少随访一次，测量血压并评估用药情况。若连续两次血压控制不满意，应转诊至上级医院。",
		"Patients with hypertension should be followed up at least once per quarter, blood pressure 140/90 mmHg.",
		"混合 text：HbA1c 7.0%，空腹血糖 6.1 mmol/L。",
		"第一行\n第二行\n\n第四行",
		"",
	}
	for _, s := range cases {
		lines := d.wrap(s, maxW)
		for _, l := range lines {
			if w := d.width(l); w > maxW+0.01 {
				t.Errorf("line %q is %.1f wide, max %d", l, w, maxW)
			}
			if r, _ := utf8.DecodeRuneInString(l); strings.ContainsRune("，。、；：？！）%", r) {
				t.Errorf("line %q starts with closing punctuation", l)
			}
		}
		strip := func(s string) string { return strings.NewReplacer(" ", "", "\n", "").Replace(s) }
		if got := strip(strings.Join(lines, "")); got != strip(s) {
			t.Errorf("wrap lost text:\n got %q\nwant %q", got, strip(s))
		}
		if strings.HasPrefix(s, "Patients") {
			for _, l := range lines {
				for _, word := range strings.Fields(l) {
					if !strings.Contains(s, " "+word+" ") && !strings.HasPrefix(s, word+" ") && !strings.HasSuffix(s, " "+word) {
						t.Errorf("word split across lines: %q in %q", word, l)
					}
				}
			}
		}
	}
	if got := len(d.wrap("第一行\n第二行\n\n第四行", 500)); got != 4 {
		t.Errorf("hard line breaks: got %d lines, want 4", got)
	}
}

func TestFit(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d.setSize(sizeSmall)
	if got := d.fit("张三", 100); got != "张三" {
		t.Errorf("fit short = %q", got)
	}
	got := d.fit("城东社区卫生服务中心家庭医生团队", 50)
	if !strings.HasSuffix(got, ellipsis) || d.width(got) > 50 {
		t.Errorf("fit long = %q (%.1f wide)", got, d.width(got))
	}
}

func TestLooksNumeric(t *testing.T) {
	for s, want := range map[string]bool{
		"12": true, "90.0%": true, "-3.5": true, "1,234": true, "+2": true,
		"": false, "%": false, "—": false, "2024-03-15": false, "张三": false, "3人": false,
	} {
		if got := looksNumeric(s); got != want {
			t.Errorf("looksNumeric(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestDrawAfterWrite(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	d.Text("一")
	first, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.Bytes()
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("second Bytes: %v, same=%v", err, bytes.Equal(first, again))
	}
	d.Text("二")
	if !errors.Is(d.Err(), ErrWritten) {
		t.Errorf("Err() after drawing on a written doc = %v, want ErrWritten", d.Err())
	}
}

// Docs share the parsed font; building several at once must be safe (run
// with -race).
func TestConcurrentDocs(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := New()
			if err != nil {
				errs[i] = err
				return
			}
			d.Title(fmt.Sprintf("处理决定通知书 %d", i))
			d.Table([]string{"项目", "结果"}, [][]string{{"随访率", "88.5%"}}, nil)
			var buf bytes.Buffer
			_, errs[i] = d.WriteTo(&buf)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestWriteSample writes the sample report to $PDFDOC_SAMPLE, for looking at
// (e.g. PDFDOC_SAMPLE=/tmp/sample.pdf go test -run WriteSample).
func TestWriteSample(t *testing.T) {
	path := os.Getenv("PDFDOC_SAMPLE")
	if path == "" {
		t.Skip("PDFDOC_SAMPLE not set")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := sampleReport(t).WriteTo(f); err != nil {
		t.Fatal(err)
	}
}
