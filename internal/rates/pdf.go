package rates

import (
	"fmt"
	"strconv"
	"strings"

	"healthrec/internal/pdfdoc"
	"healthrec/internal/quality"
)

// levelHeadings number the report's sections per level.
var levelHeadings = map[Level]string{County: "一", Township: "二", Institution: "三", Doctor: "四"}

// PDF renders the report in Chinese (DESIGN §5.6): the parameters, then per
// level a table of the three rates and a bar chart per indicator of the rate
// by scope against the target line, then the summaries and the warnings.
func PDF(r *Report) ([]byte, error) {
	d, err := pdfdoc.New(pdfdoc.Landscape(), pdfdoc.Margin(36), pdfdoc.Author(r.CountyName+"卫生健康局"))
	if err != nil {
		return nil, err
	}
	d.Title(fmt.Sprintf("%s健康档案考核报表（建档率、合格率、使用率）", r.CountyName))
	sample := "全部在档记录"
	if r.Sample != All {
		sample = fmt.Sprintf("每位责任医生随机抽取 %d 份（无责任医生的记录按村抽取）", int(r.Sample))
	}
	var published [][2]string
	if kind := map[string]string{"pre_assessment": "预考核", "assessment": "考核"}[r.Kind]; kind != "" {
		published = append(published, [2]string{"快照类型", kind})
	}
	if r.Status != "" {
		published = append(published, [2]string{"快照状态", r.Status})
	}
	d.KeyValues(append(published, [][2]string{
		{"县（区）", r.CountyName + "（" + r.CountyCode + "）"},
		{"统计截止日", r.AsOf.String()},
		{"使用率统计窗口", r.WindowFrom.String() + " 至 " + r.WindowTo.String() + "（365 天）"},
		{"抽样", sample},
		{"随机种子", strconv.FormatInt(r.Seed, 10)},
		{"合格率规则", quality.RuleSetChinese(r.RuleSet)},
		{"目标", fmt.Sprintf("建档率 %s%%，合格率 %s%%，使用率 %s%%", r.Targets.Coverage, r.Targets.Quality, r.Targets.Usage)},
		{"预警", fmt.Sprintf("%d 项（末三位，或低于目标 10 个百分点及以上）", len(r.Warnings))},
	}...))
	d.Note("建档率 = 统计截止日在档记录数 ÷ 常住人口数；合格率 = 抽样中合格记录数 ÷ 抽样记录数；使用率 = 抽样中统计窗口内有符合服务规范的动态记录的记录数 ÷ 抽样记录数" +
		"（动态记录须填齐其类别的必填项，如随访记录须有血压或空腹血糖、随访分类和下次随访日期；不符合规范的记录不计入）。" +
		"排名按显示的百分比由高到低，并列同名次；“—”表示无分母（未登记常住人口或无抽样记录）。")

	for _, l := range Levels {
		scopes := scopesOf(r, l)
		if len(scopes) == 0 {
			continue
		}
		d.Heading(fmt.Sprintf("%s、%s", levelHeadings[l], l.Chinese()))
		var rows [][]string
		for _, sc := range scopes {
			row := []string{sc.code, sc.name}
			warn := []string{}
			for _, ind := range Indicators {
				x := sc.rows[ind]
				row = append(row, fmt.Sprintf("%d/%d", x.Numerator, x.Denominator), percentText(x.Rate), rankText(x.Rank))
				if x.Warning {
					warn = append(warn, ind.Chinese())
				}
			}
			rows = append(rows, append(row, strings.Join(warn, "、")))
		}
		d.Table([]string{"代码", "名称", "建档数/常住人口", "建档率", "排名", "合格/抽样", "合格率", "排名", "使用/抽样", "使用率", "排名", "预警"},
			rows, []float64{1.3, 1.8, 1.4, 0.9, 0.6, 1.1, 0.9, 0.6, 1.1, 0.9, 0.6, 1.3})
		for _, ind := range Indicators {
			bars := make([]pdfdoc.Bar, 0, len(scopes))
			top := 100.0
			for _, sc := range scopes {
				x := sc.rows[ind]
				b := pdfdoc.Bar{Label: sc.name, Missing: x.Rate == nil, Warn: x.Warning}
				if x.Rate != nil {
					b.Value = float64(*x.Rate) / 10
					top = max(top, b.Value)
				}
				bars = append(bars, b)
			}
			d.BarChart(fmt.Sprintf("%s（%s）", ind.Chinese(), l.Chinese()), bars, float64(r.Targets.Of(ind))/10, top)
		}
	}

	d.Heading("五、各层级指标分布")
	var sum [][]string
	for _, s := range r.Summaries {
		if s.Ranked == 0 {
			continue
		}
		sum = append(sum, []string{s.Level.Chinese(), s.Indicator.Chinese(), standings(s.Top), standings(s.Bottom),
			percentText(s.Max), percentText(s.Min), percentText(s.Mean)})
	}
	d.Table([]string{"层级", "指标", "前三名", "后三名", "最高", "最低", "平均"}, sum, []float64{0.9, 0.8, 3, 3, 0.7, 0.7, 0.7})

	d.Heading("六、预警名单")
	if len(r.Warnings) == 0 {
		d.Text("本期无预警。")
	} else {
		var rows [][]string
		for _, w := range r.Warnings {
			why := []string{}
			if w.BottomThree {
				why = append(why, "末三位")
			}
			if w.BelowTarget {
				why = append(why, "低于目标 10 个百分点及以上")
			}
			rows = append(rows, []string{w.Level.Chinese(), w.ScopeName + "（" + w.ScopeCode + "）", w.Indicator.Chinese(),
				w.Rate.String() + "%", w.Target.String() + "%", w.Gap.String(), strconv.Itoa(w.Rank), strings.Join(why, "；")})
		}
		d.Table([]string{"层级", "对象", "指标", "实际", "目标", "差距（百分点）", "排名", "预警原因"}, rows,
			[]float64{0.9, 2.4, 0.8, 0.8, 0.8, 1.1, 0.6, 2.2})
	}
	return d.Bytes()
}

type pdfScope struct {
	code, name string
	rows       map[Indicator]Row
}

// scopesOf groups a level's rows by scope, in code order.
func scopesOf(r *Report, l Level) []pdfScope {
	var out []pdfScope
	idx := map[string]int{}
	for _, x := range r.Rows {
		if x.Level != l {
			continue
		}
		i, ok := idx[x.ScopeCode]
		if !ok {
			i = len(out)
			idx[x.ScopeCode] = i
			out = append(out, pdfScope{code: x.ScopeCode, name: x.ScopeName, rows: map[Indicator]Row{}})
		}
		out[i].rows[x.Indicator] = x
	}
	return out
}

func percentText(p *Percent) string {
	if p == nil {
		return "—"
	}
	return p.String() + "%"
}

func rankText(r *int) string {
	if r == nil {
		return "—"
	}
	return strconv.Itoa(*r)
}

func standings(st []Standing) string {
	var parts []string
	for _, s := range st {
		parts = append(parts, fmt.Sprintf("%d. %s %s%%", s.Rank, s.ScopeName, s.Rate))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "；")
}
