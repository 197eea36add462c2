package importer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// The columns of each file, in the order the documentation lists them.
var (
	institutionColumns    = []string{"code", "name", "county_code"}
	regionColumns         = []string{"code", "name", "institution_code"}
	staffColumns          = []string{"staff_code", "name", "institution_code", "roles", "phone"}
	populationColumns     = []string{"village_code", "year", "population"}
	responsibilityColumns = []string{"village_code", "staff_code", "from_date"}
)

// failFields reports the field errors of a domain validation.
func (im *importer) failFields(r *row, err error) {
	if e, ok := apperr.As(err); ok && len(e.Fields) > 0 {
		for _, f := range e.Fields {
			im.fail(r, f.Field, f.Reason)
		}
		return
	}
	if err != nil {
		im.fail(r, "", err.Error())
	}
}

type regionRow struct {
	row
	r region.Region
}

type institutionRow struct {
	row
	in region.Institution
}

// readRegistryFiles reads regions.csv and institutions.csv, which refer to
// each other (an institution lies in a county, a village belongs to an
// institution), checks them against the registry and each other, and writes
// them: counties and townships, then institutions, then villages.
func (im *importer) readRegistryFiles() error {
	regions, err := im.readRegions()
	if err != nil {
		return err
	}
	insts, err := im.readInstitutions()
	if err != nil {
		return err
	}
	for i := range regions {
		g := &regions[i]
		if g.r.ParentCode != "" && im.reg.regions[g.r.ParentCode] == nil {
			im.fail(&g.row, "code", "上级区划 "+g.r.ParentCode+" 尚未登记（数据库和 regions.csv 中都没有）")
		}
		if g.r.InstitutionCode != "" && im.reg.institutions[g.r.InstitutionCode] == nil {
			im.fail(&g.row, "institution_code", "机构 "+g.r.InstitutionCode+" 不存在（数据库和 institutions.csv 中都没有）")
		}
		if !im.opt.Admin {
			if g.r.Level != ident.LevelVillage {
				im.fail(&g.row, "code", "档案管理员只能导入本机构的村居，县和乡镇由系统管理员登记")
			} else if !im.inReach(g.r.InstitutionCode) {
				im.fail(&g.row, "institution_code", "不是本机构，档案管理员只能导入本机构的村居")
			}
		}
	}
	for i := range insts {
		g := &insts[i]
		if !im.reg.county(g.in.CountyCode) {
			im.fail(&g.row, "county_code", "县 "+g.in.CountyCode+" 尚未登记（数据库和 regions.csv 中都没有）")
		}
	}
	if !im.writing() {
		return nil
	}
	// Parents before children: a code's length is its level.
	sort.SliceStable(regions, func(i, j int) bool { return len(regions[i].r.Code) < len(regions[j].r.Code) })
	var upper, villages []region.Region
	for _, g := range regions {
		if g.r.Level == ident.LevelVillage {
			villages = append(villages, g.r)
		} else {
			upper = append(upper, g.r)
		}
	}
	list := make([]region.Institution, len(insts))
	for i, g := range insts {
		list[i] = g.in
	}
	if err := im.tx.InsertRegions(im.ctx, upper); err != nil {
		return err
	}
	if err := im.tx.InsertInstitutions(im.ctx, list); err != nil {
		return err
	}
	return im.tx.InsertRegions(im.ctx, villages)
}

func (im *importer) readRegions() ([]regionRow, error) {
	t, err := im.open(RegionsFile, regionColumns, true)
	if t == nil || err != nil {
		return nil, err
	}
	var out []regionRow
	lines := map[string]int{}
	for t.next() {
		g := regionRow{row: t.row, r: region.Region{Code: t.get(0), Name: t.get(1), InstitutionCode: t.get(2)}}
		if err := g.r.Normalize(); err != nil {
			im.failFields(&g.row, err)
			continue
		}
		if l, dup := lines[g.r.Code]; dup {
			im.fail(&g.row, "code", fmt.Sprintf("与第 %d 行重复", l))
			continue
		}
		lines[g.r.Code] = g.line
		if cur := im.reg.regions[g.r.Code]; cur != nil {
			if cur.Name == g.r.Name && cur.InstitutionCode == g.r.InstitutionCode {
				im.rep.count(RegionsFile).Unchanged++
				continue
			}
			im.fail(&g.row, "code", fmt.Sprintf("区划 %s 已登记为“%s”%s，与本行不同", g.r.Code, cur.Name, instNote(cur.InstitutionCode)))
			continue
		}
		r := g.r
		im.reg.regions[r.Code] = &r
		out = append(out, g)
	}
	return out, t.close()
}

func instNote(inst string) string {
	if inst == "" {
		return ""
	}
	return "（机构 " + inst + "）"
}

func (im *importer) readInstitutions() ([]institutionRow, error) {
	t, err := im.open(InstitutionsFile, institutionColumns, true)
	if t == nil || err != nil {
		return nil, err
	}
	var out []institutionRow
	lines := map[string]int{}
	for t.next() {
		g := institutionRow{row: t.row, in: region.Institution{Code: t.get(0), Name: t.get(1), CountyCode: t.get(2)}}
		if err := g.in.Validate(); err != nil {
			im.failFields(&g.row, err)
			continue
		}
		if l, dup := lines[g.in.Code]; dup {
			im.fail(&g.row, "code", fmt.Sprintf("与第 %d 行重复", l))
			continue
		}
		lines[g.in.Code] = g.line
		if cur := im.reg.institutions[g.in.Code]; cur != nil {
			if cur.Name == g.in.Name && cur.CountyCode == g.in.CountyCode {
				im.rep.count(InstitutionsFile).Unchanged++
				continue
			}
			im.fail(&g.row, "code", fmt.Sprintf("机构 %s 已存在（“%s”，县 %s），与本行不同", cur.Code, cur.Name, cur.CountyCode))
			continue
		}
		if !im.opt.Admin {
			im.fail(&g.row, "code", "只有系统管理员可以导入机构")
			continue
		}
		in := g.in
		im.reg.institutions[in.Code] = &in
		out = append(out, g)
	}
	return out, t.close()
}

// roleSyntax is how staff.csv writes roles, for reasons.
const roleSyntax = "角色用 ; 分隔：doctor、home_visit、records_admin（属于本人机构），bureau@县代码、reviewer@县代码、review_lead@县代码，admin，requester（外部申请人）"

// parseRoles reads the roles column: institution roles hold in the staff
// member's institution, bureau, reviewer and review_lead in the county after
// the @, admin
// in the system domain.
func (im *importer) parseRoles(r *row, s *staff.Staff, roles string) {
	for _, part := range strings.Split(roles, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, at, hasAt := strings.Cut(part, "@")
		role := staff.Role(strings.TrimSpace(name))
		at = strings.TrimSpace(at)
		switch role {
		case staff.Doctor, staff.HomeVisit, staff.RecordsAdmin:
			if hasAt {
				im.fail(r, "roles", string(role)+" 属于本人所在机构，不写 @: "+quote(part))
				continue
			}
			if s.InstitutionCode == "" {
				im.fail(r, "roles", string(role)+" 是机构角色，须填写 institution_code")
				continue
			}
			s.Grants = append(s.Grants, staff.Grant{Role: role, Domain: staff.InstitutionDomain(s.InstitutionCode)})
		case staff.Bureau, staff.Reviewer, staff.ReviewLead:
			if !hasAt || at == "" {
				im.fail(r, "roles", string(role)+" 须写明所在县，如 "+string(role)+"@330127")
				continue
			}
			if !im.reg.county(at) {
				im.fail(r, "roles", "县 "+at+" 尚未登记: "+quote(part))
				continue
			}
			s.Grants = append(s.Grants, staff.Grant{Role: role, Domain: staff.CountyDomain(at)})
		case staff.Admin:
			if hasAt {
				im.fail(r, "roles", "admin 是系统角色，不写 @")
				continue
			}
			s.Grants = append(s.Grants, staff.Grant{Role: role, Domain: staff.SystemDomain})
		case staff.Requester:
			// An outside requester (another hospital) belongs to no
			// institution of the service; institution_code may be empty.
			if hasAt {
				im.fail(r, "roles", "requester 是外部申请人角色，不写 @")
				continue
			}
			s.Grants = append(s.Grants, staff.Grant{Role: role, Domain: staff.ExternalDomain})
		default:
			im.fail(r, "roles", "未知角色 "+quote(part)+"；"+roleSyntax)
		}
	}
}

func (im *importer) readStaff() error {
	t, err := im.open(StaffFile, staffColumns, true)
	if t == nil || err != nil {
		return err
	}
	var add []staff.Staff
	lines := map[string]int{}
	for t.next() {
		r := t.row
		s := staff.Staff{Code: t.get(0), Name: t.get(1), InstitutionCode: t.get(2), Phone: t.get(4), Active: true}
		if err := s.Validate(); err != nil {
			im.failFields(&r, err)
		}
		if s.InstitutionCode != "" && im.reg.institutions[s.InstitutionCode] == nil {
			im.fail(&r, "institution_code", "机构 "+s.InstitutionCode+" 不存在（数据库和 institutions.csv 中都没有）")
		}
		im.parseRoles(&r, &s, t.get(3))
		if !im.opt.Admin {
			if !im.inReach(s.InstitutionCode) {
				im.fail(&r, "institution_code", "不是本机构，档案管理员只能导入本机构的工作人员")
			}
			for _, g := range s.Grants {
				if g.Role != staff.Doctor && g.Role != staff.HomeVisit && g.Role != staff.RecordsAdmin {
					im.fail(&r, "roles", "档案管理员只能授予本机构的 doctor、home_visit、records_admin 角色")
					break
				}
			}
		}
		if r.bad {
			continue
		}
		if l, dup := lines[s.Code]; dup {
			im.fail(&r, "staff_code", fmt.Sprintf("与第 %d 行重复", l))
			continue
		}
		lines[s.Code] = r.line
		if cur := im.reg.staff[s.Code]; cur != nil {
			if cur.Name == s.Name && cur.InstitutionCode == s.InstitutionCode && cur.Phone == s.Phone && sameGrants(cur.Grants, s.Grants) {
				im.rep.count(StaffFile).Unchanged++
				continue
			}
			im.fail(&r, "staff_code", "工号 "+s.Code+" 已存在，与本行不同（已有人员请在系统中修改）")
			continue
		}
		st := s
		im.reg.staff[s.Code] = &st
		add = append(add, s)
	}
	if err := t.close(); err != nil {
		return err
	}
	if im.writing() {
		return im.tx.InsertStaff(im.ctx, add)
	}
	return nil
}

// villageInReach checks column i names a registered village the caller may
// import for, and returns it.
func (im *importer) villageInReach(t *table, i int) *region.Region {
	code := t.get(i)
	if code == "" {
		t.fail(t.columns[i], "不能为空")
		return nil
	}
	v := im.reg.village(code)
	if v == nil {
		t.fail(t.columns[i], "村居 "+quote(code)+" 未登记（数据库和 regions.csv 中都没有）")
		return nil
	}
	if !im.inReach(v.InstitutionCode) {
		t.fail(t.columns[i], "村居 "+code+" 不属于本机构")
		return nil
	}
	return v
}

func (im *importer) readPopulations() error {
	t, err := im.open(PopulationsFile, populationColumns, true)
	if t == nil || err != nil {
		return err
	}
	var add []region.Population
	lines := map[string]int{}
	for t.next() {
		v := im.villageInReach(t, 0)
		year, pop := t.integer(1), t.integer(2)
		switch {
		case year == nil && t.get(1) == "":
			t.fail("year", "不能为空")
		case year != nil && (*year < 1900 || *year > 9999):
			t.fail("year", "年份应在 1900–9999 之间")
		}
		switch {
		case pop == nil && t.get(2) == "":
			t.fail("population", "不能为空")
		case pop != nil && *pop < 0:
			t.fail("population", "人口数不能为负")
		}
		if t.row.bad {
			continue
		}
		key := v.Code + "/" + strconv.Itoa(*year)
		if l, dup := lines[key]; dup {
			t.fail("year", fmt.Sprintf("该村该年份与第 %d 行重复", l))
			continue
		}
		lines[key] = t.row.line
		add = append(add, region.Population{VillageCode: v.Code, Year: *year, Population: *pop})
	}
	if err := t.close(); err != nil {
		return err
	}
	if im.writing() {
		return im.tx.UpsertPopulations(im.ctx, im.opt.Actor, add)
	}
	return nil
}

func (im *importer) readResponsibilities() error {
	t, err := im.open(ResponsibilitiesFile, responsibilityColumns, true)
	if t == nil || err != nil {
		return err
	}
	var add []region.Responsibility
	lines := map[string]int{}
	for t.next() {
		v := im.villageInReach(t, 0)
		code := t.get(1)
		from := t.requiredDate(2)
		switch s := im.reg.staff[code]; {
		case code == "":
			t.fail("staff_code", "不能为空")
		case s == nil:
			t.fail("staff_code", "工号 "+quote(code)+" 不存在（数据库和 staff.csv 中都没有）")
		case v != nil && !doctorOf(s, v.InstitutionCode):
			t.fail("staff_code", "应为本村所属机构 "+v.InstitutionCode+" 的医生（doctor 角色）")
		}
		if t.row.bad {
			continue
		}
		key := v.Code + "/" + from.String()
		if l, dup := lines[key]; dup {
			t.fail("from_date", fmt.Sprintf("该村该起始日期与第 %d 行重复", l))
			continue
		}
		lines[key] = t.row.line
		add = append(add, region.Responsibility{VillageCode: v.Code, StaffCode: code, FromDate: from})
	}
	if err := t.close(); err != nil {
		return err
	}
	if im.writing() {
		return im.tx.UpsertResponsibilities(im.ctx, im.opt.Actor, add)
	}
	return nil
}

// notFuture reports a date after today.
func (im *importer) notFuture(t *table, i int, d civil.Date) {
	if !d.IsZero() && d.After(im.opt.Today) {
		t.fail(t.columns[i], "日期不能晚于今天 "+im.opt.Today.String())
	}
}
