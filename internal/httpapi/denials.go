package httpapi

import (
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
)

// auditDenials logs every refusal (403) of a signed-in caller that the gate
// did not log itself: a role that may not call a route, a write without its
// CSRF token, a handler's own reach check (reports, cases, staff, imports).
// The row names the record the route is about when there is one (a
// referral's record for /referrals/{id}/…), and an empty record ID
// otherwise; the path says what was refused. As everywhere, a refusal that
// cannot be logged is answered with the logging error instead.
func (s *Server) auditDenials(c *gin.Context) {
	ctx := access.TrackDenials(c.Request.Context())
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() || access.DenialLogged(ctx) {
		return
	}
	e, ok := apperr.As(c.Errors.Last().Err)
	if !ok || e.Code != apperr.Forbidden {
		return
	}
	v, ok := c.Get(principalKey)
	if !ok {
		return // nobody signed in: a 401, not a refusal
	}
	recordID, section := s.deniedTarget(c)
	if err := s.gate.LogDenied(ctx, v.(*access.Principal), recordID, section, actionOfMethod(c.Request.Method), e.Message,
		c.Request.Method, c.Request.URL.Path); err != nil {
		c.Error(err)
	}
}

// deniedTarget is the record and section a refused request was about: the
// path's record, a referral's record, or none ("" and "route").
func (s *Server) deniedTarget(c *gin.Context) (recordID, section string) {
	switch path := c.FullPath(); {
	case strings.HasPrefix(path, "/api/v1/records/:id"):
		return c.Param("id"), sectionOfPath(path)
	case strings.HasPrefix(path, "/api/v1/referrals/:id/"):
		if ref, err := s.db.Referral(c.Request.Context(), c.Param("id")); err == nil {
			return ref.RecordID, "entries.referrals"
		}
	}
	return "", "route"
}
