package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
)

// correctionRoutes are the corrections of entries (new versions, the old
// kept) and their history. A referral is corrected through its own
// transitions (closed with a reason, issued anew), so it has none here. A
// key population's service marks its place in the schedule when written;
// until a correction moves that mark too, those kinds have none either.
func (s *Server) correctionRoutes(api *gin.RouterGroup) {
	for _, k := range entry.Kinds {
		if k == entry.KindReferral || k.Programme() != "" {
			continue
		}
		api.POST("/records/:id/"+k.Plural()+"/:eid/corrections", s.correctEntry(k))
		api.GET("/records/:id/"+k.Plural()+"/:eid/history", s.entryHistory(k))
	}
}

// correctEntry is POST /records/{id}/{kind}/{eid}/corrections: the kind's
// whole form as a create takes it, with correction_reason. It passes the
// gate as a create of the kind does, and answers 201 with the new version
// (200 with the first on an Idempotency-Key replay).
func (s *Server) correctEntry(k entry.Kind) gin.HandlerFunc {
	return s.writeEntry(k, func(c *gin.Context, raw map[string]json.RawMessage) (string, entryStore, error) {
		var reason string
		if r, ok := raw["correction_reason"]; ok {
			if err := json.Unmarshal(r, &reason); err != nil {
				return "", nil, apperr.InvalidField("correction_reason", "应为字符串")
			}
			delete(raw, "correction_reason")
		}
		target := c.Param("id") + "/" + k.Plural() + "/" + c.Param("eid") + "/corrections\x00" + reason
		return target, func(ctx context.Context, actor, inst string, e entry.Entry, key postgres.Idempotency, audit *access.PendingAudit) (entry.Entry, bool, error) {
			return s.db.Audited(audit).CorrectEntry(ctx, actor, inst, c.Param("eid"), e, reason, key)
		}, nil
	})
}

// entryHistory is GET /records/{id}/{kind}/{eid}/history: every version of
// the entry, oldest first, from any of its versions.
func (s *Server) entryHistory(k entry.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := s.recordAccess(c, "entries", access.Read); !ok {
			return
		}
		vs, err := s.db.EntryHistory(c.Request.Context(), c.Param("eid"))
		if err == nil && (vs[0].Entry.Head().Kind != k || vs[0].Entry.Head().RecordID != c.Param("id")) {
			err = apperr.NotFoundf("档案 %s 没有%s %s", c.Param("id"), k.Chinese(), c.Param("eid"))
		}
		if err != nil {
			c.Error(err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"items": vs})
	}
}
