package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

// caseRoutes are accountability review (DESIGN §7): cases, rectification
// items, reminders, the holiday calendar and the annual summary.
func (s *Server) caseRoutes(api *gin.RouterGroup) {
	api.GET("/cases", s.listCases)
	api.POST("/cases", s.createCase)
	api.GET("/cases/:id", s.getCase)
	api.POST("/cases/:id/transitions", s.transitionCase)
	api.GET("/cases/:id/items", s.listItems)
	api.POST("/cases/:id/items", s.createItem)
	api.GET("/cases/:id/decision.pdf", s.decisionPDF)
	api.POST("/items/:id/close", s.closeItem)
	api.POST("/items/:id/verify", s.verifyItem)
	api.POST("/items/:id/evidence", s.addEvidence)
	api.GET("/items/:id/evidence/:eid", s.getEvidence)
	api.GET("/reminders", s.listReminders)
	api.GET("/calendar/:year", s.getCalendar)
	api.PUT("/calendar/:year", s.putCalendar)
	api.GET("/staff/:code/accountability", s.accountability)
	s.dueProcessRoutes(api)
}

// caseStanding is how the caller stands to one case (access.CaseStanding).
type caseStanding struct{ county, subject bool }

func (s *Server) standing(c *gin.Context, cs *review.Case) caseStanding {
	st := s.gate.CaseStanding(principal(c), cs, c.FullPath(), c.Request.Method)
	return caseStanding{county: st.County, subject: st.Subject}
}

// recusal returns why the caller may not act on the case, or "" (access.Recusal).
func recusal(p *access.Principal, cs *review.Case) string { return access.Recusal(p, cs) }

// pathID reads a positive numeric path parameter; anything else names no
// resource.
func pathID(c *gin.Context, what string) (int64, bool) {
	raw := c.Param("id")
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		c.Error(apperr.NotFoundf("%s %s 不存在", what, raw))
		return 0, false
	}
	return n, true
}

// loadCase loads the path's case.
func (s *Server) loadCase(c *gin.Context) (*review.Case, bool) {
	id, ok := pathID(c, "问责案件")
	if !ok {
		return nil, false
	}
	cs, err := s.db.Case(c.Request.Context(), id)
	if err != nil {
		c.Error(err)
		return nil, false
	}
	return cs, true
}

var errCaseForbidden = apperr.Forbiddenf("无权查看该问责案件：只有本县问责办公室、卫健局和案件当事人可以查看")

func (s *Server) listCases(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	f, err := caseFilter(c)
	if err != nil {
		c.Error(err)
		return
	}
	f.Page = pg
	p := principal(c)
	for _, d := range p.Staff.Domains() {
		if strings.HasPrefix(d, staff.CountyDomain("")) && s.gate.AllowIn(p, d, c.FullPath(), c.Request.Method) {
			f.Counties = append(f.Counties, staff.DomainCode(d))
		}
		if p.Staff.HasIn(staff.RecordsAdmin, d) {
			f.Institutions = append(f.Institutions, staff.DomainCode(d))
		}
	}
	f.Self = p.Staff.Code
	out, total, err := s.db.Cases(c.Request.Context(), f)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, total, pg))
}

// caseFilter reads ?state=&source=&subject_type=&subject=&snapshot_id=&year=&overdue=&escalated=.
func caseFilter(c *gin.Context) (postgres.CaseFilter, error) {
	var f postgres.CaseFilter
	var fe apperr.FieldErrors
	if v := c.Query("state"); v != "" {
		if !review.State(v).Valid() {
			fe.Add("state", "未知的案件状态")
		}
		f.State = v
	}
	if v := c.Query("source"); v != "" {
		switch review.Source(v) {
		case review.FromSnapshot, review.FromComplaint, review.FromInspection, review.FromInstruction:
		default:
			fe.Add("source", "来源应为 snapshot、complaint、inspection 或 instruction")
		}
		f.Source = v
	}
	if v := c.Query("subject_type"); v != "" {
		if v != string(review.SubjectStaff) && v != string(review.SubjectInstitution) {
			fe.Add("subject_type", "对象类型应为 staff 或 institution")
		}
		f.SubjectType = v
	}
	f.SubjectCode = c.Query("subject")
	if len(f.SubjectCode) > 32 {
		fe.Add("subject", "对象代码最多 32 位")
	}
	f.SnapshotID = c.Query("snapshot_id")
	if len(f.SnapshotID) > 64 {
		fe.Add("snapshot_id", "快照编号过长")
	}
	if v := c.Query("year"); v != "" {
		if n, ok := atoiPositive(v); ok && n >= 1900 && n <= 9999 {
			f.Year = n
		} else {
			fe.Add("year", "年份应为 1900–9999 的整数")
		}
	}
	for _, b := range []struct {
		name string
		dst  **bool
	}{{"overdue", &f.Overdue}, {"escalated", &f.Escalated}} {
		switch c.Query(b.name) {
		case "":
		case "true":
			t := true
			*b.dst = &t
		case "false":
			v := false
			*b.dst = &v
		default:
			fe.Add(b.name, "应为 true 或 false")
		}
	}
	return f, fe.Err()
}

// createCase opens a case by hand: a reviewer of the subject's county, who
// is not the subject.
func (s *Server) createCase(c *gin.Context) {
	raw, err := decodeObject(c)
	if err != nil {
		c.Error(err)
		return
	}
	var o review.Opening
	if err := decodeInto(raw, &o); err != nil {
		c.Error(err)
		return
	}
	if err := o.Validate(); err != nil {
		c.Error(err)
		return
	}
	ctx := c.Request.Context()
	subj, err := s.db.CaseSubject(ctx, o.SubjectType, o.SubjectCode)
	if err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	if err := s.gate.RequireRoute(p, staff.CountyDomain(subj.CountyCode), c.FullPath(), c.Request.Method); err != nil {
		c.Error(apperr.Forbiddenf("只有对象所在县（%s）的问责办公室可以立案", subj.CountyCode))
		return
	}
	if why := recusal(p, &review.Case{SubjectType: o.SubjectType, SubjectCode: o.SubjectCode}); why != "" {
		c.Error(apperr.Forbiddenf("%s", why))
		return
	}
	// A conflict the reviewer declared with the subject (§7.4).
	conflicts, err := s.db.Conflicts(ctx, p.Staff.Code)
	if err != nil {
		c.Error(err)
		return
	}
	probe := &review.Case{SubjectType: o.SubjectType, SubjectCode: o.SubjectCode}
	if why := probe.RecusalOf(review.Sitter{Code: p.Staff.Code, Conflicts: conflicts}, ""); why != "" {
		c.Error(apperr.Forbiddenf("%s", why))
		return
	}
	key := postgres.NewIdempotency(p.Staff.Code, c.GetHeader("Idempotency-Key"), rawForHash(raw, "cases"))
	cs, isNew, err := s.db.CreateCase(ctx, p.Staff.Code, key, o)
	if err != nil {
		c.Error(err)
		return
	}
	c.Header("Location", "/api/v1/cases/"+itoa64(cs.ID))
	if !isNew {
		c.JSON(http.StatusOK, cs)
		return
	}
	c.JSON(http.StatusCreated, cs)
}

func (s *Server) getCase(c *gin.Context) {
	cs, ok := s.loadCase(c)
	if !ok {
		return
	}
	st := s.standing(c, cs)
	if !st.county && !st.subject {
		c.Error(errCaseForbidden)
		return
	}
	if !st.county {
		// The complainant is never shown to the subject (§7.1).
		cs.Complainant = nil
	}
	c.JSON(http.StatusOK, cs)
}

// transitionCase moves a case by one step. Reviewers of the county act on
// it, except on a case about themselves (recusal); the subject may only
// give their written defence (determined → determined) and appeal.
func (s *Server) transitionCase(c *gin.Context) {
	cs, ok := s.loadCase(c)
	if !ok {
		return
	}
	var step review.Step
	if err := decode(c, &step); err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	st := s.standing(c, cs)
	switch {
	case st.subject && (step.To == review.Appealed || (step.To == review.Determined && cs.State == review.Determined)):
		// The subject's own appeal or written defence; recusal does not
		// apply to them.
	case st.county:
		if !s.actOn(c, cs) {
			return
		}
		if step.To == review.Decided && !p.Staff.HasIn(staff.ReviewLead, staff.CountyDomain(cs.CountyCode)) {
			c.Error(apperr.Forbiddenf("处理决定由会议作出，由本县问责工作领导小组成员（review_lead）记录"))
			return
		}
	case st.subject:
		c.Error(apperr.Forbiddenf("案件当事人只能提交书面申辩或申请复核（appealed）"))
		return
	default:
		c.Error(apperr.Forbiddenf("无权办理该问责案件：只有本县问责办公室可以办理"))
		return
	}
	out, err := s.db.TransitionCase(c.Request.Context(), cs.ID, step, p.Staff.Code)
	if err != nil {
		c.Error(err)
		return
	}
	if !st.county {
		out.Complainant = nil
	}
	c.JSON(http.StatusOK, out)
}

// accountability is a person's annual summary (?year=, default this year):
// the person, reviewers and the bureau of their county, and the records
// administrator of their institution may read it.
func (s *Server) accountability(c *gin.Context) {
	code := c.Param("code")
	year := s.db.Now().Year()
	if v := c.Query("year"); v != "" {
		n, ok := atoiPositive(v)
		if !ok || n < 1900 || n > 9999 {
			c.Error(apperr.InvalidField("year", "年份应为 1900–9999 的整数"))
			return
		}
		year = n
	}
	ctx := c.Request.Context()
	p := principal(c)
	if code != p.Staff.Code {
		subj, err := s.db.CaseSubject(ctx, review.SubjectStaff, code)
		if err != nil {
			if apperr.CodeOf(err) == apperr.Invalid {
				err = apperr.NotFoundf("工号 %s 不存在或不属于任何机构", code)
			}
			c.Error(err)
			return
		}
		if !s.gate.AllowIn(p, staff.CountyDomain(subj.CountyCode), c.FullPath(), c.Request.Method) &&
			!p.Staff.HasIn(staff.RecordsAdmin, staff.InstitutionDomain(subj.InstitutionCode)) {
			c.Error(apperr.Forbiddenf("只能查看本人的问责情况；他人的由所在县问责办公室、卫健局或所在机构档案管理员查看"))
			return
		}
	}
	out, err := s.db.Accountability(ctx, code, year)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
