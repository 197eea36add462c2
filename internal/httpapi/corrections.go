package httpapi

import (
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
	return func(c *gin.Context) {
		d, audit, ok := s.recordWrite(c, k.Section())
		if !ok {
			return
		}
		defer s.settle(c, audit)
		raw, err := decodeObject(c)
		if err != nil {
			c.Error(err)
			return
		}
		var reason string
		if r, ok := raw["correction_reason"]; ok {
			if err := json.Unmarshal(r, &reason); err != nil {
				c.Error(apperr.InvalidField("correction_reason", "应为字符串"))
				return
			}
			delete(raw, "correction_reason")
		}
		e := entry.New(k)
		if err := decodeInto(raw, e.Form()); err != nil {
			c.Error(err)
			return
		}
		id := c.Param("id")
		e.Head().RecordID = id
		if err := s.attribute(c, d.Scope, k.Section(), &e.Basics().StaffCode); err != nil {
			c.Error(err)
			return
		}
		p := principal(c)
		path := id + "/" + k.Plural() + "/" + c.Param("eid") + "/corrections"
		key := postgres.NewIdempotency(p.Staff.Code, c.GetHeader("Idempotency-Key"), rawForHash(raw, path+"\x00"+reason))
		out, isNew, err := s.db.Audited(audit).CorrectEntry(c.Request.Context(), p.Staff.Code, d.Scope.InstitutionCode, c.Param("eid"), e, reason, key)
		if err = s.written(c, audit, err); err != nil {
			c.Error(err)
			return
		}
		c.Header("Location", "/api/v1/records/"+id+"/"+k.Plural()+"/"+itoa64(out.Head().ID))
		if !isNew {
			c.JSON(http.StatusOK, out)
			return
		}
		c.JSON(http.StatusCreated, out)
	}
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
