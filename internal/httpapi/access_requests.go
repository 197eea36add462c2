package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/consent"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/staff"
)

// accessRequestRoutes are the consent-based access requests of DESIGN §6.2.
// The route policy lets requesters file and read requests and records
// administrators read and decide them; each handler then checks the request
// itself: its requester, or a records administrator of the record's
// institution.
func (s *Server) accessRequestRoutes(api *gin.RouterGroup) {
	api.GET("/access-requests", s.listAccessRequests)
	api.POST("/access-requests", s.submitAccessRequest)
	api.GET("/access-requests/:id", s.getAccessRequest)
	api.POST("/access-requests/:id/approve", s.decideAccessRequest(consent.Approve))
	api.POST("/access-requests/:id/reject", s.decideAccessRequest(consent.Reject))
	api.POST("/access-requests/:id/consent", s.answerAccessRequest)
	api.POST("/access-requests/:id/revoke", s.decideAccessRequest(consent.Revoke))
}

func (s *Server) submitAccessRequest(c *gin.Context) {
	var sub consent.Submission
	if err := decode(c, &sub); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.SubmitAccessRequest(c.Request.Context(), principal(c).Staff.Code, sub)
	if err != nil {
		c.Error(err)
		return
	}
	created(c, "/api/v1/access-requests/"+itoa64(out.ID), out.ForRequester())
}

// keeperInstitutions are the institutions whose records' requests the caller
// may see and decide, as the policy says for the current route.
func (s *Server) keeperInstitutions(c *gin.Context) []string {
	p := principal(c)
	var out []string
	for _, d := range p.Staff.Domains() {
		if strings.HasPrefix(d, "inst:") && s.gate.RequireRoute(p, d, c.FullPath(), c.Request.Method) == nil {
			out = append(out, staff.DomainCode(d))
		}
	}
	return out
}

// view is a request as the caller may see it: in full for the record's
// keeper, without the resident's or guardian's name for the requester.
func view(r consent.Request, keeper bool) consent.Request {
	if keeper {
		return r
	}
	return r.ForRequester()
}

func (s *Server) listAccessRequests(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	f := postgres.AccessRequestFilter{RequestedBy: principal(c).Staff.Code, Institutions: s.keeperInstitutions(c), Page: pg}
	var fe apperr.FieldErrors
	if v := c.Query("state"); v != "" {
		if f.State = consent.State(v); !f.State.Valid() {
			fe.Add("state", "状态应为 submitted、approved、active、expired、revoked、rejected 或 refused")
		}
	}
	if v := c.Query("record_id"); v != "" {
		if _, err := ident.ParseRecordID(v); err != nil {
			fe.Add("record_id", "档案编号应为 16 位数字")
		}
		f.RecordID = v
	}
	if err := fe.Err(); err != nil {
		c.Error(err)
		return
	}
	out, total, err := s.db.AccessRequests(c.Request.Context(), f)
	if err != nil {
		c.Error(err)
		return
	}
	// Each card shows its history, and the keeper the resident's name (the
	// requester reads the name only through a grant of the basic section).
	ids := make([]int64, len(out))
	var kept []string
	for i := range out {
		ids[i] = out[i].ID
		if slices.Contains(f.Institutions, out[i].InstitutionCode) {
			kept = append(kept, out[i].RecordID)
		}
	}
	trs, err := s.db.AccessRequestTransitions(c.Request.Context(), ids)
	if err != nil {
		c.Error(err)
		return
	}
	names, err := s.db.RecordNames(c.Request.Context(), kept)
	if err != nil {
		c.Error(err)
		return
	}
	var people []string
	for _, r := range out {
		people = append(people, r.RequestedBy)
		for _, t := range trs[r.ID] {
			people = append(people, t.By)
		}
	}
	who, err := s.db.StaffNames(c.Request.Context(), people)
	if err != nil {
		c.Error(err)
		return
	}
	cards := make([]requestCard, len(out))
	for i := range out {
		keeper := slices.Contains(f.Institutions, out[i].InstitutionCode)
		out[i].Transitions = trs[out[i].ID]
		cards[i] = requestCard{Request: view(out[i], keeper), StaffNames: map[string]string{}}
		for _, code := range append([]string{out[i].RequestedBy}, byOf(out[i].Transitions)...) {
			if n := who[code]; n != "" {
				cards[i].StaffNames[code] = n
			}
		}
		if keeper {
			cards[i].ResidentName = names[out[i].RecordID]
		}
	}
	c.JSON(http.StatusOK, list(cards, total, pg))
}

// requestCard is a request in the list: with its transitions, and for the
// record's keeper the resident's name.
type requestCard struct {
	consent.Request
	ResidentName string `json:"resident_name,omitempty"`
	// StaffNames name the requester and the people of the history.
	StaffNames map[string]string `json:"staff_names"`
}

func byOf(trs []consent.Transition) []string {
	out := make([]string, len(trs))
	for i, t := range trs {
		out[i] = t.By
	}
	return out
}

// accessRequestInReach loads the path's request and says whether the caller
// keeps its record (a records administrator of the record's institution, as
// the policy says for the current route). A request neither filed by the
// caller nor kept by them is NotFound: even its existence says which record
// someone wants.
func (s *Server) accessRequestInReach(c *gin.Context) (r *consent.Request, keeper bool, ok bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		c.Error(apperr.InvalidField("id", "访问申请编号应为正整数"))
		return nil, false, false
	}
	r, err = s.db.AccessRequest(c.Request.Context(), id)
	if err != nil {
		c.Error(err)
		return nil, false, false
	}
	p := principal(c)
	keeper = s.gate.RequireRoute(p, staff.InstitutionDomain(r.InstitutionCode), c.FullPath(), c.Request.Method) == nil
	if !keeper && r.RequestedBy != p.Staff.Code {
		c.Error(apperr.NotFoundf("访问申请 %d 不存在", id))
		return nil, false, false
	}
	return r, keeper, true
}

func (s *Server) getAccessRequest(c *gin.Context) {
	r, keeper, ok := s.accessRequestInReach(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, view(*r, keeper))
}

// requestToDecide loads the path's request for a decision: only a records
// administrator of the record's institution decides, and never on a request
// they filed themselves.
func (s *Server) requestToDecide(c *gin.Context, act consent.Action) (*consent.Request, bool) {
	r, keeper, ok := s.accessRequestInReach(c)
	if !ok {
		return nil, false
	}
	if !keeper {
		c.Error(apperr.Forbiddenf("只有档案所在机构（%s）的档案管理员可以处理访问申请 #%d", r.InstitutionCode, r.ID))
		return nil, false
	}
	if act != consent.Revoke {
		if err := r.MayDecide(principal(c).Staff.Code); err != nil {
			c.Error(err)
			return nil, false
		}
	}
	return r, true
}

// decideAccessRequest approves, rejects or revokes, with a reason.
func (s *Server) decideAccessRequest(act consent.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := s.requestToDecide(c, act)
		if !ok {
			return
		}
		var body consent.Reason
		if err := decode(c, &body); err != nil {
			c.Error(err)
			return
		}
		if err := body.Validate(); err != nil {
			c.Error(err)
			return
		}
		out, err := s.db.DecideAccessRequest(c.Request.Context(), r.ID, principal(c).Staff.Code,
			postgres.Decision{Action: act, Reason: body.Reason})
		if err != nil {
			c.Error(err)
			return
		}
		c.JSON(http.StatusOK, out)
	}
}

// answerAccessRequest records the resident's or guardian's consent, which
// activates the grant, or refusal.
func (s *Server) answerAccessRequest(c *gin.Context) {
	r, ok := s.requestToDecide(c, consent.Consent)
	if !ok {
		return
	}
	var a consent.Answer
	if err := decode(c, &a); err != nil {
		c.Error(err)
		return
	}
	if err := a.Validate(); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.DecideAccessRequest(c.Request.Context(), r.ID, principal(c).Staff.Code,
		postgres.Decision{Action: a.Action(), Answer: &a})
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
