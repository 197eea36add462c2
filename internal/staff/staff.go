// Package staff holds the people who use the service, their roles per domain
// and their passwords.
package staff

import (
	"strings"

	"healthrec/internal/apperr"
)

// Role is one of the roles of DESIGN §6.1.
type Role string

// The roles. A role always holds within a domain.
const (
	Doctor       Role = "doctor"
	HomeVisit    Role = "home_visit"
	RecordsAdmin Role = "records_admin"
	Bureau       Role = "bureau"
	Reviewer     Role = "reviewer"
	ReviewLead   Role = "review_lead"
	Admin        Role = "admin"
	Requester    Role = "requester"
	// Province reads the counties' rates in a province database
	// (docs/operations.md); never a record.
	Province Role = "province"
)

// Roles lists every role, in the order the UI shows them.
var Roles = []Role{Doctor, HomeVisit, RecordsAdmin, Bureau, Reviewer, ReviewLead, Admin, Requester, Province}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// Chinese returns the role's name as the UI shows it.
func (r Role) Chinese() string {
	switch r {
	case Doctor:
		return "责任医生"
	case HomeVisit:
		return "入户随访人员"
	case RecordsAdmin:
		return "档案管理员"
	case Bureau:
		return "卫健局"
	case Reviewer:
		return "问责办公室"
	case ReviewLead:
		return "问责工作领导小组"
	case Admin:
		return "系统管理员"
	case Requester:
		return "外部申请人"
	case Province:
		return "省卫生健康委"
	}
	return string(r)
}

// SystemDomain is the domain of the admin role.
const SystemDomain = "system"

// ExternalDomain is the domain of the requester role: an outside
// requester belongs to no institution or county of the service.
const ExternalDomain = "external"

// InstitutionDomain is the domain of an institution's staff.
func InstitutionDomain(code string) string { return "inst:" + code }

// CountyDomain is the domain of bureau and reviewer roles.
func CountyDomain(code string) string { return "county:" + code }

// ProvinceDomain is the domain of the province role: the province's
// two-digit code, the first two digits of its counties' codes.
func ProvinceDomain(code string) string { return "province:" + code }

func validProvinceDomain(d string) bool {
	code, ok := strings.CutPrefix(d, "province:")
	return ok && len(code) == 2 && code[0] >= '0' && code[0] <= '9' && code[1] >= '0' && code[1] <= '9'
}

// DomainCode returns the institution or county code of a domain.
func DomainCode(domain string) string {
	if i := strings.IndexByte(domain, ':'); i >= 0 {
		return domain[i+1:]
	}
	return ""
}

// Grant is a role held within a domain.
type Grant struct {
	Role   Role   `json:"role" db:"role"`
	Domain string `json:"domain" db:"domain"`
}

// Staff is a person with an account.
type Staff struct {
	Code            string  `json:"staff_code" db:"code"`
	Name            string  `json:"name" db:"name"`
	InstitutionCode string  `json:"institution_code" db:"institution_code"`
	Phone           string  `json:"phone" db:"phone"`
	Active          bool    `json:"active" db:"active"`
	Grants          []Grant `json:"roles" db:"-"`
	// Villages are a home-visit worker's villages.
	Villages []string `json:"village_codes,omitempty" db:"-"`
}

// Has reports whether s holds role in any domain.
func (s *Staff) Has(role Role) bool {
	for _, g := range s.Grants {
		if g.Role == role {
			return true
		}
	}
	return false
}

// HasIn reports whether s holds role in domain.
func (s *Staff) HasIn(role Role, domain string) bool {
	for _, g := range s.Grants {
		if g.Role == role && g.Domain == domain {
			return true
		}
	}
	return false
}

// Domains lists the distinct domains s holds a role in.
func (s *Staff) Domains() []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range s.Grants {
		if !seen[g.Domain] {
			seen[g.Domain] = true
			out = append(out, g.Domain)
		}
	}
	return out
}

// Validate checks a staff record before it is stored.
func (s *Staff) Validate() error {
	var fe apperr.FieldErrors
	if !validCode(s.Code) {
		fe.Add("staff_code", "工号只能包含字母、数字、._-，1–32 位")
	}
	if strings.TrimSpace(s.Name) == "" {
		fe.Add("name", "姓名不能为空")
	}
	for _, g := range s.Grants {
		if !g.Role.Valid() {
			fe.Add("roles", "未知角色: "+string(g.Role))
		}
		if g.Role == Province && !validProvinceDomain(g.Domain) {
			fe.Add("roles", "province 角色的范围应为 province:<2 位省代码>，如 province:33")
		}
	}
	return fe.Err()
}

func validCode(c string) bool {
	if len(c) == 0 || len(c) > 32 {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
