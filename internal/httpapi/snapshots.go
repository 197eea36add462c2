package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/quality"
	"healthrec/internal/rates"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

// publishBody is POST /snapshots: the report's parameters and a title. The
// as-of date defaults to today, the sample to all records, and the seed to a
// random one.
type publishBody struct {
	Title  string       `json:"title"`
	AsOf   civil.Date   `json:"as_of"`
	Sample rates.Sample `json:"sample"`
	Seed   *int64       `json:"seed"`
}

// publishSnapshot freezes the bureau's county's report (DESIGN §5.5).
func (s *Server) publishSnapshot(c *gin.Context) {
	p := principal(c)
	county, err := pickCounty(c, countiesOf(p, staff.Bureau))
	if err != nil {
		c.Error(err)
		return
	}
	var b publishBody
	if err := decode(c, &b); err != nil {
		c.Error(err)
		return
	}
	b.Title = strings.TrimSpace(b.Title)
	if len([]rune(b.Title)) > 200 {
		c.Error(apperr.InvalidField("title", "标题最多 200 个字"))
		return
	}
	params := rates.Params{AsOf: b.AsOf, Sample: b.Sample, Seed: randomSeed()}
	if params.AsOf.IsZero() {
		params.AsOf = civil.Of(s.db.Today())
	} else if params.AsOf.Before(quality.MinBirthDate) {
		c.Error(apperr.InvalidField("as_of", "统计截止日不能早于 1900-01-01"))
		return
	}
	if b.Seed != nil {
		params.Seed = *b.Seed
	}
	snap, err := s.db.PublishSnapshot(c.Request.Context(), p.Staff.Code, county, b.Title, params)
	if err != nil {
		c.Error(err)
		return
	}
	// Publishing feeds the accountability review (DESIGN §7): a case is
	// proposed for every warned doctor and institution. The proposal is
	// idempotent per snapshot, so a failure here is logged and can be retried
	// without republishing.
	cases, err := s.db.ProposeFromWarnings(c.Request.Context(), itoa64(snap.ID), snap.CountyCode, snap.Report.ComputedAt, reviewWarnings(snap.ID, snap.Report.Warnings))
	if err != nil {
		s.log.Error("propose cases from snapshot", "snapshot", snap.ID, "err", err)
	}
	created(c, "/api/v1/snapshots/"+itoa64(snap.ID), publishAnswer{Snapshot: snap, CasesProposed: len(cases)})
}

// publishAnswer is the published snapshot with the number of review cases
// proposed from its warnings.
type publishAnswer struct {
	*postgres.Snapshot
	CasesProposed int `json:"cases_proposed"`
}

// reviewWarnings hands a report's warnings to the review workflow.
func reviewWarnings(snapshotID int64, ws []rates.Warning) []review.Warning {
	out := make([]review.Warning, len(ws))
	for i, w := range ws {
		rate, gap := float64(w.Rate)/10, float64(w.Gap)/10
		out[i] = review.Warning{SnapshotID: itoa64(snapshotID), Level: string(w.Level), ScopeCode: w.ScopeCode, ScopeName: w.ScopeName,
			Indicator: string(w.Indicator), Rate: &rate, Target: float64(w.Target) / 10, Gap: &gap, Rank: w.Rank, BottomThree: w.BottomThree}
	}
	return out
}

// listSnapshots lists the published reports of the caller's counties.
func (s *Server) listSnapshots(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	out, total, err := s.db.Snapshots(c.Request.Context(), countiesOf(principal(c), staff.Bureau, staff.Reviewer), pg)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, total, pg))
}

// getSnapshot answers a published report as it was published, as JSON (with
// its publication facts), CSV or PDF.
func (s *Server) getSnapshot(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		c.Error(apperr.NotFoundf("快照 %s 不存在", c.Param("id")))
		return
	}
	format, err := reportFormat(c)
	if err != nil {
		c.Error(err)
		return
	}
	snap, err := s.db.Snapshot(c.Request.Context(), id)
	if err != nil {
		c.Error(err)
		return
	}
	mine := false
	for _, county := range countiesOf(principal(c), staff.Bureau, staff.Reviewer) {
		mine = mine || county == snap.CountyCode
	}
	if !mine {
		c.Error(apperr.Forbiddenf("快照 %d 属于县 %s，不在您的范围内", id, snap.CountyCode))
		return
	}
	if format == "json" {
		c.JSON(http.StatusOK, snap)
		return
	}
	s.writeReport(c, snap.Report, format, fmt.Sprintf("snapshot-%d-%s-%s", snap.ID, snap.CountyCode, snap.AsOf))
}

// getTrends is GET /trends?level=&scope_code=: a scope's rates over the
// county's published snapshots, one line per indicator.
func (s *Server) getTrends(c *gin.Context) {
	county, err := pickCounty(c, countiesOf(principal(c), staff.Bureau))
	if err != nil {
		c.Error(err)
		return
	}
	var fe apperr.FieldErrors
	level, ok := rates.ParseLevel(c.Query("level"))
	if !ok {
		fe.Add("level", "应为 doctor、institution、township 或 county")
	}
	code := c.Query("scope_code")
	if code == "" || len(code) > 64 {
		fe.Add("scope_code", "不能为空")
	}
	if err := fe.Err(); err != nil {
		c.Error(err)
		return
	}
	scope, err := s.db.RateScope(c.Request.Context(), level, code)
	if err != nil {
		c.Error(err)
		return
	}
	if scope.County != county {
		c.Error(apperr.Forbiddenf("%s %s 不在县 %s 内", level.Chinese(), code, county))
		return
	}
	t, err := s.db.Trends(c.Request.Context(), county, level, code)
	if err != nil {
		c.Error(err)
		return
	}
	if t.ScopeName == "" {
		t.ScopeName = scope.Name
	}
	c.JSON(http.StatusOK, t)
}
