package rates_test

import (
	"strings"
	"testing"
	"time"

	"healthrec/internal/pdfdoc/pdftest"
	"healthrec/internal/rates"
)

func TestPDF(t *testing.T) {
	g := map[string]rates.Group{
		"d1": {Active: 20, Sampled: 20, Qualified: 19, Used: 20},
		"d2": {Active: 20, Sampled: 20, Qualified: 18, Used: 15},
		"d3": {Active: 20, Sampled: 20, Qualified: 17, Used: 10},
		"d4": {Active: 20, Sampled: 20, Qualified: 6, Used: 5},
	}
	p := params
	p.Sample = 300
	r := rates.Compute(p, rates.DefaultTargets, county(doctors("d1", "d2", "d3", "d4"), g), time.Time{})
	b, err := rates.PDF(r)
	if err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, b)
	for _, want := range []string{
		"淳安县健康档案考核报表", "统计截止日", "2025-12-31", "2025-01-01 至 2025-12-31", "每位责任医生随机抽取 300 份", "随机种子", "7",
		"一、县（区）", "二、乡镇（街道）", "三、机构", "四、责任医生", "建档率", "合格率", "使用率",
		"千岛湖镇", "医生d4", "目标 90%", "目标 60%", "合格率（责任医生）",
		"五、各层级指标分布", "六、预警名单", "末三位", "低于目标 10 个百分点及以上", "30.0%", "-60.0",
		"符合服务规范的动态记录", // usage counts conforming entries only (DESIGN §5.3)
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("text:\n%s", text)
	}
}
