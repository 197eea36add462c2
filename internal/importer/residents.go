package importer

import (
	"fmt"
	"sort"
	"strings"

	"healthrec/internal/access"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
	"healthrec/internal/region"
)

var residentColumns = append([]string{"record_id", "village_code", "name", "sex", "birth_date", "id_number", "residence_type", "ethnicity",
	"phone", "contact_name", "contact_phone", "responsible_doctor", "filed_on", "status", "status_date"}, basicColumns...)

// Column positions in residentColumns.
const (
	rcRecordID = iota
	rcVillage
	rcName
	rcSex
	rcBirthDate
	rcIDNumber
	rcResidenceType
	rcEthnicity
	rcPhone
	rcContactName
	rcContactPhone
	rcDoctor
	rcFiledOn
	rcStatus
	rcStatusDate
	rcBasic // the first of basicColumns, all optional
)

// serials is what the import knows of one village's record IDs: which
// serials exist in the database, which line of residents.csv has each other
// one (given or allocated), and the counter.
type serials struct {
	inDB    [ident.MaxSerial/64 + 1]uint64
	line    [ident.MaxSerial + 1]int32
	last    int // the counter in the database
	maxDB   int
	maxFile int // the largest serial given in the file
	next    int // the next serial to allocate; 0 until allocation starts
	loaded  bool
}

func (s *serials) has(n int) bool { return s.inDB[n/64]&(1<<(n%64)) != 0 }

func (s *serials) markDB(n int) {
	s.inDB[n/64] |= 1 << (n % 64)
	s.maxDB = max(s.maxDB, n)
}

// known reports whether a serial is a record in the database or in the file.
func (s *serials) known(n int) bool { return s.has(n) || s.line[n] != 0 }

// allocate gives the next serial after every serial the village has used,
// in the database, its counter or the file; 0 when they are exhausted.
func (s *serials) allocate() int {
	if s.next == 0 {
		s.next = max(s.last, s.maxDB, s.maxFile) + 1
	}
	if s.next > ident.MaxSerial {
		return 0
	}
	n := s.next
	s.next++
	return n
}

// highest is the serial the village's counter must reach.
func (s *serials) highest() int { return max(s.maxFile, s.next-1) }

func (im *importer) serialsOf(village string) *serials {
	s := im.serials[village]
	if s == nil {
		s = &serials{}
		im.serials[village] = s
	}
	return s
}

// loadSerials reads the counters and existing record IDs of villages not
// read yet. With lock, a real run locks the counters first, so no filing in
// those villages can add a record the import has not seen: residents need
// that, entries (which allocate nothing) do not.
func (im *importer) loadSerials(villages []string, lock bool) error {
	var todo []string
	for _, v := range villages {
		if s := im.serialsOf(v); !s.loaded {
			s.loaded = true
			todo = append(todo, v)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	sort.Strings(todo)
	var last map[string]int
	var err error
	if im.opt.DryRun || !lock {
		last, err = im.tx.SerialCounters(im.ctx, todo)
	} else {
		last, err = im.tx.LockSerials(im.ctx, todo)
	}
	if err != nil {
		return err
	}
	for v, n := range last {
		im.serialsOf(v).last = n
	}
	return im.tx.RecordIDs(im.ctx, todo, func(id string) {
		rid := ident.RecordID(id)
		im.serialsOf(rid.Village()).markDB(rid.Serial())
	})
}

func normalizeIDNumber(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

func activeStatus(s string) bool { return s == "" || s == string(record.Active) }

// readResidents checks residents.csv and copies it into the records table.
// A first pass collects the given record IDs and the identity numbers of
// active residents, so that allocated IDs continue after every given one
// and duplicates name the other line or record; the second pass checks
// each row in full and writes it.
func (im *importer) readResidents() error {
	if !im.present[ResidentsFile] {
		return nil
	}
	firstActive, err := im.collectResidents()
	if err != nil {
		return err
	}
	if err := im.loadSerials(sortedKeys(im.serials), true); err != nil {
		return err
	}
	numbers := make([]string, 0, len(firstActive))
	for n := range firstActive {
		numbers = append(numbers, n)
	}
	inDB, err := im.tx.ActiveIDNumbers(im.ctx, numbers)
	if err != nil {
		return err
	}

	t, err := im.open(ResidentsFile, residentColumns, true, basicColumns...)
	if t == nil || err != nil {
		return err
	}
	var out *postgres.RecordCopy
	defer func() {
		if out != nil {
			out.Close()
		}
	}()
	var r record.Record
	for t.next() {
		im.resident(t, &r, firstActive, inDB)
		if t.row.bad || !im.writing() {
			continue
		}
		if out == nil {
			if out, err = im.tx.CopyRecords(im.ctx); err != nil {
				return err
			}
		}
		if err := out.Write(&r); err != nil {
			return err
		}
	}
	if err := t.close(); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	n, err := out.Close()
	out = nil
	if err != nil || !im.writing() {
		return err
	}
	im.recordsWritten = n
	_, err = im.tx.AddImportHistory(im.ctx, im.opt.Actor)
	return err
}

// collectResidents is the first pass: it notes the given record IDs per
// village and the first line of each active identity number.
func (im *importer) collectResidents() (map[string]int32, error) {
	t, err := im.open(ResidentsFile, residentColumns, false, basicColumns...)
	if t == nil || err != nil {
		return nil, err
	}
	first := map[string]int32{}
	for t.next() {
		village := t.get(rcVillage)
		if id, err := ident.ParseRecordID(t.get(rcRecordID)); err == nil && id.Village() == village {
			s := im.serialsOf(village)
			if n := id.Serial(); s.line[n] == 0 {
				s.line[n] = int32(t.row.line)
				s.maxFile = max(s.maxFile, n)
			}
		} else if _, err := ident.ClassOfVillage(village); err == nil {
			im.serialsOf(village)
		}
		if activeStatus(t.get(rcStatus)) {
			if n := normalizeIDNumber(t.get(rcIDNumber)); n != "" {
				if _, seen := first[n]; !seen {
					first[n] = int32(t.row.line)
				}
			}
		}
	}
	return first, t.close()
}

// resident checks one row of residents.csv into r. Only values that cannot
// be stored are bad: gaps and wrong identity numbers import, and the
// quality rules report them.
func (im *importer) resident(t *table, r *record.Record, firstActive map[string]int32, inDB map[string]string) {
	*r = record.Record{
		VillageCode: t.get(rcVillage), Name: t.get(rcName), IDNumber: normalizeIDNumber(t.get(rcIDNumber)),
		ResidenceType: t.get(rcResidenceType), Ethnicity: t.get(rcEthnicity), Phone: t.get(rcPhone),
		ContactName: t.get(rcContactName), ContactPhone: t.get(rcContactPhone), ResponsibleDoctor: t.get(rcDoctor),
		FiledBy: im.opt.Actor,
	}
	v := im.villageInReach(t, rcVillage)

	switch sex := t.get(rcSex); sex {
	case "", "M", "F":
		r.Sex = sex
	case "男":
		r.Sex = "M"
	case "女":
		r.Sex = "F"
	default:
		t.fail("sex", "性别应为 M（男）、F（女）或留空: "+quote(sex))
	}
	r.BirthDate = t.date(rcBirthDate)
	r.FiledOn = t.requiredDate(rcFiledOn)
	im.notFuture(t, rcFiledOn, r.FiledOn)
	// Unlike the gaps above, an unknown code of the table cannot be stored.
	basicRow(t, rcBasic, &r.BasicInfo, im.opt.Today)

	switch st := record.Status(t.get(rcStatus)); st {
	case "", record.Active:
		r.Status = record.Active
		if t.get(rcStatusDate) != "" {
			t.fail("status_date", "在档（active）记录不填状态日期")
		}
	case record.MovedOut, record.Deceased:
		r.Status = st
		r.StatusDate = t.requiredDate(rcStatusDate)
		im.notFuture(t, rcStatusDate, r.StatusDate)
	default:
		t.fail("status", "状态应为 active、moved_out 或 deceased: "+quote(string(st)))
	}

	if r.ResponsibleDoctor != "" && v != nil {
		switch s := im.reg.staff[r.ResponsibleDoctor]; {
		case s == nil:
			t.fail("responsible_doctor", "工号 "+quote(r.ResponsibleDoctor)+" 不存在（数据库和 staff.csv 中都没有）")
		case !doctorOf(s, v.InstitutionCode):
			t.fail("responsible_doctor", "应为本村所属机构 "+v.InstitutionCode+" 的医生（doctor 角色）")
		}
	}

	if r.IDNumber != "" && r.Status == record.Active {
		if other, ok := inDB[r.IDNumber]; ok {
			t.fail("id_number", im.onFile(other))
		} else if l := firstActive[r.IDNumber]; l != 0 && int(l) != t.row.line {
			t.fail("id_number", fmt.Sprintf("与第 %d 行的身份证号重复（一个身份证号只能有一份在档档案）", l))
		}
	}

	given := t.get(rcRecordID)
	if given != "" {
		id, err := ident.ParseRecordID(given)
		switch {
		case err != nil:
			t.fail("record_id", reasonOf(err)+": "+quote(given))
		case id.Village() != r.VillageCode:
			t.fail("record_id", "档案编号前 12 位应为本行的 village_code "+r.VillageCode)
		default:
			s, n := im.serialsOf(r.VillageCode), id.Serial()
			if s.has(n) {
				t.fail("record_id", "档案编号 "+given+" 已存在")
			} else if l := s.line[n]; int(l) != t.row.line {
				t.fail("record_id", fmt.Sprintf("与第 %d 行的档案编号重复", l))
			}
			r.RecordID = given
		}
	}
	if v == nil {
		return
	}
	r.FilingInstitution = v.InstitutionCode
	if r.RecordID == "" && !t.row.bad {
		s := im.serialsOf(v.Code)
		n := s.allocate()
		if n == 0 {
			t.fail("record_id", fmt.Sprintf("村居 %s 的档案编号已用尽（最多 %d 份）", v.Code, ident.MaxSerial))
			return
		}
		id, _ := ident.NewRecordID(v.Code, n)
		r.RecordID = id.String()
		s.line[n] = int32(t.row.line)
		im.rep.AllocatedIDs++
	}
}

func reasonOf(err error) string {
	if e, ok := err.(*ident.Error); ok {
		return e.Reason
	}
	return err.Error()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// onFile is the reason of a row whose identity number has an active record
// already. It names that record only to a caller who may read it; anybody
// else learns that a record exists elsewhere, and the look-up is logged on
// that record as denied, as the API's filing does.
func (im *importer) onFile(other string) string {
	const dup = "（一个身份证号只能有一份在档档案）"
	look := im.opt.Audit
	look.RecordID, look.Section, look.Action, look.Outcome = other, "basic", access.Read, "allowed"
	var v *region.Region
	if id, err := ident.ParseRecordID(other); err == nil {
		v = im.reg.village(id.Village())
	}
	if im.opt.Reader != nil && (v == nil || !access.MayRead(im.opt.Reader, v.InstitutionCode, v.Code, "basic")) {
		look.Outcome, look.Reason = "denied", "导入行的身份证号与该档案重复；导入人无权查看该档案"
		im.lookups = append(im.lookups, look)
		return "该身份证号已在其他机构建档" + dup
	}
	im.lookups = append(im.lookups, look)
	return "该身份证号已有在档记录 " + other + dup
}
