package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

// listItems lists a case's rectification items: all of them for the
// county's reviewers and bureau and for the case's subject; an item owner
// sees their own.
func (s *Server) listItems(c *gin.Context) {
	cs, ok := s.loadCase(c)
	if !ok {
		return
	}
	owner := ""
	if st := s.standing(c, cs); !st.county && !st.subject {
		owner = principal(c).Staff.Code
	}
	out, err := s.db.Items(c.Request.Context(), cs.ID, owner)
	if err != nil {
		c.Error(err)
		return
	}
	if owner != "" && len(out) == 0 {
		c.Error(errCaseForbidden)
		return
	}
	c.JSON(http.StatusOK, list(out, len(out), pageAll(len(out))))
}

// createItem gives a decided case a rectification item: a reviewer of the
// county who is not the subject.
func (s *Server) createItem(c *gin.Context) {
	cs, ok := s.loadCase(c)
	if !ok {
		return
	}
	p := principal(c)
	if !s.standing(c, cs).county {
		c.Error(apperr.Forbiddenf("只有本县问责办公室可以交办整改事项"))
		return
	}
	if why := recusal(p, cs); why != "" {
		c.Error(apperr.Forbiddenf("%s", why))
		return
	}
	raw, err := decodeObject(c)
	if err != nil {
		c.Error(err)
		return
	}
	var n review.NewItem
	if err := decodeInto(raw, &n); err != nil {
		c.Error(err)
		return
	}
	key := postgres.NewIdempotency(p.Staff.Code, c.GetHeader("Idempotency-Key"), rawForHash(raw, "cases/"+itoa64(cs.ID)+"/items"))
	it, isNew, err := s.db.CreateItem(c.Request.Context(), cs.ID, p.Staff.Code, key, n)
	if err != nil {
		c.Error(err)
		return
	}
	c.Header("Location", "/api/v1/cases/"+itoa64(cs.ID)+"/items")
	if !isNew {
		c.JSON(http.StatusOK, it)
		return
	}
	c.JSON(http.StatusCreated, it)
}

func (s *Server) loadItem(c *gin.Context) (*review.Item, bool) {
	id, ok := pathID(c, "整改事项")
	if !ok {
		return nil, false
	}
	it, err := s.db.Item(c.Request.Context(), id)
	if err != nil {
		c.Error(err)
		return nil, false
	}
	return it, true
}

// closeItem is the owner's report that the item is done, with evidence.
func (s *Server) closeItem(c *gin.Context) {
	it, ok := s.loadItem(c)
	if !ok {
		return
	}
	p := principal(c)
	if it.Owner != p.Staff.Code {
		c.Error(apperr.Forbiddenf("只有整改责任人本人（%s）可以报告整改完成", it.Owner))
		return
	}
	var cl review.Close
	if err := decode(c, &cl); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.CloseItem(c.Request.Context(), it.ID, p.Staff.Code, cl)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// verifyItem is the later check (回头看): a reviewer of the case's county,
// neither the case's subject nor the item's owner.
func (s *Server) verifyItem(c *gin.Context) {
	it, ok := s.loadItem(c)
	if !ok {
		return
	}
	cs, err := s.db.Case(c.Request.Context(), it.CaseID)
	if err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	if !s.gate.AllowIn(p, staff.CountyDomain(cs.CountyCode), c.FullPath(), c.Request.Method) {
		c.Error(apperr.Forbiddenf("只有本县问责办公室可以回头看验收"))
		return
	}
	if why := recusal(p, cs); why != "" {
		c.Error(apperr.Forbiddenf("%s", why))
		return
	}
	if it.Owner == p.Staff.Code {
		c.Error(apperr.Forbiddenf("回避：不得验收本人负责的整改事项"))
		return
	}
	var v review.Verify
	if err := decode(c, &v); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.VerifyItem(c.Request.Context(), it.ID, p.Staff.Code, v)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// listReminders is the caller's due reminders: for each of their pending
// rectification items due within 7 days, the latest reminder that fell due.
func (s *Server) listReminders(c *gin.Context) {
	out, err := s.db.DueReminders(c.Request.Context(), principal(c).Staff.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, len(out), pageAll(len(out))))
}
