package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
)

// myAssessment is GET /assessment (DESIGN §5.7, "My assessment"): a scope's
// live figures against the targets as of today or ?as_of=, its rank among
// the county's scopes of its level, its trend over the published snapshots
// in force, and its records to fix, nearest fix first, each with the rules
// it breaks in words. A doctor sees their own (the default); a records
// administrator their institution (?level=institution&scope_code=) and each
// of its doctors, whose figures an institution's answer lists too.
type myAssessment struct {
	rates.Params
	Level     rates.Level             `json:"level"`
	ScopeCode string                  `json:"scope_code"`
	ScopeName string                  `json:"scope_name"`
	County    string                  `json:"county_code"`
	Targets   rates.Targets           `json:"targets"`
	Figures   []assessedFigure        `json:"figures"`
	Doctors   []rates.Row             `json:"doctors,omitempty"`
	Trend     *postgres.Trend         `json:"trend"`
	Rules     map[string]string       `json:"rules"`
	Records   []postgres.RecordResult `json:"records"`
	Total     int                     `json:"total"`
	Page      int                     `json:"page"`
	PerPage   int                     `json:"per_page"`
}

// assessedFigure is one indicator's figure with how many scopes of the
// level were ranked.
type assessedFigure struct {
	rates.Row
	Ranked int `json:"ranked"`
}

func (s *Server) getAssessment(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := s.reportParams(c)
	if err != nil {
		c.Error(err)
		return
	}
	p.Sample, p.Seed = rates.All, 1 // the whole population: a person's own figures are not a sample
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	pr := principal(c)
	level, code := rates.Level(c.DefaultQuery("level", string(rates.Doctor))), c.Query("scope_code")
	if code == "" && level == rates.Doctor {
		code = pr.Staff.Code
	}
	if level != rates.Doctor && level != rates.Institution {
		c.Error(apperr.InvalidField("level", "应为 doctor 或 institution"))
		return
	}
	if code == "" || len(code) > 64 {
		c.Error(apperr.InvalidField("scope_code", "不能为空"))
		return
	}
	scope, report, err := s.scopeReport(c, s.db, level, code, p)
	if err != nil {
		c.Error(err)
		return
	}
	out := myAssessment{Params: p, Level: level, ScopeCode: code, ScopeName: scope.Name, County: scope.County, Targets: report.Targets,
		Figures: []assessedFigure{}, Rules: ruleNames(), Page: max(pg.Page, 1), PerPage: pg.Limit()}
	ranked := map[rates.Indicator]int{}
	for _, sm := range report.Summaries {
		if sm.Level == level {
			ranked[sm.Indicator] = sm.Ranked
		}
	}
	for _, row := range report.Scope(level, code) {
		out.Figures = append(out.Figures, assessedFigure{Row: row, Ranked: ranked[row.Indicator]})
	}
	if level == rates.Institution {
		out.Doctors = []rates.Row{}
		for _, row := range report.Rows {
			if row.Level == rates.Doctor && row.Parent == code {
				out.Doctors = append(out.Doctors, row)
			}
		}
	}
	if out.Trend, err = s.db.Trends(ctx, scope.County, level, code); err != nil {
		c.Error(err)
		return
	}
	if out.Records, out.Total, err = s.db.RateRecords(ctx, scope.County, p, postgres.DrillFilter{Level: level, ScopeCode: code, Page: pg}); err != nil {
		c.Error(err)
		return
	}
	if err := s.attachDetails(c, out.Records, p.AsOf); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
