package access

import (
	"fmt"

	"healthrec/internal/staff"
)

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
