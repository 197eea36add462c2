package httpapi

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
)

// maxFiling is the most entries one filing names: a page of the queue or two.
const maxFiling = 200

// filingRoutes are the responsible doctor's filing queue (归档, DESIGN §3:
// "由责任医生统一汇总、及时归档"): the entries others wrote on their records,
// and the filing of them, one or a batch at once.
func (s *Server) filingRoutes(api *gin.RouterGroup) {
	api.GET("/filing/queue", s.filingQueue)
	api.POST("/filing", s.fileEntries)
}

// filingQueueList is a page of the caller's queue; total is the badge's count.
type filingQueueList struct {
	Items   []postgres.FilingItem `json:"items"`
	Total   int                   `json:"total"`
	Page    int                   `json:"page"`
	PerPage int                   `json:"per_page"`
}

// filingQueue is GET /filing/queue: the entries waiting for the caller to
// file them, oldest first. Each listed record is a read of its summary,
// logged as a search result is.
func (s *Server) filingQueue(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	items, total, err := s.db.FilingQueue(c.Request.Context(), p.Staff.Code, pg)
	if err != nil {
		c.Error(err)
		return
	}
	var ids []string
	for _, it := range items {
		if !slices.Contains(ids, it.RecordID) {
			ids = append(ids, it.RecordID)
		}
	}
	if err := s.gate.LogReads(c.Request.Context(), p, ids, c.Request.Method, c.Request.URL.Path); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, filingQueueList{Items: items, Total: total, Page: max(pg.Page, 1), PerPage: pg.Limit()})
}

// fileEntries is POST /filing {"entry_ids": […]}: the caller files entries
// of their queue, all or none. Each record passes the gate (section
// "filing", write: doctors only), and the caller must be its responsible
// doctor; a denial is logged on the record and answers 403. Filing an
// entry again changes nothing (already_filed); an entry that was never
// queued is a 409. No entry is changed.
func (s *Server) fileEntries(c *gin.Context) {
	var in struct {
		EntryIDs []int64 `json:"entry_ids"`
	}
	if err := decode(c, &in); err != nil {
		c.Error(err)
		return
	}
	switch {
	case in.EntryIDs == nil:
		c.Error(apperr.InvalidField("entry_ids", "缺少 entry_ids"))
		return
	case len(in.EntryIDs) == 0:
		c.Error(apperr.InvalidField("entry_ids", "entry_ids 不能为空"))
		return
	case len(in.EntryIDs) > maxFiling:
		c.Error(apperr.InvalidField("entry_ids", "一次最多归档 200 条"))
		return
	}
	ids := slices.Clone(in.EntryIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if ids[0] <= 0 {
		c.Error(apperr.InvalidField("entry_ids", "服务记录编号应为正整数"))
		return
	}
	ctx := c.Request.Context()
	targets, err := s.db.FilingTargets(ctx, ids)
	if err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	var audits []*access.PendingAudit
	// Allowed attempts that end without the filing are logged all the same.
	defer func() {
		for _, a := range audits {
			s.settle(c, a)
		}
	}()
	seen := map[string]bool{}
	for _, t := range targets {
		if seen[t.RecordID] {
			continue
		}
		seen[t.RecordID] = true
		req := access.Request{RecordID: t.RecordID, Section: "filing", Action: access.Write, Method: c.Request.Method, Path: c.Request.URL.Path}
		_, audit, err := s.gate.RecordWrite(ctx, p, req)
		if err != nil {
			c.Error(err)
			return
		}
		if t.Responsible != p.Staff.Code {
			// The role may file; this record is another doctor's.
			audit.Written() // replaced by the denial
			why := apperr.Forbiddenf("只有档案 %s 的责任医生可以归档其服务记录", t.RecordID)
			if err := s.gate.LogDenied(ctx, p, t.RecordID, "filing", access.Write, why.Message, c.Request.Method, c.Request.URL.Path); err != nil {
				c.Error(err)
				return
			}
			c.Error(why)
			return
		}
		audits = append(audits, audit)
	}
	out, err := s.db.FileEntries(ctx, p.Staff.Code, ids, audits)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
