package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
	"healthrec/internal/staff"
)

// provinceRoutes are the province's view over its counties (DESIGN §9;
// docs/operations.md): served by the same binary from a province database
// that subscribes to the counties' counters (postgres/province.go). The
// province role reaches these routes and nothing else: no record, no
// person.
func (s *Server) provinceRoutes(api *gin.RouterGroup) {
	api.GET("/province/report", s.getProvinceReport)
	api.GET("/province/counties", s.getProvinceCounties)
}

// provinceReport is the JSON answer of GET /province/report: the report
// and how current each county's figures are.
type provinceReport struct {
	*rates.Report
	Counties []postgres.CountyFeed `json:"counties"`
}

// pickProvince chooses among the caller's provinces (province:<code>
// grants): ?province_code=, or the only one.
func pickProvince(c *gin.Context, p *access.Principal) (string, error) {
	var mine []string
	for _, g := range p.Staff.Grants {
		if g.Role == staff.Province && strings.HasPrefix(g.Domain, "province:") {
			mine = append(mine, staff.DomainCode(g.Domain))
		}
	}
	sort.Strings(mine)
	want := c.Query("province_code")
	switch {
	case want == "" && len(mine) == 1:
		return mine[0], nil
	case want == "":
		return "", apperr.InvalidField("province_code", "请指定 province_code")
	case slices.Contains(mine, want):
		return want, nil
	}
	return "", apperr.Forbiddenf("无权查看省 %s 的报表", want)
}

// dataAsOf states the oldest county's heartbeat as the answer's as-of time
// (HeaderDataAsOf): every county's figures are at least that current.
func dataAsOf(c *gin.Context, feeds []postgres.CountyFeed) {
	var oldest *time.Time
	for _, f := range feeds {
		if f.DataAsOf != nil && (oldest == nil || f.DataAsOf.Before(*oldest)) {
			oldest = f.DataAsOf
		}
	}
	if oldest != nil {
		c.Header(HeaderDataAsOf, oldest.UTC().Format(time.RFC3339Nano))
	}
}

// getProvinceReport is GET /province/report: the three rates of every
// county of the province, then down to townships and institutions, ranked
// across the province, as JSON, CSV or PDF. The sample is always every
// record (the province has counters, not records).
func (s *Server) getProvinceReport(c *gin.Context) {
	province, err := pickProvince(c, principal(c))
	if err != nil {
		c.Error(err)
		return
	}
	p, err := s.reportParams(c)
	if err != nil {
		c.Error(err)
		return
	}
	p.Seed = 0 // no draw
	format, err := reportFormat(c)
	if err != nil {
		c.Error(err)
		return
	}
	r, feeds, err := s.db.ProvinceReport(c.Request.Context(), province, p, s.cfg.ProvinceStaleAfter)
	if err != nil {
		c.Error(err)
		return
	}
	dataAsOf(c, feeds)
	if format == "json" {
		c.JSON(http.StatusOK, provinceReport{Report: r, Counties: feeds})
		return
	}
	s.writeReport(c, r, format, fmt.Sprintf("rates-province-%s-%s", province, r.AsOf))
}

// getProvinceCounties is GET /province/counties: the province's counties
// and how current each one's figures are; a county offline keeps its
// figures, marked with their age.
func (s *Server) getProvinceCounties(c *gin.Context) {
	province, err := pickProvince(c, principal(c))
	if err != nil {
		c.Error(err)
		return
	}
	feeds, err := s.db.CountyFeeds(c.Request.Context(), province, s.cfg.ProvinceStaleAfter)
	if err != nil {
		c.Error(err)
		return
	}
	dataAsOf(c, feeds)
	c.JSON(http.StatusOK, gin.H{"items": feeds})
}
