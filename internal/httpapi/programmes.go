package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
)

func (s *Server) getEnrolment(c *gin.Context) {
	if _, ok := s.recordAccess(c, "programmes", access.Read); !ok {
		return
	}
	out, err := s.db.Enrolment(c.Request.Context(), c.Param("id"), c.Param("eid"))
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// createEnrolment enrols the record's resident in a programme; one active
// enrolment per programme (409 with existing_enrolment_id otherwise).
func (s *Server) createEnrolment(c *gin.Context) {
	_, audit, ok := s.recordWrite(c, "programmes")
	if !ok {
		return
	}
	defer s.settle(c, audit)
	raw, err := decodeObject(c)
	if err != nil {
		c.Error(err)
		return
	}
	var f entry.EnrolmentForm
	if err := decodeInto(raw, &f); err != nil {
		c.Error(err)
		return
	}
	id := c.Param("id")
	p := principal(c)
	key := postgres.NewIdempotency(p.Staff.Code, c.GetHeader("Idempotency-Key"), rawForHash(raw, id+"/programmes"))
	out, isNew, err := s.db.Audited(audit).AddEnrolment(c.Request.Context(), p.Staff.Code, id, f, key)
	if err = s.written(c, audit, err); err != nil {
		c.Error(err)
		return
	}
	c.Header("Location", "/api/v1/records/"+id+"/programmes/"+itoa64(out.ID))
	if !isNew {
		c.JSON(http.StatusOK, out)
		return
	}
	c.JSON(http.StatusCreated, out)
}

// endEnrolment ends (结案) an enrolment: {"ended_on","reason"}, both optional.
func (s *Server) endEnrolment(c *gin.Context) {
	_, audit, ok := s.recordWrite(c, "programmes")
	if !ok {
		return
	}
	defer s.settle(c, audit)
	var f entry.EndForm
	if err := decodeOptional(c, &f); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.Audited(audit).EndEnrolment(c.Request.Context(), c.Param("id"), c.Param("eid"), f)
	if err = s.written(c, audit, err); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// recordDelivery records the delivery (分娩) of a maternal enrolment:
// {"delivered_on"}. The postpartum visit and the 42-day check are then due.
func (s *Server) recordDelivery(c *gin.Context) {
	_, audit, ok := s.recordWrite(c, "programmes")
	if !ok {
		return
	}
	defer s.settle(c, audit)
	var f postgres.DeliveryForm
	if err := decode(c, &f); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.Audited(audit).RecordDelivery(c.Request.Context(), c.Param("id"), c.Param("eid"), f)
	if err = s.written(c, audit, err); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
