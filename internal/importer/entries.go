package importer

import (
	"healthrec/internal/apperr"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
)

var entryColumns = []string{"record_id", "kind", "service_date", "staff_code", "systolic", "diastolic", "height_cm", "weight_kg"}

// Column positions in entryColumns.
const (
	ecRecordID = iota
	ecKind
	ecServiceDate
	ecStaff
	ecSystolic
	ecDiastolic
	ecHeight
	ecWeight
)

// KindExam is the entries.csv kind of a health examination; the other kinds
// are service entries (DESIGN §4).
const KindExam = "exam"

// EntryKinds are the service entry kinds entries.csv may name besides exam.
var EntryKinds = []string{"visit", "followup", "referral", "consultation", "hospitalisation"}

func entryKind(k string) bool {
	for _, e := range EntryKinds {
		if e == k {
			return true
		}
	}
	return false
}

// entry is one checked row of entries.csv.
type entry struct {
	exam  record.Exam
	entry postgres.ImportEntry
}

// readEntries checks entries.csv and copies it: exams into the exams table
// on the checking pass, then, on a second pass (the connection carries one
// COPY at a time), the service entries into the entries table.
func (im *importer) readEntries() error {
	if !im.present[EntriesFile] {
		return nil
	}
	// Entries may belong to any record within reach, so every such
	// village's record IDs are needed; their counters stay unlocked.
	var villages []string
	for code, g := range im.reg.regions {
		if g.InstitutionCode != "" && im.inReach(g.InstitutionCode) {
			villages = append(villages, code)
		}
	}
	if err := im.loadSerials(villages, false); err != nil {
		return err
	}

	t, err := im.open(EntriesFile, entryColumns, true)
	if t == nil || err != nil {
		return err
	}
	var exams *postgres.ExamCopy
	defer func() {
		if exams != nil {
			exams.Close()
		}
	}()
	var e entry
	others := 0
	for t.next() {
		im.entry(t, &e)
		if t.row.bad || !im.writing() {
			continue
		}
		if e.entry.Kind != KindExam {
			others++
			continue
		}
		if exams == nil {
			if exams, err = im.tx.CopyExams(im.ctx, im.opt.Actor); err != nil {
				return err
			}
		}
		if err := exams.Write(&e.exam); err != nil {
			return err
		}
	}
	if err := t.close(); err != nil {
		return err
	}
	if exams != nil {
		n, err := exams.Close()
		exams = nil
		if err != nil {
			return err
		}
		im.examsWritten = n
	}
	if others == 0 || !im.writing() {
		return nil
	}
	return im.copyServiceEntries()
}

func (im *importer) copyServiceEntries() error {
	t, err := im.open(EntriesFile, entryColumns, false)
	if t == nil || err != nil {
		return err
	}
	out, err := im.tx.CopyEntries(im.ctx, im.opt.Actor)
	if err != nil {
		t.close()
		return err
	}
	var e entry
	for t.next() {
		if t.get(ecKind) == KindExam {
			continue
		}
		im.entry(t, &e)
		if t.row.bad {
			// The checking pass found none, so this cannot happen; refuse
			// to load something it did not check.
			t.close()
			out.Close()
			return apperr.Errorf(apperr.Internal, "%s 第 %d 行第二遍读取结果不同", EntriesFile, t.row.line)
		}
		if err := out.Write(&e.entry); err != nil {
			t.close()
			out.Close()
			return err
		}
	}
	if err := t.close(); err != nil {
		out.Close()
		return err
	}
	n, err := out.Close()
	im.entriesWritten = n
	return err
}

// entry checks one row of entries.csv into e.
func (im *importer) entry(t *table, e *entry) {
	*e = entry{}
	kind := t.get(ecKind)
	switch {
	case kind == "":
		t.fail("kind", "不能为空")
	case kind == KindExam:
	case entryKind(kind):
		if !im.reg.entriesTable {
			t.fail("kind", "服务记录表（entries）尚未建立，暂不能导入 "+kind+"（entries table not available）")
		}
	default:
		t.fail("kind", "类型应为 exam、visit、followup、referral、consultation 或 hospitalisation: "+quote(kind))
	}

	given := t.get(ecRecordID)
	var inst string
	if given == "" {
		t.fail("record_id", "不能为空")
	} else if id, err := ident.ParseRecordID(given); err != nil {
		t.fail("record_id", reasonOf(err)+": "+quote(given))
	} else {
		v := im.reg.village(id.Village())
		s := im.serials[id.Village()]
		switch {
		case v == nil:
			t.fail("record_id", "档案 "+given+" 不存在：村居 "+id.Village()+" 未登记")
		case !im.inReach(v.InstitutionCode):
			t.fail("record_id", "档案 "+given+" 不属于本机构")
		case s == nil || !s.known(id.Serial()):
			t.fail("record_id", "档案 "+given+" 不存在（数据库和 residents.csv 中都没有）")
		}
	}

	date := t.requiredDate(ecServiceDate)
	im.notFuture(t, ecServiceDate, date)

	code := t.get(ecStaff)
	switch s := im.reg.staff[code]; {
	case code == "":
		t.fail("staff_code", "不能为空")
	case s == nil:
		t.fail("staff_code", "工号 "+quote(code)+" 不存在（数据库和 staff.csv 中都没有）")
	case !im.opt.Admin && !im.inReach(s.InstitutionCode):
		t.fail("staff_code", "工号 "+code+" 不是本机构的工作人员")
	default:
		inst = s.InstitutionCode
	}

	if kind != KindExam {
		for _, i := range []int{ecSystolic, ecDiastolic, ecHeight, ecWeight} {
			if t.get(i) != "" {
				t.fail(t.columns[i], "只有体检（exam）填写体征")
			}
		}
		e.entry = postgres.ImportEntry{RecordID: given, Kind: kind, ServiceDate: date, Doctor: code, InstitutionCode: inst}
		return
	}
	e.entry.Kind = KindExam
	e.exam = record.Exam{RecordID: given, ExamDate: date, Doctor: code, InstitutionCode: inst,
		Systolic: t.integer(ecSystolic), Diastolic: t.integer(ecDiastolic), HeightCM: t.decimal(ecHeight), WeightKG: t.decimal(ecWeight)}
	// The API's checks of an exam: vitals within what a body can have, both
	// blood pressures or neither. The date was checked above, and a blood
	// pressure that is not a number is not checked again as a lone half.
	check := e.exam
	if (t.get(ecSystolic) != "") != (check.Systolic != nil) || (t.get(ecDiastolic) != "") != (check.Diastolic != nil) {
		check.Systolic, check.Diastolic = nil, nil
	}
	if err, ok := apperr.As(check.Validate(im.opt.Today)); ok {
		for _, f := range err.Fields {
			if f.Field != "service_date" {
				t.fail(f.Field, f.Reason)
			}
		}
	}
}
