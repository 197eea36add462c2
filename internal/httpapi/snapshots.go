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

// publishBody is POST /snapshots: the kind, the report's parameters and a
// title; for a correction, the snapshot it supersedes and why. The as-of
// date defaults to today, the sample to all records, and the seed to a
// random one. The kind has no default: an assessment proposes cases.
type publishBody struct {
	Kind       review.SnapshotKind `json:"kind"`
	Title      string              `json:"title"`
	AsOf       civil.Date          `json:"as_of"`
	Sample     rates.Sample        `json:"sample"`
	Seed       *int64              `json:"seed"`
	Supersedes *int64              `json:"supersedes"`
	Reason     string              `json:"reason"`
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
	b.Title, b.Reason = strings.TrimSpace(b.Title), strings.TrimSpace(b.Reason)
	var fe apperr.FieldErrors
	if len([]rune(b.Title)) > 200 {
		fe.Add("title", "标题最多 200 个字")
	}
	if !b.Kind.Valid() {
		fe.Add("kind", "快照类型应为 pre_assessment（预考核）或 assessment（考核）")
	}
	if err := fe.Err(); err != nil {
		c.Error(err)
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
	pub := postgres.Publication{Kind: b.Kind, Title: b.Title, Supersedes: b.Supersedes, Reason: b.Reason}
	// Publishing registers the snapshot with the accountability review in
	// the same transaction (DESIGN §7.1): an assessment proposes its cases.
	snap, err := s.db.PublishSnapshot(c.Request.Context(), p.Staff.Code, county, pub, params)
	if err != nil {
		c.Error(err)
		return
	}
	created(c, "/api/v1/snapshots/"+itoa64(snap.ID), publishAnswer{Snapshot: snap, CasesProposed: len(snap.Proposed)})
}

// publishAnswer is the published snapshot with the number of review cases
// it proposed or added its figures to.
type publishAnswer struct {
	*postgres.Snapshot
	CasesProposed int `json:"cases_proposed"`
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
	var snap *postgres.Snapshot
	if err := s.laggedRead(c, func(db *postgres.DB) (err error) {
		snap, err = db.Snapshot(c.Request.Context(), id)
		return err
	}); err != nil {
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
	snap.Report.Kind = string(snap.Kind)
	snap.Report.Status = "现行有效"
	if snap.SupersededBy != nil {
		snap.Report.Status = fmt.Sprintf("已被快照 %d 取代（更正），仅供查阅", *snap.SupersededBy)
	}
	s.writeReport(c, snap.Report, format, fmt.Sprintf("snapshot-%d-%s-%s-%s", snap.ID, snap.CountyCode, snap.Kind, snap.AsOf))
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
	var scope *postgres.ScopeInfo
	var t *postgres.Trend
	if err := s.laggedRead(c, func(db *postgres.DB) (err error) {
		if scope, err = db.RateScope(c.Request.Context(), level, code); err != nil || scope.County != county {
			return err
		}
		t, err = db.Trends(c.Request.Context(), county, level, code)
		return err
	}); err != nil {
		c.Error(err)
		return
	}
	if scope.County != county {
		c.Error(apperr.Forbiddenf("%s %s 不在县 %s 内", level.Chinese(), code, county))
		return
	}
	if t.ScopeName == "" {
		t.ScopeName = scope.Name
	}
	c.JSON(http.StatusOK, t)
}
