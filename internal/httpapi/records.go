package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	gojson "github.com/goccy/go-json"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/entry"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
	"healthrec/internal/staff"
)

// searchRecords finds records within the caller's reach: the villages of the
// institutions where they are a doctor or records administrator, and a
// home-visit worker's own villages. Identity numbers are masked in lists.
func (s *Server) searchRecords(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	reach := access.ListReachOf(p)
	f := postgres.RecordFilter{Query: c.Query("q"), VillageCode: c.Query("village_code"), IDNumber: c.Query("id_number"), Page: pg,
		Institutions: reach.Institutions, Villages: reach.Villages}
	out, total, err := s.db.SearchRecords(c.Request.Context(), f)
	if err != nil {
		c.Error(err)
		return
	}
	ids := make([]string, len(out))
	for i := range out {
		out[i].IDNumber = ident.Mask(out[i].IDNumber)
		ids[i] = out[i].RecordID
	}
	if err := s.gate.LogReads(c.Request.Context(), p, ids, c.Request.Method, c.Request.URL.Path); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, total, pg))
}

func (s *Server) fileRecord(c *gin.Context) {
	var r record.Record
	raw, err := decodeObject(c)
	if err != nil {
		c.Error(err)
		return
	}
	// The free-form details of earlier versions became the table's own
	// fields (migration 00024): refused, never silently dropped.
	if _, ok := raw["details"]; ok {
		c.Error(apperr.InvalidField("details", "details 已拆分为个人基本信息表的各项字段（blood_abo、education…），请按字段填写"))
		return
	}
	if _, ok := raw["details_unmapped"]; ok {
		c.Error(apperr.InvalidField("details_unmapped", "只保存迁移时未能对应的原有内容，建档时不能填写"))
		return
	}
	if err := decodeInto(raw, &r); err != nil {
		c.Error(err)
		return
	}
	if r.VillageCode == "" {
		c.Error(apperr.InvalidField("village_code", "村居代码不能为空"))
		return
	}
	v, err := s.db.Village(c.Request.Context(), r.VillageCode)
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			err = apperr.InvalidField("village_code", "村居 "+r.VillageCode+" 未登记")
		}
		c.Error(err)
		return
	}
	p := principal(c)
	audit, err := s.gate.Filing(c.Request.Context(), p, staff.InstitutionDomain(v.InstitutionCode), c.Request.Method, c.Request.URL.Path)
	if err != nil {
		c.Error(err)
		return
	}
	defer s.settle(c, audit)
	err = s.written(c, audit, s.db.Audited(audit).FileRecord(c.Request.Context(), p.Staff.Code, &r))
	if err != nil {
		c.Error(s.explainDuplicate(c, err))
		return
	}
	created(c, "/api/v1/records/"+r.RecordID, r)
}

// recordPage is GET /records/{id}: each section the caller may read.
type recordPage struct {
	RecordID string         `json:"record_id"`
	Basic    *record.Record `json:"basic,omitempty"`
	Exams    []record.Exam  `json:"exams"`
	// Programmes are the resident's key-population enrolments.
	Programmes []entry.Enrolment `json:"programmes"`
	Sections   []string          `json:"sections"`
	// Names are the names of the basic section's codes (card.go, recordNames).
	Names map[string]string `json:"names,omitempty"`
	// StaffNames name the staff codes of the exams and entries by code.
	StaffNames map[string]string `json:"staff_names,omitempty"`
}

// recordSections are the parts of GET /records/{id}, in order.
var recordSections = []string{"basic", "exams", "programmes"}

func (s *Server) getRecord(c *gin.Context) {
	id := c.Param("id")
	// The page and its scope are one statement, read before the gate
	// decides on the scope: nothing of it is answered unless the gate
	// allows it and the access log has committed its rows.
	page, err := s.db.RecordPage(c.Request.Context(), id)
	if err != nil {
		c.Error(err)
		return
	}
	decide, path := s.gate.SectionsIn, c.Request.URL.Path
	if outer, ok := syncPath(c.Request.Context()); ok {
		// Sent to a device by the worklist: one sync row (worklist.go).
		decide, path = s.gate.SyncSectionsIn, outer
	}
	_, allowed, err := decide(c.Request.Context(), principal(c), page.Scope, recordSections, c.Request.Method, path)
	if err != nil {
		c.Error(err)
		return
	}
	if page.Record == nil {
		// Filed between the statement and the decision.
		c.Error(apperr.NotFoundf("档案 %s 不存在", id))
		return
	}
	out := recordPage{RecordID: id, Sections: []string{}}
	if allowed["basic"] {
		out.Basic, out.Names = page.Record, page.Names
		out.Sections = append(out.Sections, "basic")
	}
	if allowed["exams"] {
		out.Exams = page.Exams
		out.Sections = append(out.Sections, "exams")
	}
	if allowed["programmes"] {
		out.Programmes = page.Enrolments
		out.Sections = append(out.Sections, "programmes")
	}
	if len(out.Sections) > 0 {
		out.StaffNames = page.StaffNames
	}
	// goccy/go-json writes what encoding/json writes (c.JSON), in less
	// CPU: the encoding was a sixteenth of the server's CPU of a page.
	b, err := gojson.Marshal(out)
	if err != nil {
		c.Error(err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}

// recordWrite passes the gate for a write on a section of the path's
// record, under the one protocol of writes: the attempt's audit row is
// pending, the write commits it (db.Audited, or AddEntry's argument), and
// the caller's deferred settle logs it when the write never commits (a
// malformed body, a refusal), before the error is answered.
func (s *Server) recordWrite(c *gin.Context, section string) (*access.Decision, *access.PendingAudit, bool) {
	d, audit, err := s.gate.RecordWrite(c.Request.Context(), principal(c), access.Request{RecordID: c.Param("id"),
		Section: section, Action: access.Write, Method: c.Request.Method, Path: c.Request.URL.Path})
	if err != nil {
		c.Error(err)
		return nil, nil, false
	}
	return d, audit, true
}

// written is a write's error, or else the error of its audit row when the
// row could not be logged: a write that cannot be audited is not shown.
func (s *Server) written(c *gin.Context, audit *access.PendingAudit, err error) error {
	if aerr := audit.Settle(c.Request.Context()); aerr != nil && err == nil {
		return aerr
	}
	return err
}

// recordAccess passes the gate for one section of the path's record.
func (s *Server) recordAccess(c *gin.Context, section, action string) (*access.Decision, bool) {
	d, err := s.gate.Record(c.Request.Context(), principal(c), access.Request{RecordID: c.Param("id"), Section: section, Action: action,
		Method: c.Request.Method, Path: c.Request.URL.Path})
	if err != nil {
		c.Error(err)
		return nil, false
	}
	return d, true
}

func (s *Server) patchRecord(c *gin.Context) {
	_, audit, ok := s.recordWrite(c, "basic")
	if !ok {
		return
	}
	defer s.settle(c, audit)
	patch, err := decodeObject(c)
	if err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.Audited(audit).UpdateRecord(c.Request.Context(), principal(c).Staff.Code, c.Param("id"), patch)
	if err = s.written(c, audit, err); err != nil {
		c.Error(s.explainDuplicate(c, err))
		return
	}
	c.JSON(http.StatusOK, out)
}

// explainDuplicate passes the store's duplicate-identity 409 on only to a
// caller who may read the record already on file; the look-up is that
// record's access-log row either way. Anybody else learns that a record
// exists in another institution, not which: an identity number is no key
// to other institutions' records.
func (s *Server) explainDuplicate(c *gin.Context, err error) error {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Conflict {
		return err
	}
	existing, _ := e.Extra["existing_record_id"].(string)
	if existing == "" {
		return err
	}
	_, gerr := s.gate.Record(c.Request.Context(), principal(c), access.Request{RecordID: existing, Section: "basic",
		Action: access.Read, Method: c.Request.Method, Path: c.Request.URL.Path})
	switch {
	case gerr == nil:
		return err
	case apperr.CodeOf(gerr) == apperr.Forbidden:
		hidden := apperr.Conflictf("该身份证号已在其他机构建档，一个身份证号只能有一份在档档案")
		hidden.Fields = []apperr.FieldError{{Field: "id_number", Reason: "已在其他机构建档"}}
		return hidden
	}
	return gerr
}

func (s *Server) changeStatus(c *gin.Context) {
	_, audit, ok := s.recordWrite(c, "basic")
	if !ok {
		return
	}
	defer s.settle(c, audit)
	var sc postgres.StatusChange
	if err := decode(c, &sc); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.Audited(audit).ChangeStatus(c.Request.Context(), principal(c).Staff.Code, c.Param("id"), sc)
	if err = s.written(c, audit, err); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// recordList answers a page of one section of a record (GET
// /records/{id}/…): the gate first, so that every attempt on a record is
// decided and logged, also one with a malformed query; then the page read.
func recordList[T any](s *Server, section string, read func(db *postgres.DB, ctx context.Context, recordID string, pg postgres.Page) ([]T, int, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := s.recordAccess(c, section, access.Read); !ok {
			return
		}
		pg, err := page(c)
		if err != nil {
			c.Error(err)
			return
		}
		out, total, err := read(s.db, c.Request.Context(), c.Param("id"), pg)
		if err != nil {
			c.Error(err)
			return
		}
		c.JSON(http.StatusOK, list(out, total, pg))
	}
}

// createExam records an exam under the one protocol of writes
// (recordWrite), as createEntry does an entry.
func (s *Server) createExam(c *gin.Context) {
	d, audit, ok := s.recordWrite(c, "exams")
	if !ok {
		return
	}
	defer s.settle(c, audit)
	raw, err := decodeObject(c)
	if err != nil {
		c.Error(err)
		return
	}
	var e record.Exam
	if err := decodeInto(raw, &e); err != nil {
		c.Error(err)
		return
	}
	e.RecordID = c.Param("id")
	if err := s.attribute(c, d.Scope, "exams", &e.Doctor); err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	key := postgres.NewIdempotency(p.Staff.Code, c.GetHeader("Idempotency-Key"), rawForHash(raw, e.RecordID))
	isNew, err := s.db.Audited(audit).AddExam(c.Request.Context(), p.Staff.Code, d.Scope.InstitutionCode, &e, key)
	if err = s.written(c, audit, err); err != nil {
		c.Error(err)
		return
	}
	c.Header("Location", "/api/v1/records/"+e.RecordID+"/exams/"+itoa64(e.ID))
	if !isNew {
		c.JSON(http.StatusOK, e)
		return
	}
	c.JSON(http.StatusCreated, e)
}

// rawForHash is what an idempotency key's request hash covers: the target and
// the body as sent.
func rawForHash(raw map[string]json.RawMessage, target string) any {
	return map[string]any{"target": target, "body": raw}
}
