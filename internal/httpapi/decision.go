package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/pdfdoc"
	"healthrec/internal/review"
)

// decisionPDF is the decision notice (问责决定书) of a decided case, for the
// county's reviewers and bureau and for the subject. Conflict (with state)
// before a decision is made or when the case ended without one.
func (s *Server) decisionPDF(c *gin.Context) {
	cs, ok := s.loadCase(c)
	if !ok {
		return
	}
	if st := s.standing(c, cs); !st.county && !st.subject {
		c.Error(errCaseForbidden)
		return
	}
	if !cs.State.Decided() {
		c.Error(apperr.Conflictf("案件当前为“%s”，尚未作出处理决定，没有问责决定书", cs.State.Chinese()).With("state", cs.State))
		return
	}
	ctx := c.Request.Context()
	names := decisionNames{county: cs.CountyCode, institution: cs.SubjectInstitution}
	if r, err := s.db.Region(ctx, cs.CountyCode); err == nil {
		names.county = r.Name
	}
	if cs.SubjectInstitution != "" {
		if in, err := s.db.Institution(ctx, cs.SubjectInstitution); err == nil {
			names.institution = in.Name
		}
	}
	items, err := s.db.Items(ctx, cs.ID, "")
	if err != nil {
		c.Error(err)
		return
	}
	pdf, err := decisionNotice(cs, items, names)
	if err != nil {
		c.Error(err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="decision-%d.pdf"`, cs.ID))
	c.Data(http.StatusOK, "application/pdf", pdf)
}

type decisionNames struct{ county, institution string }

// decisionNotice lays out the notice: who, the facts (with the snapshot
// figures that triggered a proposed case), the responsibility determined,
// the decision, serving and the right to appeal, a review's result, and the
// rectification items.
func decisionNotice(cs *review.Case, items []review.Item, n decisionNames) ([]byte, error) {
	d, err := pdfdoc.New(pdfdoc.Author(n.county + "问责办公室"))
	if err != nil {
		return nil, err
	}
	d.Title("问责决定书")
	d.Note(fmt.Sprintf("%s问责〔%d〕%d 号", n.county, cs.DecidedOn.Year(), cs.ID))

	subject := fmt.Sprintf("%s（工号 %s）", cs.SubjectName, cs.SubjectCode)
	if cs.SubjectType == review.SubjectInstitution {
		subject = fmt.Sprintf("%s（机构代码 %s）", cs.SubjectName, cs.SubjectCode)
	}
	kv := [][2]string{{"被问责对象", subject}}
	if cs.SubjectType == review.SubjectStaff && n.institution != "" {
		kv = append(kv, [2]string{"所在机构", n.institution})
	}
	kv = append(kv, [][2]string{
		{"案件编号", fmt.Sprint(cs.ID)},
		{"案件来源", cs.Source.Chinese()},
		{"受理日期", cs.AcceptedOn.String()},
		{"决定日期", cs.DecidedOn.String()},
	}...)
	d.KeyValues(kv)

	d.Heading("一、问题事实")
	d.Text(cs.Facts)
	if len(cs.Triggers) > 0 {
		rows := make([][]string, len(cs.Triggers))
		for i, w := range cs.Triggers {
			rows[i] = []string{review.IndicatorName(w.Indicator), pct(w.Rate), fmt.Sprintf("%.1f%%", w.Target), points(w.Gap),
				fmt.Sprint(w.Rank), yesNo(w.BottomThree)}
		}
		d.Text(fmt.Sprintf("考核快照 %s 中触发预警的数据：", cs.SnapshotID))
		d.Table([]string{"指标", "实际值", "目标值", "差距（百分点）", "排名", "后三名"}, rows, []float64{2, 1.5, 1.5, 2, 1, 1})
	}

	d.Heading("二、责任认定")
	resp := [][2]string{{"责任类型", cs.Responsibility.Chinese()}, {"情节", cs.Severity.Chinese()}}
	if cs.Findings != "" {
		resp = append(resp, [2]string{"认定事实", cs.Findings})
	}
	if len(cs.Group) > 0 {
		resp = append(resp, [2]string{"调查组", strings.Join(cs.Group, "、")})
	}
	if !cs.DeterminedOn.IsZero() {
		resp = append(resp, [2]string{"认定日期", cs.DeterminedOn.String()})
	}
	d.KeyValues(resp)

	d.Heading("三、当事人申辩")
	switch {
	case cs.Defence != "":
		d.Text(fmt.Sprintf("被问责对象于 %s 提交书面申辩：%s", cs.DefendedOn, cs.Defence))
	case !cs.DefenceDue.IsZero():
		d.Text(fmt.Sprintf("已告知被问责对象认定事实及申辩权利，申辩期至 %s 届满，未提交书面申辩。", cs.DefenceDue))
	default:
		d.Text("（本案于申辩程序施行前作出责任认定。）")
	}

	if m := cs.Meeting; m != nil {
		d.Heading("四、会议研究")
		kv := [][2]string{{"会议", m.Body}, {"会议日期", m.Date.String()}, {"出席成员", strings.Join(m.Present, "、")}}
		if m.Deviation != "" {
			dev := map[string]string{review.Heavier: "从重", review.Lighter: "从轻"}[m.Deviation]
			kv = append(kv, [2]string{dev + "理由", m.DeviationReason})
		}
		d.KeyValues(kv)
	}

	d.Heading("五、处理决定")
	decided := cs.Outcome
	if cs.OriginalOutcome != "" {
		decided = cs.OriginalOutcome
	}
	d.Text(fmt.Sprintf("经调查核实，依据有关规定，决定对%s给予“%s”的问责处理。", cs.SubjectName, decided.Chinese()))
	talk := "由分管领导谈话。"
	switch {
	case cs.TalkBy == "":
		talk = ""
	case cs.Escalated:
		names := make([]string, 0, 3)
		if cs.Escalation != nil {
			for _, ind := range cs.Escalation.Indicators {
				names = append(names, review.IndicatorName(ind))
			}
		}
		talk = fmt.Sprintf("因连续两次考核%s排名末位，由主要领导谈话。", strings.Join(names, "、"))
	}
	if talk != "" {
		d.Text(talk)
	}
	if decided.BarsExcellent() && cs.SubjectType == review.SubjectStaff {
		d.Text(fmt.Sprintf("受到此项处理的人员，%d 年度考核不得评为优秀等次。", cs.DecidedOn.Year()))
	}
	for _, k := range cs.Consequences {
		what := "当月考核"
		if k.SubjectType == review.SubjectInstitution {
			what = "当年年终考核"
		}
		d.Text(fmt.Sprintf("依第八条，%s（%s）%s：%s。", k.SubjectName, k.Period, what, review.CapChinese(k.Cap)))
	}

	d.Heading("六、送达与复核")
	served := fmt.Sprintf("本决定应于 %s 前送达。", cs.ServingDue)
	if !cs.ServedOn.IsZero() {
		served = fmt.Sprintf("本决定已于 %s 送达。被问责对象如对本决定不服，可在送达之日起 %d 个工作日内（至 %s）申请复核；复核期间不停止本决定的执行。",
			cs.ServedOn, review.AppealDays, cs.AppealDue)
	} else {
		served += fmt.Sprintf("被问责对象如对本决定不服，可在送达之日起 %d 个工作日内申请复核；复核期间不停止本决定的执行。", review.AppealDays)
	}
	d.Text(served)
	d.Text("复核由未参与原处理决定的人员办理。")
	if !cs.AppealedOn.IsZero() {
		d.Text(fmt.Sprintf("被问责对象已于 %s 申请复核。", cs.AppealedOn))
	}
	if cs.ReviewResult != "" {
		res := "复核决定：" + cs.ReviewResult.Chinese()
		if cs.ReviewResult == review.Modified {
			res += fmt.Sprintf("，变更为“%s”", cs.Outcome.Chinese())
		}
		if cs.ReviewedBy != "" {
			res += "（复核人 " + cs.ReviewedBy + "）"
		}
		d.Text(res + "。")
	}

	if len(items) > 0 {
		d.Heading("七、整改要求")
		rows := make([][]string, len(items))
		for i, it := range items {
			rows[i] = []string{it.Description, fmt.Sprintf("%s（%s）", it.OwnerName, it.Owner), it.DueDate.String(), it.State.Chinese()}
		}
		d.Table([]string{"整改事项", "责任人", "完成期限", "状态"}, rows, []float64{4, 2, 1.5, 1.5})
		d.Note("整改期限前 7 天、3 天、1 天系统自动提醒；完成后报送佐证材料，由问责办公室回头看验收。")
	}

	d.Space(24)
	d.Text(fmt.Sprintf("%s问责办公室", n.county))
	d.Text(cs.DecidedOn.String())
	return d.Bytes()
}

func pct(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", *v)
}

func points(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f", *v)
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}
