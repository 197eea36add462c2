package httpapi

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/quality"
	"healthrec/internal/rates"
	"healthrec/internal/staff"
)

// reportRoutes are the accountability rates of DESIGN §5: reports, the
// drill-down, targets, published snapshots and trends.
func (s *Server) reportRoutes(api *gin.RouterGroup) {
	api.GET("/reports/rates", s.getRatesReport)
	api.GET("/reports/rates/records", s.getRateRecords)
	api.GET("/targets", s.getTargets)
	api.PUT("/targets", s.putTargets)
	api.GET("/snapshots", s.listSnapshots)
	api.POST("/snapshots", s.publishSnapshot)
	api.GET("/snapshots/:id", s.getSnapshot)
	api.GET("/trends", s.getTrends)
	api.GET("/assessment", s.getAssessment)
}

// reportParams reads ?as_of=&sample=&seed=. The as-of date defaults to
// today, the sample to all records, and the seed to a random one, which the
// report carries so that it can be drawn again.
func (s *Server) reportParams(c *gin.Context) (rates.Params, error) {
	var fe apperr.FieldErrors
	p := rates.Params{AsOf: civil.Of(s.db.Today())}
	if v := c.Query("as_of"); v != "" {
		d, err := civil.Parse(v)
		switch {
		case err != nil:
			fe.Add("as_of", "日期格式应为 YYYY-MM-DD 且为真实日期")
		case d.Before(quality.MinBirthDate):
			fe.Add("as_of", "统计截止日不能早于 1900-01-01")
		default:
			p.AsOf = d
		}
	}
	if n, err := rates.ParseSample(c.Query("sample")); err != nil {
		fe.Add("sample", "应为 all 或 1–1000000 的整数")
	} else {
		p.Sample = n
	}
	if v := c.Query("seed"); v != "" {
		n, err := rates.ParseSeed(v)
		if err != nil {
			fe.Add("seed", "应为整数")
		}
		p.Seed = n
	} else {
		p.Seed = randomSeed()
	}
	return p, fe.Err()
}

// randomSeed draws a seed nobody can guess before the report is made.
func randomSeed() int64 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint32(b[:])&0x7fffffff) + 1
}

// reportFormat reads ?format=json|csv|pdf.
func reportFormat(c *gin.Context) (string, error) {
	switch f := c.DefaultQuery("format", "json"); f {
	case "json", "csv", "pdf":
		return f, nil
	}
	return "", apperr.InvalidField("format", "应为 json、csv 或 pdf")
}

// countiesOf and pickCounty apply access's county rules to a request (the
// rules of who may reach what live in access, reach.go).
func countiesOf(p *access.Principal, roles ...staff.Role) []string { return p.Counties(roles...) }

func pickCounty(c *gin.Context, counties []string) (string, error) {
	return access.PickCounty(c.Query("county_code"), counties)
}

// reportReach decides what a report caller sees (access.ReportReachOf).
func (s *Server) reportReach(c *gin.Context) (access.ReportReach, error) {
	return access.ReportReachOf(principal(c), c.Query("county_code"), func(code string) (string, error) {
		inst, err := s.db.Institution(c.Request.Context(), code)
		if err != nil {
			return "", err
		}
		return inst.CountyCode, nil
	})
}

// getRatesReport is GET /reports/rates: the report of DESIGN §5 as JSON, CSV
// or PDF.
func (s *Server) getRatesReport(c *gin.Context) {
	p, err := s.reportParams(c)
	if err != nil {
		c.Error(err)
		return
	}
	format, err := reportFormat(c)
	if err != nil {
		c.Error(err)
		return
	}
	rc, err := s.reportReach(c)
	if err != nil {
		c.Error(err)
		return
	}
	r, err := s.lagged(c).Report(c.Request.Context(), rc.County, p)
	if err != nil {
		c.Error(err)
		return
	}
	if !rc.Whole {
		r = r.Filter(rc.Sees)
	}
	s.writeReport(c, r, format, fmt.Sprintf("rates-%s-%s", r.CountyCode, r.AsOf))
}

// writeReport answers with a report in a format.
func (s *Server) writeReport(c *gin.Context, r *rates.Report, format, name string) {
	// The CSV's columns are fixed by the contract: the rule set the quality
	// rate was computed with rides in a header, in every format alike.
	c.Header("X-Rule-Set", r.RuleSet)
	switch format {
	case "csv":
		var b bytes.Buffer
		if err := rates.WriteCSV(&b, r); err != nil {
			c.Error(err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		c.Data(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
	case "pdf":
		b, err := rates.PDF(r)
		if err != nil {
			c.Error(err)
			return
		}
		c.Header("Content-Disposition", `inline; filename="`+name+`.pdf"`)
		c.Data(http.StatusOK, "application/pdf", b)
	default:
		c.JSON(http.StatusOK, r)
	}
}

// drillDown is the answer of GET /reports/rates/records.
type drillDown struct {
	rates.Params
	Level     rates.Level             `json:"level"`
	ScopeCode string                  `json:"scope_code"`
	ScopeName string                  `json:"scope_name"`
	Indicator rates.Indicator         `json:"indicator,omitempty"`
	Figures   []rates.Row             `json:"figures"`
	Rules     map[string]string       `json:"rules"`
	Items     []postgres.RecordResult `json:"items"`
	Total     int                     `json:"total"`
	Page      int                     `json:"page"`
	PerPage   int                     `json:"per_page"`
}

// ruleNames are the rules' IDs and descriptions, for clients to label IDs.
func ruleNames() map[string]string {
	out := map[string]string{}
	for _, r := range quality.Rules {
		out[r.String()] = r.Chinese()
	}
	return out
}

// getRateRecords is GET /reports/rates/records: one scope's sampled records
// that fail a rule or have no dynamic record in the window, nearest fix
// first, with the scope's figures (DESIGN §5.7). A doctor asking without a
// scope gets their own. Personal details only for callers who may read the
// record; the bureau gets record IDs and rules.
func (s *Server) getRateRecords(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := s.reportParams(c)
	if err != nil {
		c.Error(err)
		return
	}
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	pr := principal(c)
	var fe apperr.FieldErrors
	level, code := rates.Level(c.Query("level")), c.Query("scope_code")
	if level == "" && code == "" && pr.Staff.Has(staff.Doctor) {
		level, code = rates.Doctor, pr.Staff.Code
	}
	if _, ok := rates.ParseLevel(string(level)); !ok {
		fe.Add("level", "应为 doctor、institution、township 或 county")
	}
	if code == "" || len(code) > 64 {
		fe.Add("scope_code", "不能为空")
	}
	var ind rates.Indicator
	if v := c.Query("indicator"); v != "" {
		var ok bool
		if ind, ok = rates.ParseIndicator(v); !ok {
			fe.Add("indicator", "应为 coverage、quality 或 usage")
		}
	}
	if err := fe.Err(); err != nil {
		c.Error(err)
		return
	}
	rdb := s.lagged(c)
	scope, report, err := s.scopeReport(c, rdb, level, code, p)
	if err != nil {
		c.Error(err)
		return
	}
	out := drillDown{Params: p, Level: level, ScopeCode: code, ScopeName: scope.Name, Indicator: ind,
		Figures: report.Scope(level, code), Rules: ruleNames(), Items: []postgres.RecordResult{}, Page: max(pg.Page, 1), PerPage: pg.Limit()}
	if out.Figures == nil {
		out.Figures = []rates.Row{}
	}
	if ind != rates.Coverage {
		out.Items, out.Total, err = rdb.RateRecords(ctx, scope.County, p, postgres.DrillFilter{Level: level, ScopeCode: code, Indicator: ind, Page: pg})
		if err != nil {
			c.Error(err)
			return
		}
		if err := s.attachDetails(c, out.Items, p.AsOf); err != nil {
			c.Error(err)
			return
		}
	}
	c.JSON(http.StatusOK, out)
}

// attachDetails adds personal details to the records the caller may read
// (a role over the record's institution: never the bureau), and why the
// unused ones among them are not used as of asOf; masks identity numbers as
// lists do, and audits the reads.
func (s *Server) attachDetails(c *gin.Context, items []postgres.RecordResult, asOf civil.Date) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.RecordID
	}
	details, err := s.db.RecordDetailsOf(c.Request.Context(), ids)
	if err != nil {
		return err
	}
	p := principal(c)
	var shown []string
	for i := range items {
		d := details[items[i].RecordID]
		if d == nil || !s.gate.AllowIn(p, staff.InstitutionDomain(d.Institution), "record.basic", access.Read) {
			continue
		}
		d.IDNumber = ident.Mask(d.IDNumber)
		items[i].Details = d
		shown = append(shown, items[i].RecordID)
	}
	if err := s.explainUnused(c, items, asOf); err != nil {
		return err
	}
	return s.gate.LogReads(c.Request.Context(), p, shown, c.Request.Method, c.Request.URL.Path)
}

// explainUnused adds the usage reason to the unused records whose details
// the caller may read.
func (s *Server) explainUnused(c *gin.Context, items []postgres.RecordResult, asOf civil.Date) error {
	var ids []string
	for _, it := range items {
		if it.Details != nil && !it.HasDynamic {
			ids = append(ids, it.RecordID)
		}
	}
	why, err := s.db.UsageReasons(c.Request.Context(), asOf, ids)
	if err != nil {
		return err
	}
	for i := range items {
		items[i].UsageReason = why[items[i].RecordID]
	}
	return nil
}

// getTargets is GET /targets: the caller's county's targets.
func (s *Server) getTargets(c *gin.Context) {
	county, err := pickCounty(c, countiesOf(principal(c), staff.Bureau))
	if err != nil {
		c.Error(err)
		return
	}
	t, err := s.db.Targets(c.Request.Context(), county)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// targetsBody is PUT /targets: every indicator's target, in percent with at
// most one decimal.
type targetsBody struct {
	Coverage *rates.Percent `json:"coverage"`
	Quality  *rates.Percent `json:"quality"`
	Usage    *rates.Percent `json:"usage"`
}

func (s *Server) putTargets(c *gin.Context) {
	county, err := pickCounty(c, countiesOf(principal(c), staff.Bureau))
	if err != nil {
		c.Error(err)
		return
	}
	var b targetsBody
	if err := decode(c, &b); err != nil {
		c.Error(err)
		return
	}
	var fe apperr.FieldErrors
	for name, v := range map[string]*rates.Percent{"coverage": b.Coverage, "quality": b.Quality, "usage": b.Usage} {
		if v == nil {
			fe.Add(name, "不能为空")
		}
	}
	if err := fe.Err(); err != nil {
		c.Error(sortedFields(err))
		return
	}
	t := rates.Targets{Coverage: *b.Coverage, Quality: *b.Quality, Usage: *b.Usage}
	if err := s.db.SetTargets(c.Request.Context(), principal(c).Staff.Code, county, t); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// sortedFields orders an error's fields, so that answers do not depend on
// map order.
func sortedFields(err error) error {
	if e, ok := apperr.As(err); ok {
		sort.Slice(e.Fields, func(i, j int) bool { return e.Fields[i].Field < e.Fields[j].Field })
	}
	return err
}

// scopeReport resolves a scope of a level, checks that the caller may drill
// into it, and computes its county's report: the common start of a
// drill-down (from db, the replica when lag is tolerated) and of My
// assessment (the primary: a fix moves the figure at once).
func (s *Server) scopeReport(c *gin.Context, db *postgres.DB, level rates.Level, code string, p rates.Params) (*postgres.ScopeInfo, *rates.Report, error) {
	ctx := c.Request.Context()
	scope, err := db.RateScope(ctx, level, code)
	if err != nil {
		return nil, nil, err
	}
	if err := access.MayDrill(principal(c), level, code, scope.County, scope.Institution); err != nil {
		return nil, nil, err
	}
	report, err := db.Report(ctx, scope.County, p)
	if err != nil {
		return nil, nil, err
	}
	return scope, report, nil
}
