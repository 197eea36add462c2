package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
)

// entryRoutes registers the service entries of DESIGN §4: per-record entry
// lists and creates, programmes, the timeline and card, referral transitions
// and the follow-up due list.
func (s *Server) entryRoutes(api *gin.RouterGroup) {
	for _, k := range entry.Kinds {
		api.GET("/records/:id/"+k.Plural(), recordList(s, "entries",
			func(db *postgres.DB, ctx context.Context, recordID string, pg postgres.Page) ([]entry.Entry, int, error) {
				return db.Entries(ctx, recordID, k, pg)
			}))
		api.POST("/records/:id/"+k.Plural(), s.createEntry(k))
		api.GET("/records/:id/"+k.Plural()+"/:eid", s.getEntry(k))
	}
	api.GET("/records/:id/timeline", s.timeline)
	api.GET("/records/:id/card.pdf", s.recordCard)
	api.GET("/records/:id/programmes", recordList(s, "programmes", (*postgres.DB).Enrolments))
	api.POST("/records/:id/programmes", s.createEnrolment)
	api.GET("/records/:id/programmes/:eid", s.getEnrolment)
	api.POST("/records/:id/programmes/:eid/end", s.endEnrolment)
	api.POST("/records/:id/programmes/:eid/delivery", s.recordDelivery)
	api.GET("/referrals", s.openReferrals)
	api.POST("/referrals/:id/receive", s.moveReferral(entry.Receive))
	api.POST("/referrals/:id/return", s.moveReferral(entry.Return))
	api.POST("/referrals/:id/close", s.moveReferral(entry.Close))
	api.GET("/followups/due", s.dueFollowups)
}

func (s *Server) getEntry(k entry.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := s.recordAccess(c, "entries", access.Read); !ok {
			return
		}
		e, err := s.db.Entry(c.Request.Context(), c.Param("eid"))
		if err == nil && (e.Head().Kind != k || e.Head().RecordID != c.Param("id")) {
			err = apperr.NotFoundf("档案 %s 没有%s %s", c.Param("id"), k.Chinese(), c.Param("eid"))
		}
		if err != nil {
			c.Error(err)
			return
		}
		c.JSON(http.StatusOK, e)
	}
}

// createEntry records an entry of kind k, as createExam does an exam: the
// gate decides on the kind's write section in the record's institution, and
// an Idempotency-Key makes a resent entry a replay (200 with the first). The
// attempt's audit row commits with the entry, or on its own when the entry
// never reaches its statement (a malformed body). A create checks the
// caller's reach in its own statement (writeEntryWithin), except a
// referral, whose receiving institution is checked against the record's
// before it.
func (s *Server) createEntry(k entry.Kind) gin.HandlerFunc {
	return s.writeEntryWithin(k, k != entry.KindReferral, func(c *gin.Context, _ map[string]json.RawMessage) (string, entryStore, error) {
		return c.Param("id") + "/" + k.Plural(), s.db.AddEntry, nil
	})
}

// entryStore writes an entry an entry request decoded: a create
// (postgres.DB.AddEntry) or a correction.
type entryStore func(ctx context.Context, actor, institution string, e entry.Entry, key postgres.Idempotency,
	audit *access.PendingAudit) (entry.Entry, bool, error)

// writeEntry serves a request that writes an entry of kind k: the gate for
// the kind's section, the form decoded and its author attributed, the
// Idempotency-Key over the request's target and body, and the answer (201
// with the entry, 200 with the first on a replay). prepare takes what is the
// request's own out of the body, and says its target and how it is stored.
func (s *Server) writeEntry(k entry.Kind, prepare func(c *gin.Context, raw map[string]json.RawMessage) (string, entryStore, error)) gin.HandlerFunc {
	return s.writeEntryWithin(k, false, prepare)
}

// writeEntryWithin is writeEntry. With within, a create by its own author
// skips the gate's lookup of the record's scope: the gate gives the
// caller's write reach (casbin's decisions, no round trip) and the entry's
// statement checks the record against it (postgres.DB.AddEntryWithin),
// committing the allowed attempt's audit row with the entry. Whatever the
// statement did not settle — a record outside the reach or missing (it
// then wrote nothing), a body refused before it — goes to the gate as
// always: a denial is 403 and logged, a missing record 404, and the
// answer is the one the gate-first order gives.
func (s *Server) writeEntryWithin(k entry.Kind, within bool,
	prepare func(c *gin.Context, raw map[string]json.RawMessage) (string, entryStore, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal(c)
		id := c.Param("id")
		var e entry.Entry
		var store entryStore
		var key postgres.Idempotency
		raw, err := decodeObject(c)
		if err == nil {
			var target string
			target, store, err = prepare(c, raw)
			if err == nil {
				e = entry.New(k)
				err = decodeInto(raw, e.Form())
				key = postgres.NewIdempotency(p.Staff.Code, c.GetHeader("Idempotency-Key"), rawForHash(raw, target))
			}
		}
		if err == nil && within {
			code := &e.Basics().StaffCode
			*code = strings.TrimSpace(*code)
			if reach := s.gate.WriteReach(p, k.Section()); (*code == "" || *code == p.Staff.Code) && !reach.Empty() {
				audit := s.gate.Allowed(p, id, k.Section(), c.Request.Method, c.Request.URL.Path)
				e.Head().RecordID = id
				out, isNew, serr := s.db.AddEntryWithin(c.Request.Context(), p.Staff.Code, reach, e, key, audit)
				if audit.IsWritten() {
					s.answerEntry(c, k, id, out, isNew, serr)
					return
				}
				if serr == nil {
					// A replay of a create that took the key while this
					// one ran: the record was within reach, and the
					// attempt is logged on its own.
					s.answerEntry(c, k, id, out, isNew, s.written(c, audit, nil))
					return
				}
				if !errors.Is(serr, postgres.ErrNotWithin) {
					// Refused before the statement, or the statement
					// failed: the gate decides the attempt and logs it,
					// and the answer is this error.
					err = serr
				}
			}
		}
		// The gate first, as ever: a denied caller learns nothing of the body.
		d, audit, ok := s.recordWrite(c, k.Section())
		if !ok {
			return
		}
		defer s.settle(c, audit) // for the answers before the store's
		if err != nil {
			c.Error(err)
			return
		}
		e.Head().RecordID = id
		if err := s.attribute(c, d.Scope, k.Section(), &e.Basics().StaffCode); err != nil {
			c.Error(err)
			return
		}
		out, isNew, err := store(c.Request.Context(), p.Staff.Code, d.Scope.InstitutionCode, e, key, audit)
		s.answerEntry(c, k, id, out, isNew, s.written(c, audit, err))
	}
}

// answerEntry answers a stored entry: 201 with it, 200 with the first on a
// replay, or the store's error.
func (s *Server) answerEntry(c *gin.Context, k entry.Kind, id string, out entry.Entry, isNew bool, err error) {
	if err != nil {
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

// attribute applies the attribution rule (access.MayAuthor) to the staff
// member a clinical write names (*code, trimmed; the caller when empty):
// the caller passed the gate for this very write, anybody else must be a
// member of the record's institution who may write the section there.
func (s *Server) attribute(c *gin.Context, scope *access.RecordScope, section string, code *string) error {
	*code = strings.TrimSpace(*code)
	p := principal(c)
	if *code == "" || *code == p.Staff.Code {
		return nil
	}
	named, err := s.db.Staff(c.Request.Context(), *code)
	if apperr.CodeOf(err) == apperr.NotFound {
		return apperr.InvalidField("staff_code", "医生工号 "+*code+" 不存在")
	} else if err != nil {
		return err
	}
	if why := access.MayAuthor(named, scope.InstitutionCode, scope.VillageCode, section); why != "" {
		return apperr.InvalidField("staff_code", why)
	}
	return nil
}

// settle writes the audit row of an attempt that failed before its write
// (a malformed body), before the error goes out. The answer is that error,
// so a row that cannot be written is reported to the operator only.
func (s *Server) settle(c *gin.Context, audit *access.PendingAudit) {
	if err := audit.Settle(c.Request.Context()); err != nil {
		s.log.Error("access log: attempt not logged", "path", c.Request.URL.Path, "err", err)
	}
}

// timeline lists exams and entries together, newest first. It needs the
// entries section; exams join in when the caller may read them too (a
// consent grant may cover one and not the other).
func (s *Server) timeline(c *gin.Context) {
	_, allowed, err := s.gate.Sections(c.Request.Context(), principal(c), c.Param("id"), []string{"entries", "exams"},
		c.Request.Method, c.Request.URL.Path)
	if err == nil && !allowed["entries"] {
		err = apperr.Forbiddenf("无权查看档案 %s 的服务记录", c.Param("id"))
	}
	if err != nil {
		c.Error(err)
		return
	}
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	out, total, err := s.db.Timeline(c.Request.Context(), c.Param("id"), allowed["exams"], pg)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, total, pg))
}

// decodeOptional decodes a JSON object body into v when there is a body:
// transitions may be sent without one.
func decodeOptional(c *gin.Context, v any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	return decode(c, v)
}
