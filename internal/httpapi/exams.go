package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/examform"
	"healthrec/internal/pdfdoc"
	"healthrec/internal/record"
)

// examRoutes are the health examination table's own routes: one exam, a
// section saved on its own, the printed form, and the form's description.
func (s *Server) examRoutes(api *gin.RouterGroup) {
	api.GET("/exam-form", s.examForm)
	api.GET("/records/:id/exams/:exam", s.getExam)
	api.PATCH("/records/:id/exams/:exam/sections/:section", s.patchExamSection)
	api.GET("/records/:id/exams/:exam/form.pdf", s.examPDF)
}

// examForm describes the form: sections, items, code lists, units and
// ranges, what a complete section needs. The desk draws its section forms
// and the record page from it.
func (s *Server) examForm(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"sections": examform.Form})
}

func examID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("exam"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.InvalidField("exam", "体检记录编号应为正整数")
	}
	return id, nil
}

func (s *Server) getExam(c *gin.Context) {
	id, err := examID(c)
	if err != nil {
		c.Error(err)
		return
	}
	if _, ok := s.recordAccess(c, "exams", access.Read); !ok {
		return
	}
	e, err := s.db.RecordExam(c.Request.Context(), c.Param("id"), id)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, e)
}

// examSectionPatch is the body of a section's PATCH: the answers to merge
// (an item given replaces, null clears, absent keeps) and the section's
// state, kept as it was when not given.
type examSectionPatch struct {
	Values map[string]json.RawMessage `json:"values"`
	State  string                     `json:"state"`
}

func (s *Server) patchExamSection(c *gin.Context) {
	id, err := examID(c)
	if err != nil {
		c.Error(err)
		return
	}
	_, audit, ok := s.recordWrite(c, "exams")
	if !ok {
		return
	}
	defer s.settle(c, audit)
	var body examSectionPatch
	if err := decode(c, &body); err != nil {
		c.Error(err)
		return
	}
	if body.State != "" && body.State != examform.Draft && body.State != examform.Complete {
		c.Error(apperr.InvalidField("state", "应为 draft（暂存）或 complete（已完成）"))
		return
	}
	out, err := s.db.Audited(audit).PatchExamSection(c.Request.Context(), principal(c).Staff.Code, c.Param("id"), id,
		c.Param("section"), body.Values, body.State)
	if err = s.written(c, audit, err); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// examPDF prints an exam as the standard's form, every item of every
// section with its answer. The resident's name heads it only for a caller
// who may read the basic information as well.
func (s *Server) examPDF(c *gin.Context) {
	id, err := examID(c)
	if err != nil {
		c.Error(err)
		return
	}
	ctx := c.Request.Context()
	rid := c.Param("id")
	_, allowed, err := s.gate.Sections(ctx, principal(c), rid, []string{"exams", "basic"}, c.Request.Method, c.Request.URL.Path)
	if err == nil && !allowed["exams"] {
		err = apperr.Forbiddenf("无权查看「健康体检」")
	}
	if err != nil {
		c.Error(err)
		return
	}
	e, err := s.db.RecordExam(ctx, rid, id)
	if err != nil {
		c.Error(err)
		return
	}
	head := [][2]string{{"档案编号", rid}}
	if allowed["basic"] {
		r, err := s.db.Record(ctx, rid)
		if err != nil {
			c.Error(err)
			return
		}
		head = [][2]string{{"姓名", r.Name}, {"性别", sexName(r.Sex)}, {"档案编号", rid}}
	}
	doctor := e.Doctor
	if st, err := s.db.Staff(ctx, e.Doctor); err == nil && st.Name != "" {
		doctor = st.Name + "（" + e.Doctor + "）"
	}
	head = append(head, [2]string{"体检日期", e.ExamDate.String()}, [2]string{"责任医生", doctor},
		[2]string{"填写状态", stateName(e.State)})
	pdf, err := examFormPDF(e, head)
	if err != nil {
		c.Error(err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="exam-%s-%d.pdf"`, rid, e.ID))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/pdf", pdf)
}

// examFormPDF lays the exam out as the paper form: a heading per section
// with its state, then each item and its answer, "—" where none is
// recorded.
func examFormPDF(e *record.Exam, head [][2]string) ([]byte, error) {
	d, err := pdfdoc.New()
	if err != nil {
		return nil, err
	}
	d.Title("健康体检表")
	d.KeyValues(head)
	cols := e.ColumnValues()
	for _, s := range examform.Form {
		d.Heading(s.Label + "（" + stateName(e.SectionStates[s.Key]) + "）")
		rows := make([][2]string, 0, len(s.Fields))
		for i := range s.Fields {
			f := &s.Fields[i]
			v := e.Sections[s.Key][f.Key]
			if f.Column {
				v = cols[f.Key]
			}
			a := f.Answer(v)
			if a == "" {
				if _, ok := e.Sections[s.Key][f.Key]; ok || f.Kind == examform.Rows && e.SectionStates[s.Key] == examform.Complete {
					a = "无"
				} else {
					a = "—"
				}
			}
			rows = append(rows, [2]string{f.Label, strings.ReplaceAll(a, "\n", "；")})
		}
		d.KeyValues(rows)
	}
	d.Note("依据《国家基本公共卫生服务规范（第三版）》健康体检表。“—”为未填写。")
	return d.Bytes()
}

// stateName is a section's or an exam's state as the form reads it.
func stateName(s string) string {
	switch s {
	case examform.Complete:
		return "已完成"
	case examform.Draft:
		return "暂存"
	}
	return "未填写"
}
