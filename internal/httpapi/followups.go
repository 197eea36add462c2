package httpapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/postgres"
)

// dueResponse is the due list with the date it was computed for.
type dueResponse struct {
	listResponse[postgres.DueFollowup]
	AsOf       civil.Date `json:"as_of"`
	WithinDays int        `json:"within_days"`
}

// dueFollowups is the follow-up work list (DESIGN §4.3): due and overdue
// hypertension and diabetes follow-ups in the caller's villages — a
// home-visit worker's assigned villages, a doctor's or records
// administrator's institution villages — or in one of them
// (?village_code=), as of a date (?as_of=, default today), earliest due
// first. ?within_days=N also lists those falling due in the next N days.
func (s *Server) dueFollowups(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	f := postgres.DueFilter{AsOf: civil.Of(s.db.Today()), Page: pg}
	var fe apperr.FieldErrors
	if v := c.Query("as_of"); v != "" {
		d, err := civil.Parse(v)
		if err != nil {
			fe.Add("as_of", err.Error())
		} else if d.Before(civil.New(1900, 1, 1)) || d.After(civil.New(9000, 1, 1)) {
			fe.Add("as_of", "日期超出范围")
		}
		f.AsOf = d
	}
	if v := c.Query("within_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 366 {
			fe.Add("within_days", "应为 0–366 的整数")
		}
		f.WithinDays = n
	}
	if err := fe.Err(); err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	ctx := c.Request.Context()
	reach := access.ListReachOf(p)
	var villages []string
	if len(reach.Institutions) > 0 {
		var err error
		if villages, err = s.db.VillagesOf(ctx, reach.Institutions); err != nil {
			c.Error(err)
			return
		}
	}
	villages = append(villages, reach.Villages...)
	f.Villages = villages
	if v := c.Query("village_code"); v != "" {
		if !slices.Contains(villages, v) {
			c.Error(apperr.Forbiddenf("无权查看村居 %s 的随访：不在本人负责的村居范围内", v))
			return
		}
		f.Villages = []string{v}
	}
	out, total, err := s.lagged(c).DueFollowups(ctx, f)
	if err != nil {
		c.Error(err)
		return
	}
	ids := make([]string, len(out))
	for i := range out {
		ids[i] = out[i].RecordID
	}
	// Within a worklist, the worklist logs each listed record once.
	if _, sync := syncPath(ctx); !sync {
		if err := s.gate.LogReads(ctx, p, ids, c.Request.Method, c.Request.URL.Path); err != nil {
			c.Error(err)
			return
		}
	}
	c.JSON(http.StatusOK, dueResponse{listResponse: list(out, total, pg), AsOf: f.AsOf, WithinDays: f.WithinDays})
}
