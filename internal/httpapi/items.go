package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

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
	if s.recused(c, cs) {
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

// loadOwnItem is loadItem for what only the item's owner may do (the action
// names it in the refusal).
func (s *Server) loadOwnItem(c *gin.Context, action string) (*review.Item, bool) {
	it, ok := s.loadItem(c)
	if ok && it.Owner != principal(c).Staff.Code {
		c.Error(apperr.Forbiddenf("只有整改责任人本人（%s）可以%s", it.Owner, action))
		return nil, false
	}
	return it, ok
}

// closeItem is the owner's report that the item is done, with evidence.
func (s *Server) closeItem(c *gin.Context) {
	it, ok := s.loadOwnItem(c, "报告整改完成")
	if !ok {
		return
	}
	p := principal(c)
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
	if s.recused(c, cs) {
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

// evidenceTypes are the evidence files taken, by their sniffed content.
var evidenceTypes = map[string]bool{"image/jpeg": true, "image/png": true, "application/pdf": true}

// addEvidence is POST /items/{id}/evidence: the owner uploads a photo or a
// PDF (multipart field "file", at most 10 MB) as evidence of a pending
// item; it is kept with its SHA-256.
func (s *Server) addEvidence(c *gin.Context) {
	it, ok := s.loadOwnItem(c, "上传佐证材料")
	if !ok {
		return
	}
	p := principal(c)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, review.MaxEvidenceSize+64<<10)
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			c.Error(apperr.InvalidField("file", "文件不能超过 10 MB"))
			return
		}
		c.Error(apperr.InvalidField("file", "请以 multipart 表单字段 file 上传照片或 PDF"))
		return
	}
	if fh.Size > review.MaxEvidenceSize {
		c.Error(apperr.InvalidField("file", "文件不能超过 10 MB"))
		return
	}
	if fh.Size == 0 {
		c.Error(apperr.InvalidField("file", "文件为空"))
		return
	}
	f, err := fh.Open()
	if err != nil {
		c.Error(apperr.InvalidField("file", "无法读取上传的文件"))
		return
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, review.MaxEvidenceSize+1))
	if err != nil || len(content) > review.MaxEvidenceSize {
		c.Error(apperr.InvalidField("file", "文件不能超过 10 MB"))
		return
	}
	typ := http.DetectContentType(content)
	if !evidenceTypes[typ] {
		c.Error(apperr.InvalidField("file", "只接受 JPEG、PNG 照片或 PDF 文件"))
		return
	}
	name := strings.TrimSpace(filepath.Base(fh.Filename))
	if name == "" || name == "." || len([]rune(name)) > 200 || !utf8.ValidString(name) {
		name = "evidence"
	}
	sum := sha256.Sum256(content)
	out, err := s.db.AddEvidence(c.Request.Context(), it.ID, p.Staff.Code,
		review.EvidenceFile{Name: name, ContentType: typ, Size: len(content), SHA256: hex.EncodeToString(sum[:])}, content)
	if err != nil {
		c.Error(err)
		return
	}
	created(c, fmt.Sprintf("/api/v1/items/%d/evidence/%d", it.ID, out.ID), out)
}

// getEvidence is GET /items/{id}/evidence/{eid}: the file as uploaded, for
// the item's owner, the case's subject and the county's reviewers and
// bureau. The checksum travels in a header for a check on receipt.
func (s *Server) getEvidence(c *gin.Context) {
	it, ok := s.loadItem(c)
	if !ok {
		return
	}
	cs, err := s.db.Case(c.Request.Context(), it.CaseID)
	if err != nil {
		c.Error(err)
		return
	}
	st := s.standing(c, cs)
	if !st.county && !st.subject && it.Owner != principal(c).Staff.Code {
		c.Error(errCaseForbidden)
		return
	}
	eid, err := strconv.ParseInt(c.Param("eid"), 10, 64)
	if err != nil || eid <= 0 {
		c.Error(apperr.NotFoundf("佐证材料 %s 不存在", c.Param("eid")))
		return
	}
	f, content, err := s.db.Evidence(c.Request.Context(), it.ID, eid)
	if err != nil {
		c.Error(err)
		return
	}
	c.Header("Content-Disposition", "inline; filename*=UTF-8''"+url.PathEscape(f.Name))
	c.Header("X-Content-SHA256", f.SHA256)
	c.Data(http.StatusOK, f.ContentType, content)
}
