package access

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"healthrec/internal/apperr"
	"healthrec/internal/rates"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

// Reach beyond the gate's decision on one record: whom an entry may name
// (MayAuthor), which records a caller may be shown without asking
// (MayRead), what part of the county a caller sees in lists, reports and
// cases, and whom a records administrator manages. They sit here, beside
// the gate and under the authorisation-matrix test (TestReachMatrix), so
// that every rule of who may reach what is read in one place.

// MayAuthor is the attribution rule: whether s may be named as the staff
// member who did a clinical write (an entry's or exam's staff_code) to
// section ("exams", "entries.visits", …) of a record of institution inst in
// village. It is the gate's own rule for writing that section, applied to
// the person named instead of the caller: an active member of the record's
// institution whose role the policy lets write the section there, and a
// home-visit worker only in their villages. The API and the CSV import both
// ask it, so an entry can be attributed to nobody else. It returns "" when
// s may, otherwise the reason, in Chinese, for the staff_code field.
func MayAuthor(s *staff.Staff, inst, village, section string) string {
	dom := staff.InstitutionDomain(inst)
	switch {
	case !s.Active:
		return fmt.Sprintf("工号 %s 已停用，不能记为经办人", s.Code)
	case rolesIn(s, dom) == "":
		return fmt.Sprintf("工号 %s 不是档案所属机构 %s 的工作人员", s.Code, inst)
	}
	e, err := policy()
	if err != nil {
		return "访问策略无法加载: " + err.Error()
	}
	if ok, _ := e.Enforce(NewPrincipal(s), dom, "record."+section, Write); !ok {
		return fmt.Sprintf("工号 %s 的角色（%s）无权记录 %s", s.Code, rolesIn(s, dom), section)
	}
	if !inVillage(s, dom, village) {
		return fmt.Sprintf("入户随访人员 %s 未分配村居 %s，不能记为经办人", s.Code, village)
	}
	return ""
}

// MayRead reports whether s holds a role that lets them read section of a
// record of institution inst in village: the gate's rule without consent
// grants, for answers that would name a record the caller did not ask for
// (the identity number of an import's row is already on file).
func MayRead(s *staff.Staff, inst, village, section string) bool {
	e, err := policy()
	if err != nil {
		return false
	}
	dom := staff.InstitutionDomain(inst)
	ok, _ := e.Enforce(NewPrincipal(s), dom, "record."+section, Read)
	return ok && inVillage(s, dom, village)
}

// WriteReach is where a caller's roles let them write a section of a
// record, as the gate decides it without a consent grant (decide): every
// record of Institutions, and those of Villages in VillageInstitutions,
// where the village rule binds a home-visit worker. A write may check it in
// its own statement instead of looking the record's scope up before it
// (postgres.DB.AddEntryWithin, the follow-up create); a record outside it
// goes to the gate as ever, which decides, logs a denial, and looks for a
// grant.
type WriteReach struct {
	Institutions        []string
	VillageInstitutions []string
	Villages            []string
}

// Empty reports whether the caller's roles reach no record.
func (r WriteReach) Empty() bool { return len(r.Institutions) == 0 && len(r.VillageInstitutions) == 0 }

// WriteReach returns p's write reach for section: casbin's decision in
// each institution p holds a role in (cached, as every decision), and the
// village rule beside it.
func (g *Gate) WriteReach(p *Principal, section string) WriteReach {
	var r WriteReach
	for _, dom := range p.Staff.Domains() {
		code, ok := strings.CutPrefix(dom, staff.InstitutionDomain(""))
		if !ok || !g.AllowIn(p, dom, "record."+section, Write) {
			continue
		}
		if inVillage(p.Staff, dom, "") { // bound to no village list
			r.Institutions = append(r.Institutions, code)
		} else {
			r.VillageInstitutions = append(r.VillageInstitutions, code)
		}
	}
	if len(r.VillageInstitutions) > 0 {
		r.Villages = slices.Clone(p.Staff.Villages)
	}
	return r
}

// ListReach is what a record list (search, open referrals, follow-ups due)
// may show a caller: every village of Institutions, where they are a doctor
// or records administrator, and a home-visit worker's own Villages.
type ListReach struct {
	Institutions []string
	Villages     []string
}

// ListReachOf returns p's list reach.
func ListReachOf(p *Principal) ListReach {
	var r ListReach
	for _, g := range p.Staff.Grants {
		if g.Role == staff.Doctor || g.Role == staff.RecordsAdmin {
			r.Institutions = append(r.Institutions, staff.DomainCode(g.Domain))
		}
	}
	if p.Staff.Has(staff.HomeVisit) {
		r.Villages = p.Staff.Villages
	}
	return r
}

// Counties lists the counties where p holds one of roles, sorted.
func (p *Principal) Counties(roles ...staff.Role) []string {
	var out []string
	for _, g := range p.Staff.Grants {
		for _, r := range roles {
			if g.Role == r && strings.HasPrefix(g.Domain, "county:") {
				out = append(out, staff.DomainCode(g.Domain))
			}
		}
	}
	sort.Strings(out)
	return out
}

// PickCounty chooses among a caller's counties: want (?county_code=), or
// the only one. Forbidden for a county not among them.
func PickCounty(want string, counties []string) (string, error) {
	if want == "" {
		if len(counties) == 1 {
			return counties[0], nil
		}
		return "", apperr.InvalidField("county_code", "您可查看多个县，请指定 county_code")
	}
	if slices.Contains(counties, want) {
		return want, nil
	}
	return "", apperr.Forbiddenf("无权查看县 %s 的考核报表", want)
}

// ReportReach is what part of which county a caller sees in reports.
type ReportReach struct {
	County string
	// Whole is true for the bureau: every scope of the county.
	Whole bool
	// Institutions are a records administrator's.
	Institutions map[string]bool
}

// Sees reports whether a report row is within reach.
func (r ReportReach) Sees(row rates.Row) bool {
	switch {
	case r.Whole:
		return true
	case row.Level == rates.Institution:
		return r.Institutions[row.ScopeCode]
	case row.Level == rates.Doctor:
		return r.Institutions[row.Parent]
	}
	return false
}

// ReportReachOf decides what a report caller sees: a bureau its county, a
// records administrator their institutions (with county-wide ranks, so the
// figures are the bureau's). countyOf names an institution's county; want
// is the county asked for (PickCounty).
func ReportReachOf(p *Principal, want string, countyOf func(institution string) (string, error)) (ReportReach, error) {
	if counties := p.Counties(staff.Bureau); len(counties) > 0 {
		county, err := PickCounty(want, counties)
		return ReportReach{County: county, Whole: true}, err
	}
	r := ReportReach{Institutions: map[string]bool{}}
	var counties []string
	for _, g := range p.Staff.Grants {
		if g.Role != staff.RecordsAdmin || !strings.HasPrefix(g.Domain, "inst:") {
			continue
		}
		inst := staff.DomainCode(g.Domain)
		county, err := countyOf(inst)
		if err != nil {
			return r, err
		}
		r.Institutions[inst] = true
		counties = append(counties, county)
	}
	if len(counties) == 0 {
		return r, apperr.Forbiddenf("只有卫健局和档案管理员可以查看考核报表")
	}
	sort.Strings(counties)
	county, err := PickCounty(want, slices.Compact(counties))
	r.County = county
	return r, err
}

// MayDrill decides a drill-down into the records behind a report scope
// (level, code) lying in county and, below the township, institution: the
// bureau any scope of its county; a records administrator their
// institution and its doctors; a doctor their own scope.
func MayDrill(p *Principal, level rates.Level, code, county, institution string) error {
	if slices.Contains(p.Counties(staff.Bureau), county) {
		return nil
	}
	switch level {
	case rates.Institution, rates.Doctor:
		if institution != "" && p.Staff.HasIn(staff.RecordsAdmin, staff.InstitutionDomain(institution)) {
			return nil
		}
	}
	if level == rates.Doctor && code == p.Staff.Code && p.Staff.Has(staff.Doctor) {
		return nil
	}
	return apperr.Forbiddenf("无权查看%s %s 的考核明细", level.Chinese(), code)
}

// CaseStanding is how a caller stands to one accountability case.
type CaseStanding struct {
	// County: the policy lets the caller call this route in the case's
	// county (reviewers act, the bureau reads).
	County bool
	// Subject: the caller is the person the case is about, or a records
	// administrator of the institution it is about; they read it and
	// appeal.
	Subject bool
}

// CaseStanding returns p's standing to cs on the route (gin path, method).
func (g *Gate) CaseStanding(p *Principal, cs *review.Case, path, method string) CaseStanding {
	return CaseStanding{County: g.AllowIn(p, staff.CountyDomain(cs.CountyCode), path, method), Subject: isSubjectParty(p, cs)}
}

func isSubjectParty(p *Principal, cs *review.Case) bool {
	if cs.SubjectType == review.SubjectStaff {
		return cs.SubjectCode == p.Staff.Code
	}
	return p.Staff.HasIn(staff.RecordsAdmin, staff.InstitutionDomain(cs.SubjectCode))
}

// Recusal returns why p may not act on cs, or "": nobody acts on a case
// about themselves or about an institution they belong to or hold a role
// in.
func Recusal(p *Principal, cs *review.Case) string {
	if why := cs.Recusal(p.Staff.Code, p.Staff.InstitutionCode); why != "" {
		return why
	}
	if cs.SubjectType == review.SubjectInstitution {
		dom := staff.InstitutionDomain(cs.SubjectCode)
		for _, g := range p.Staff.Grants {
			if g.Domain == dom {
				return "回避：不得办理本人任职机构（" + cs.SubjectCode + "）为对象的问责案件"
			}
		}
	}
	return ""
}

// institutionRoles are the roles a records administrator may hand out
// within their own institution; county and system roles are the
// administrator's.
var institutionRoles = map[staff.Role]bool{staff.Doctor: true, staff.HomeVisit: true, staff.RecordsAdmin: true}

// StaffReach checks p may manage a staff member of institution inst on the
// route (gin path, method): the administrator anyone, a records
// administrator their own staff.
func (g *Gate) StaffReach(p *Principal, inst, path, method string) error {
	if p.Staff.HasIn(staff.Admin, staff.SystemDomain) {
		return nil
	}
	if inst == "" {
		return apperr.Forbiddenf("只有系统管理员可以管理不属于机构的账号")
	}
	return g.RequireRoute(p, staff.InstitutionDomain(inst), path, method)
}

// MayGrant checks p may hand grants to a staff member of inst: the
// administrator any, a records administrator only their institution's own
// roles.
func MayGrant(p *Principal, inst string, grants []staff.Grant) error {
	if p.Staff.HasIn(staff.Admin, staff.SystemDomain) {
		return nil
	}
	for _, g := range grants {
		if !institutionRoles[g.Role] || g.Domain != staff.InstitutionDomain(inst) {
			return apperr.Forbiddenf("档案管理员只能授予本机构的医生、入户随访人员或档案管理员角色")
		}
	}
	return nil
}
