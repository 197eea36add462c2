package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
	"healthrec/internal/staff"
)

// staffInReach checks the caller may manage a staff member of institution
// inst (access.Gate.StaffReach).
func (s *Server) staffInReach(c *gin.Context, inst string) error {
	return s.gate.StaffReach(principal(c), inst, c.FullPath(), c.Request.Method)
}

// checkGrants checks the caller may hand out grants in inst (access.MayGrant).
func (s *Server) checkGrants(c *gin.Context, inst string, grants []staff.Grant) error {
	return access.MayGrant(principal(c), inst, grants)
}

type staffRequest struct {
	staff.Staff
	Password string `json:"password"`
}

func (s *Server) createStaff(c *gin.Context) {
	var req staffRequest
	if err := decode(c, &req); err != nil {
		c.Error(err)
		return
	}
	st := req.Staff
	st.Villages = nil
	if err := s.staffInReach(c, st.InstitutionCode); err != nil {
		c.Error(err)
		return
	}
	if err := s.checkGrants(c, st.InstitutionCode, st.Grants); err != nil {
		c.Error(err)
		return
	}
	if err := s.db.CreateStaff(c.Request.Context(), &st, req.Password); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.Staff(c.Request.Context(), st.Code)
	if err != nil {
		c.Error(err)
		return
	}
	created(c, "/api/v1/staff/"+st.Code, out)
}

func (s *Server) listStaff(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	inst := c.Query("institution_code")
	p := principal(c)
	if !p.Staff.HasIn(staff.Admin, staff.SystemDomain) {
		if inst == "" {
			inst = p.Staff.InstitutionCode
		}
		if err := s.staffInReach(c, inst); err != nil {
			c.Error(err)
			return
		}
	}
	out, total, err := s.db.StaffList(c.Request.Context(), inst, pg)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, total, pg))
}

// loadStaffInReach loads the path's staff member and checks the caller may
// manage them.
func (s *Server) loadStaffInReach(c *gin.Context) (*staff.Staff, bool) {
	st, err := s.db.Staff(c.Request.Context(), c.Param("code"))
	if err != nil {
		c.Error(err)
		return nil, false
	}
	if err := s.staffInReach(c, st.InstitutionCode); err != nil {
		c.Error(err)
		return nil, false
	}
	return st, true
}

func (s *Server) getStaff(c *gin.Context) {
	if st, ok := s.loadStaffInReach(c); ok {
		c.JSON(http.StatusOK, st)
	}
}

func (s *Server) patchStaff(c *gin.Context) {
	st, ok := s.loadStaffInReach(c)
	if !ok {
		return
	}
	var u postgres.StaffUpdate
	if err := decode(c, &u); err != nil {
		c.Error(err)
		return
	}
	if u.Grants != nil {
		if err := s.checkGrants(c, st.InstitutionCode, *u.Grants); err != nil {
			c.Error(err)
			return
		}
	}
	out, err := s.db.UpdateStaff(c.Request.Context(), st.Code, u)
	if err != nil {
		c.Error(err)
		return
	}
	s.sessions.flush()
	c.JSON(http.StatusOK, out)
}

// putPassword sets a password: one's own, with the current password, or as
// administrator or records administrator of the person's institution, who
// need not know it. Wrong current passwords count towards the login lockout:
// a borrowed session must not become a way to guess the password.
func (s *Server) putPassword(c *gin.Context) {
	code := c.Param("code")
	own := code == principal(c).Staff.Code
	if !own {
		st, err := s.db.Staff(c.Request.Context(), code)
		if err != nil {
			c.Error(err)
			return
		}
		if err := s.staffInReach(c, st.InstitutionCode); err != nil {
			c.Error(err)
			return
		}
		if !principal(c).Staff.HasIn(staff.Admin, staff.SystemDomain) &&
			!principal(c).Staff.HasIn(staff.RecordsAdmin, staff.InstitutionDomain(st.InstitutionCode)) {
			c.Error(apperr.Forbiddenf("只能修改本人或本机构人员的密码"))
			return
		}
	}
	var body struct {
		Password        string `json:"password"`
		CurrentPassword string `json:"current_password"`
	}
	if err := decode(c, &body); err != nil {
		c.Error(err)
		return
	}
	if own {
		if err := s.checkCurrentPassword(c, code, body.CurrentPassword); err != nil {
			c.Error(err)
			return
		}
	}
	if err := s.db.SetPassword(c.Request.Context(), code, body.Password); err != nil {
		c.Error(err)
		return
	}
	s.sessions.flush() // a new password ends the person's sessions
	c.Status(http.StatusNoContent)
}

func (s *Server) checkCurrentPassword(c *gin.Context, code, current string) error {
	if current == "" {
		return apperr.InvalidField("current_password", "修改本人密码须提供当前密码")
	}
	addr := c.ClientIP()
	if why := s.login.locked(addr, code, s.db.Now()); why != "" {
		s.logLogin(c, code, "locked", why+" (password change)")
		return apperr.InvalidField("current_password", "当前密码错误次数过多，请一分钟后再试")
	}
	hash, err := s.db.PasswordHash(c.Request.Context(), code)
	if err != nil {
		return err
	}
	if !staff.CheckPassword(hash, current) {
		s.login.fail(addr, code, s.db.Now())
		s.logLogin(c, code, "failed", "current_password")
		return apperr.InvalidField("current_password", "当前密码不正确")
	}
	return nil
}

func (s *Server) putStaffVillages(c *gin.Context) {
	st, ok := s.loadStaffInReach(c)
	if !ok {
		return
	}
	var body struct {
		VillageCodes []string `json:"village_codes"`
	}
	if err := decode(c, &body); err != nil {
		c.Error(err)
		return
	}
	if body.VillageCodes == nil {
		c.Error(apperr.InvalidField("village_codes", "不能为空（可为空数组）"))
		return
	}
	if err := s.db.SetStaffVillages(c.Request.Context(), st.Code, body.VillageCodes); err != nil {
		c.Error(err)
		return
	}
	s.sessions.flush()
	out, err := s.db.Staff(c.Request.Context(), st.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
