package httpapi

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/csvout"
	"healthrec/internal/pdfdoc"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

// dueProcessRoutes are the investigation group, the extension approval,
// declared conflicts, the quorum and the 第八条 consequences (DESIGN
// §7.2–§7.4).
func (s *Server) dueProcessRoutes(api *gin.RouterGroup) {
	api.POST("/cases/:id/group", s.setGroup)
	api.POST("/cases/:id/extension", s.decideExtension)
	api.GET("/conflicts", s.listConflicts)
	api.POST("/conflicts", s.declareConflict)
	api.PUT("/review-quorum/:county", s.putQuorum)
	api.GET("/consequences", s.listConsequences)
	api.GET("/supervision", s.supervision)
	api.GET("/help-visits", s.listHelpVisits)
	api.POST("/help-visits", s.addHelpVisit)
}

// countyFor picks the county of a county-wide figure (?county_code=) among
// the caller's, and checks the gate lets the route through there.
func (s *Server) countyFor(c *gin.Context, want string) (string, bool) {
	p := principal(c)
	county, err := access.PickCounty(want, p.Counties(staff.Reviewer, staff.ReviewLead, staff.Bureau))
	if err == nil {
		err = s.gate.RequireRoute(p, staff.CountyDomain(county), c.FullPath(), c.Request.Method)
	}
	if err != nil {
		c.Error(err)
		return "", false
	}
	return county, true
}

// supervision is the on-time completion rate of items per institution for
// a month (?month=YYYY-MM, default this month), as JSON or the monthly
// circulation PDF (?format=pdf, 通报).
func (s *Server) supervision(c *gin.Context) {
	county, ok := s.countyFor(c, c.Query("county_code"))
	if !ok {
		return
	}
	month := civil.Of(s.db.Now()).MonthStart()
	if v := c.Query("month"); v != "" {
		d, err := civil.Parse(v + "-01")
		if err != nil || len(v) != 7 {
			c.Error(apperr.InvalidField("month", "月份格式应为 YYYY-MM"))
			return
		}
		month = d
	}
	rows, err := s.db.OnTimeRates(c.Request.Context(), county, month)
	if err != nil {
		c.Error(err)
		return
	}
	m := month.String()[:7]
	switch c.Query("format") {
	case "", "json":
		c.JSON(http.StatusOK, gin.H{"county_code": county, "month": m, "items": rows})
	case "pdf":
		d, err := pdfdoc.New(pdfdoc.Author(county + "卫生健康局"))
		if err != nil {
			c.Error(err)
			return
		}
		d.Title(fmt.Sprintf("%s 督办事项按期完成情况通报", m))
		d.Note(fmt.Sprintf("县 %s；按期完成率 = 当月到期事项中在期限内报告完成的比例，按责任人所在机构统计。", county))
		t := make([][]string, len(rows))
		for i, r := range rows {
			rate := "—"
			if r.Rate != nil {
				rate = fmt.Sprintf("%.1f%%", *r.Rate)
			}
			t[i] = []string{r.InstitutionName, r.InstitutionCode, fmt.Sprint(r.Due), fmt.Sprint(r.OnTime), rate}
		}
		d.Table([]string{"机构", "代码", "到期事项", "按期完成", "按期完成率"}, t, []float64{3, 1.5, 1.2, 1.2, 1.5})
		if len(rows) == 0 {
			d.Text("本月没有到期的督办事项。")
		}
		pdf, err := d.Bytes()
		if err != nil {
			c.Error(err)
			return
		}
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="supervision-%s-%s.pdf"`, county, m))
		c.Data(http.StatusOK, "application/pdf", pdf)
	default:
		c.Error(apperr.InvalidField("format", "格式应为 json 或 pdf"))
	}
}

func (s *Server) listHelpVisits(c *gin.Context) {
	county, ok := s.countyFor(c, c.Query("county_code"))
	if !ok {
		return
	}
	out, err := s.db.HelpVisits(c.Request.Context(), county)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// addHelpVisit records an expert help visit (定点解剖): the bureau of the
// county.
func (s *Server) addHelpVisit(c *gin.Context) {
	var v review.HelpVisit
	if err := decode(c, &v); err != nil {
		c.Error(err)
		return
	}
	county, ok := s.countyFor(c, v.CountyCode)
	if !ok {
		return
	}
	v.CountyCode, v.CreatedBy = county, principal(c).Staff.Code
	if err := s.db.AddHelpVisit(c.Request.Context(), &v); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

// actOn checks the caller may act on the case as a reviewer of its county:
// the gate let the route through in its county, and they need not stand
// aside (§7.4: subject, the subject's institution, complainant, declared
// conflicts). Each refusal says why.
func (s *Server) actOn(c *gin.Context, cs *review.Case) bool {
	if st := s.standing(c, cs); !st.county {
		c.Error(apperr.Forbiddenf("无权办理该问责案件：只有本县问责办公室可以办理"))
		return false
	}
	return !s.recused(c, cs)
}

// recused answers 403 with the reason when the caller must stand aside
// from the case (§7.4) and reports whether they must.
func (s *Server) recused(c *gin.Context, cs *review.Case) bool {
	p := principal(c)
	why := recusal(p, cs)
	if why == "" {
		var err error
		if why, err = s.db.SitterRecusal(c.Request.Context(), cs.ID, p.Staff.Code); err != nil {
			c.Error(err)
			return true
		}
	}
	if why != "" {
		c.Error(apperr.Forbiddenf("%s", why))
		return true
	}
	return false
}

func (s *Server) setGroup(c *gin.Context) {
	cs, ok := s.loadCase(c)
	if !ok {
		return
	}
	var body struct {
		Members []string `json:"members"`
	}
	if err := decode(c, &body); err != nil {
		c.Error(err)
		return
	}
	if !s.actOn(c, cs) {
		return
	}
	out, err := s.db.SetCaseGroup(c.Request.Context(), cs.ID, body.Members, principal(c).Staff.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// decideExtension is a lead's approval or refusal of the extension asked
// for (investigating → investigating): a review_lead of the county who did
// not ask for it.
func (s *Server) decideExtension(c *gin.Context) {
	cs, ok := s.loadCase(c)
	if !ok {
		return
	}
	var d review.ExtensionDecision
	if err := decode(c, &d); err != nil {
		c.Error(err)
		return
	}
	if !s.actOn(c, cs) {
		return
	}
	p := principal(c)
	if !p.Staff.HasIn(staff.ReviewLead, staff.CountyDomain(cs.CountyCode)) {
		c.Error(apperr.Forbiddenf("延期由本县问责工作领导小组成员（review_lead）批准"))
		return
	}
	out, err := s.db.DecideExtension(c.Request.Context(), cs.ID, d, p.Staff.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// anyCounty checks the gate lets the caller call the route in one of the
// counties where they review.
func (s *Server) anyCounty(c *gin.Context, roles ...staff.Role) error {
	p := principal(c)
	for _, county := range p.Counties(roles...) {
		if s.gate.AllowIn(p, staff.CountyDomain(county), c.FullPath(), c.Request.Method) {
			return nil
		}
	}
	return apperr.Forbiddenf("只有问责人员可以申报或查看利害关系")
}

func (s *Server) listConflicts(c *gin.Context) {
	if err := s.anyCounty(c, staff.Reviewer, staff.ReviewLead); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.Conflicts(c.Request.Context(), principal(c).Staff.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// declareConflict keeps a conflict on the caller's own profile.
func (s *Server) declareConflict(c *gin.Context) {
	var k review.Conflict
	if err := decode(c, &k); err != nil {
		c.Error(err)
		return
	}
	if err := s.anyCounty(c, staff.Reviewer, staff.ReviewLead); err != nil {
		c.Error(err)
		return
	}
	k.StaffCode = principal(c).Staff.Code
	if err := s.db.DeclareConflict(c.Request.Context(), k); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.Conflicts(c.Request.Context(), k.StaffCode)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"items": out})
}

// putQuorum sets the county's quorum for decision meetings: a lead of it.
func (s *Server) putQuorum(c *gin.Context) {
	county := c.Param("county")
	var body struct {
		QuorumPercent *int `json:"quorum_percent"`
	}
	if err := decode(c, &body); err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	if err := s.gate.RequireRoute(p, staff.CountyDomain(county), c.FullPath(), c.Request.Method); err != nil {
		c.Error(apperr.Forbiddenf("只有县 %s 的问责工作领导小组成员可以设定法定人数", county))
		return
	}
	if body.QuorumPercent == nil {
		c.Error(apperr.InvalidField("quorum_percent", "请填写法定人数比例（0–99）"))
		return
	}
	if err := s.db.SetQuorum(c.Request.Context(), county, *body.QuorumPercent, p.Staff.Code); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"county_code": county, "quorum_percent": *body.QuorumPercent})
}

// listConsequences is the 备案 list of 第八条 facts of a county's subjects
// (?county_code=&year=, default this year) for personnel: JSON, CSV
// (?format=csv) or PDF (?format=pdf). Reviewers, leads and the bureau.
func (s *Server) listConsequences(c *gin.Context) {
	p := principal(c)
	county, err := access.PickCounty(c.Query("county_code"), p.Counties(staff.Reviewer, staff.ReviewLead, staff.Bureau))
	if err != nil {
		c.Error(err)
		return
	}
	if err := s.gate.RequireRoute(p, staff.CountyDomain(county), c.FullPath(), c.Request.Method); err != nil {
		c.Error(err)
		return
	}
	year := s.db.Now().Year()
	if v := c.Query("year"); v != "" {
		n, ok := atoiPositive(v)
		if !ok || n < 1900 || n > 9999 {
			c.Error(apperr.InvalidField("year", "年份应为 1900–9999 的整数"))
			return
		}
		year = n
	}
	out, err := s.db.Consequences(c.Request.Context(), county, "", "", year)
	if err != nil {
		c.Error(err)
		return
	}
	switch c.Query("format") {
	case "", "json":
		c.JSON(http.StatusOK, gin.H{"county_code": county, "year": year, "items": out})
	case "csv":
		var b bytes.Buffer
		w := csvout.NewWriter(&b)
		_ = w.Write([]string{"案件编号", "对象类型", "对象代码", "对象名称", "期间", "问责方式", "影响", "决定日期"})
		for _, k := range out {
			_ = w.Write([]string{fmt.Sprint(k.CaseID), k.SubjectType.Chinese(), k.SubjectCode, k.SubjectName, k.Period,
				k.Outcome.Chinese(), k.CapName, k.DecidedOn})
		}
		if err := w.Flush(); err != nil {
			c.Error(err)
			return
		}
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="consequences-%s-%d.csv"`, county, year))
		c.Data(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
	case "pdf":
		d, err := pdfdoc.New(pdfdoc.Author(county + "问责办公室"))
		if err != nil {
			c.Error(err)
			return
		}
		d.Title(fmt.Sprintf("%d 年度问责处理结果备案表", year))
		d.Note(fmt.Sprintf("县 %s；依第八条，个人按决定当月、单位按决定当年影响考核等次。", county))
		rows := make([][]string, len(out))
		for i, k := range out {
			rows[i] = []string{fmt.Sprint(k.CaseID), fmt.Sprintf("%s（%s）", k.SubjectName, k.SubjectCode), k.Period, k.Outcome.Chinese(), k.CapName}
		}
		d.Table([]string{"案件", "对象", "期间", "问责方式", "影响"}, rows, []float64{1, 3, 1.2, 2, 1.8})
		pdf, err := d.Bytes()
		if err != nil {
			c.Error(err)
			return
		}
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="consequences-%s-%d.pdf"`, county, year))
		c.Data(http.StatusOK, "application/pdf", pdf)
	default:
		c.Error(apperr.InvalidField("format", "格式应为 json、csv 或 pdf"))
	}
}
