// Package region holds the region registry (DESIGN §2.1): counties, townships
// and villages with their Chinese names, the institutions that keep records,
// village populations and responsible doctors.
package region

import (
	"strings"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
)

// Region is a county, township or village.
type Region struct {
	Code            string      `json:"code" db:"code"`
	Name            string      `json:"name" db:"name"`
	Level           ident.Level `json:"level" db:"level"`
	ParentCode      string      `json:"parent_code,omitempty" db:"parent_code"`
	InstitutionCode string      `json:"institution_code,omitempty" db:"institution_code"`
	Class           string      `json:"class,omitempty" db:"-"`
	ClassName       string      `json:"class_name,omitempty" db:"-"`
}

// Normalize derives the level, parent and village class from the code and
// validates the region.
func (r *Region) Normalize() error {
	var fe apperr.FieldErrors
	r.Name = strings.TrimSpace(r.Name)
	lvl, err := ident.RegionLevel(r.Code)
	if err != nil {
		fe.Add("code", "区划代码应为 6 位县、9 位乡镇或 12 位村居代码")
		return fe.Err()
	}
	r.Level = lvl
	r.ParentCode = ident.ParentCode(r.Code)
	if r.Name == "" {
		fe.Add("name", "名称不能为空")
	}
	if lvl == ident.LevelVillage {
		c, err := ident.ClassOfVillage(r.Code)
		if err != nil {
			fe.Add("code", "村级代码末三位应为 001–099（居委会）、101–399（村委会）或 401–599、901–999（其他）")
		}
		r.Class, r.ClassName = string(c), c.Chinese()
		if r.InstitutionCode == "" {
			fe.Add("institution_code", "村居必须指定建档机构")
		}
	} else if r.InstitutionCode != "" {
		fe.Add("institution_code", "只有村居属于建档机构")
	}
	return fe.Err()
}

// Institution keeps health records: a community health service centre or a
// township health centre.
type Institution struct {
	Code       string `json:"code" db:"code"`
	Name       string `json:"name" db:"name"`
	CountyCode string `json:"county_code" db:"county_code"`
}

// Validate checks an institution before it is stored.
func (in *Institution) Validate() error {
	var fe apperr.FieldErrors
	in.Name = strings.TrimSpace(in.Name)
	if in.Code == "" || len(in.Code) > 32 {
		fe.Add("code", "机构代码不能为空，最多 32 位")
	}
	if in.Name == "" {
		fe.Add("name", "名称不能为空")
	}
	if lvl, err := ident.RegionLevel(in.CountyCode); err != nil || lvl != ident.LevelCounty {
		fe.Add("county_code", "应为 6 位县级区划代码")
	}
	return fe.Err()
}

// Population is a village's permanent resident population (常住人口) in a year.
type Population struct {
	VillageCode string `json:"village_code" db:"village_code"`
	Year        int    `json:"year" db:"year"`
	Population  int    `json:"population" db:"population"`
}

// Responsibility makes a doctor the responsible doctor of a village from a date
// until the village's next responsibility.
type Responsibility struct {
	VillageCode string     `json:"village_code" db:"village_code"`
	StaffCode   string     `json:"staff_code" db:"staff_code"`
	FromDate    civil.Date `json:"from_date" db:"from_date"`
	StaffName   string     `json:"staff_name,omitempty" db:"staff_name"`
}
