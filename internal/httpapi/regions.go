package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

func (s *Server) listInstitutions(c *gin.Context) {
	out, err := s.db.Institutions(c.Request.Context())
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, len(out), pageAll(len(out))))
}

func (s *Server) createInstitution(c *gin.Context) {
	var in region.Institution
	if err := decode(c, &in); err != nil {
		c.Error(err)
		return
	}
	if err := s.db.CreateInstitution(c.Request.Context(), &in); err != nil {
		c.Error(err)
		return
	}
	created(c, "/api/v1/institutions/"+in.Code, in)
}

func (s *Server) listRegions(c *gin.Context) {
	out, err := s.db.Regions(c.Request.Context(), c.Query("parent"))
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, len(out), pageAll(len(out))))
}

func (s *Server) getRegion(c *gin.Context) {
	r, err := s.db.Region(c.Request.Context(), c.Param("code"))
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// createRegion registers a region. A records administrator registers
// villages of their own institution; the administrator anything.
func (s *Server) createRegion(c *gin.Context) {
	var r region.Region
	if err := decode(c, &r); err != nil {
		c.Error(err)
		return
	}
	if err := r.Normalize(); err != nil {
		c.Error(err)
		return
	}
	p := principal(c)
	if !p.Staff.HasIn(staff.Admin, staff.SystemDomain) {
		if r.Level != ident.LevelVillage {
			c.Error(apperr.Forbiddenf("档案管理员只能登记本机构的村居，县和乡镇由系统管理员登记"))
			return
		}
		if err := s.gate.RequireRoute(p, staff.InstitutionDomain(r.InstitutionCode), c.FullPath(), c.Request.Method); err != nil {
			c.Error(err)
			return
		}
		if err := s.townshipOpenTo(c, &r); err != nil {
			c.Error(err)
			return
		}
	}
	if err := s.db.CreateRegion(c.Request.Context(), &r); err != nil {
		c.Error(err)
		return
	}
	created(c, "/api/v1/regions/"+r.Code, r)
}

// townshipOpenTo checks that a records administrator registers a village of
// their institution under a township of the institution's county that no
// other institution serves: another institution's township is the
// administrator's to divide (DESIGN §10: regions write = admin, records_admin
// of their own institution).
func (s *Server) townshipOpenTo(c *gin.Context, r *region.Region) error {
	ctx := c.Request.Context()
	in, err := s.db.Institution(ctx, r.InstitutionCode)
	if err != nil {
		return err
	}
	if county := r.Code[:6]; county != in.CountyCode {
		return apperr.Forbiddenf("乡镇 %s 不在本机构所在的县（%s），档案管理员不能在此登记村居", r.ParentCode, in.CountyCode)
	}
	villages, err := s.db.Regions(ctx, r.ParentCode)
	if err != nil {
		return err
	}
	for _, v := range villages {
		if v.InstitutionCode != "" && v.InstitutionCode != r.InstitutionCode {
			return apperr.Forbiddenf("乡镇 %s 的村居由其他机构（%s）管理，只有系统管理员可以在此登记村居", r.ParentCode, v.InstitutionCode)
		}
	}
	return nil
}

// villageInDomain loads the path's village and checks the caller may call
// this route within the village's institution.
func (s *Server) villageInDomain(c *gin.Context) (*region.Region, bool) {
	v, err := s.db.Village(c.Request.Context(), c.Param("code"))
	if err != nil {
		c.Error(err)
		return nil, false
	}
	if err := s.gate.RequireRoute(principal(c), staff.InstitutionDomain(v.InstitutionCode), c.FullPath(), c.Request.Method); err != nil {
		c.Error(err)
		return nil, false
	}
	return v, true
}

func (s *Server) putPopulation(c *gin.Context) {
	v, ok := s.villageInDomain(c)
	if !ok {
		return
	}
	year, err := strconv.Atoi(c.Param("year"))
	if err != nil || year < 1900 || year > 9999 {
		c.Error(apperr.InvalidField("year", "年份应为四位数字"))
		return
	}
	var body struct {
		Population *int `json:"population"`
	}
	if err := decode(c, &body); err != nil {
		c.Error(err)
		return
	}
	if body.Population == nil {
		c.Error(apperr.InvalidField("population", "不能为空"))
		return
	}
	p := region.Population{VillageCode: v.Code, Year: year, Population: *body.Population}
	if err := s.db.SetPopulation(c.Request.Context(), principal(c).Staff.Code, p); err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) listPopulations(c *gin.Context) {
	v, ok := s.villageInDomain(c)
	if !ok {
		return
	}
	out, err := s.db.Populations(c.Request.Context(), v.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, len(out), pageAll(len(out))))
}

func (s *Server) listResponsibilities(c *gin.Context) {
	v, ok := s.villageInDomain(c)
	if !ok {
		return
	}
	out, err := s.db.Responsibilities(c.Request.Context(), v.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, list(out, len(out), pageAll(len(out))))
}

func (s *Server) createResponsibility(c *gin.Context) {
	v, ok := s.villageInDomain(c)
	if !ok {
		return
	}
	var body struct {
		StaffCode string     `json:"staff_code"`
		FromDate  civil.Date `json:"from_date"`
	}
	if err := decode(c, &body); err != nil {
		c.Error(err)
		return
	}
	r := region.Responsibility{VillageCode: v.Code, StaffCode: body.StaffCode, FromDate: body.FromDate}
	if err := s.db.AddResponsibility(c.Request.Context(), principal(c).Staff.Code, r); err != nil {
		c.Error(err)
		return
	}
	created(c, "/api/v1/villages/"+v.Code+"/responsibilities", r)
}

func created(c *gin.Context, location string, v any) {
	c.Header("Location", location)
	c.JSON(http.StatusCreated, v)
}
