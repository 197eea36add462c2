package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/staff"
)

// openReferrals is the doctor's list of referrals not yet returned or
// closed: ?open_over_days=N keeps those open for more than N days;
// ?direction=in lists those addressed to the caller's institutions instead
// of those they issued.
func (s *Server) openReferrals(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	f := postgres.ReferralFilter{Page: pg, OpenOverDays: -1, Direction: postgres.ReferralsOut}
	var fe apperr.FieldErrors
	if v := c.Query("open_over_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 36500 {
			fe.Add("open_over_days", "应为 0–36500 的整数")
		}
		f.OpenOverDays = n
	}
	switch v := c.Query("direction"); v {
	case "", postgres.ReferralsOut:
	case postgres.ReferralsIn:
		f.Direction = v
	default:
		fe.Add("direction", "应为 out（本机构转出）或 in（转入本机构）")
	}
	if err := fe.Err(); err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	f.Institutions = access.ListReachOf(p).Institutions
	out, total, err := s.db.OpenReferrals(c.Request.Context(), f)
	if err != nil {
		c.Error(err)
		return
	}
	ids := make([]string, len(out))
	for i := range out {
		ids[i] = out[i].RecordID
	}
	if err := s.gate.LogReads(c.Request.Context(), p, ids, c.Request.Method, c.Request.URL.Path); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, total, pg))
}

// moveReferral applies a referral transition. The issuing side (staff who
// may write referrals of the record's institution) may do all three; when
// the receiving institution uses the service, its doctors may also receive
// and return. Either way the attempt is in the record's access log.
func (s *Server) moveReferral(t entry.Transition) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		ref, err := s.db.Referral(ctx, c.Param("id"))
		if err != nil {
			c.Error(err)
			return
		}
		p := principal(c)
		const section = "entries.referrals"
		var audit *access.PendingAudit
		if t != entry.Close && ref.ToInstitutionCode != "" &&
			s.gate.AllowIn(p, staff.InstitutionDomain(ref.ToInstitutionCode), "record."+section, access.Write) {
			audit = s.gate.Allowed(p, ref.RecordID, section, c.Request.Method, c.Request.URL.Path)
		} else {
			_, audit, err = s.gate.RecordWrite(ctx, p, access.Request{RecordID: ref.RecordID, Section: section, Action: access.Write,
				Method: c.Request.Method, Path: c.Request.URL.Path})
		}
		if e, ok := apperr.As(err); ok && e.Code == apperr.Forbidden {
			// The gate's reason names the record behind the referral: the
			// access log keeps it; a caller who may not see the record
			// does not learn which it is.
			err = apperr.Forbiddenf("无权处理转诊 %s：须为开出或接收转诊机构中有转诊权限的人员", c.Param("id"))
		}
		if err != nil {
			c.Error(err)
			return
		}
		defer s.settle(c, audit)
		var f entry.TransitionForm
		if err := decodeOptional(c, &f); err != nil {
			c.Error(err)
			return
		}
		out, err := s.db.Audited(audit).MoveReferral(ctx, p.Staff.Code, c.Param("id"), t, f)
		if err = s.written(c, audit, err); err != nil {
			c.Error(err)
			return
		}
		c.JSON(http.StatusOK, out)
	}
}
