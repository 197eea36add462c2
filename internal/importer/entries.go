package importer

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/entry"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// entryColumns are entries.csv's columns; programme and the follow-up
// columns of DESIGN §4.3 after it, the other kinds' required items, and
// the health examination table's (examItemColumns, last), are optional
// (entryOptional).
var entryColumns = append([]string{"record_id", "kind", "service_date", "staff_code", "systolic", "diastolic", "height_cm", "weight_kg", "programme",
	"method", "symptoms", "fasting_glucose", "lifestyle_advice", "adherence", "adverse_reactions", "classification", "next_date",
	// The required items of the other kinds (entry.Missing): without them a
	// legacy entry is kept but does not conform, so never counts for usage.
	"subjective", "assessment", "to_institution", "reason", "impression", "opinion", "hospital", "admitted_on", "diagnosis"}, examItemColumns...)

// entryOptional are the columns entries.csv may leave out.
var entryOptional = append([]string{"programme", "method", "symptoms", "fasting_glucose", "lifestyle_advice", "adherence", "adverse_reactions",
	"classification", "next_date", "subjective", "assessment", "to_institution", "reason", "impression", "opinion", "hospital", "admitted_on",
	"diagnosis"}, examItemColumns...)

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
	ecProgramme
	ecMethod
	ecSymptoms
	ecGlucose
	ecLifestyle
	ecAdherence
	ecAdverse
	ecClassification
	ecNextDate
	ecSubjective
	ecAssessment
	ecToInstitution
	ecReason
	ecImpression
	ecOpinion
	ecHospital
	ecAdmittedOn
	ecDiagnosis
)

// kindItems are the columns of each kind's required items (entry.Missing).
var kindItems = map[entry.Kind][]int{
	entry.KindVisit:           {ecSubjective, ecAssessment},
	entry.KindReferral:        {ecToInstitution, ecReason, ecImpression},
	entry.KindConsultation:    {ecReason, ecOpinion},
	entry.KindHospitalisation: {ecHospital, ecAdmittedOn, ecDiagnosis},
}

// followupOnly are the columns only a follow-up fills.
var followupOnly = []int{ecProgramme, ecMethod, ecSymptoms, ecGlucose, ecLifestyle, ecAdherence, ecAdverse, ecClassification, ecNextDate}

// legacyReferralReason closes an imported referral: the files carry no
// status, and an old referral left "issued" would sit on the doctor's list of
// open referrals for ever.
const legacyReferralReason = "历史数据导入：原始资料无转诊状态，按已关闭登记"

// KindExam is the entries.csv kind of a health examination; the other kinds
// are the service entries of entry.Kinds (DESIGN §4).
const KindExam = "exam"

// entryRow is one checked row of entries.csv.
type entryRow struct {
	exam  record.Exam
	entry postgres.ImportEntry
}

// readEntries checks entries.csv and copies it in one pass: the service
// entries into the entries table as they are read, and the exams into the
// exams table as they are read until the first service entry — a file with
// the exams first (a table's export after another's) streams both — and
// after it into a spool that is copied into the exams table once the
// entries' COPY has ended (the connection carries one COPY at a time). The
// exams take their ids in the file's order either way.
func (im *importer) readEntries() error {
	if !im.present[EntriesFile] {
		return nil
	}
	// Entries may belong to any record within reach, so every such
	// village's record IDs are needed; their counters stay unlocked.
	villages := im.villagesInReach()
	if err := im.loadSerials(villages, false); err != nil {
		return err
	}
	// programmes.csv has read them, with its own.
	if im.reg.entriesTable && im.enrolments == nil {
		ens, err := im.tx.FollowupEnrolments(im.ctx, villages)
		if err != nil {
			return err
		}
		im.enrolments = make(map[string][]postgres.ImportEnrolment, len(ens))
		for _, e := range ens {
			im.enrolments[e.RecordID] = append(im.enrolments[e.RecordID], e)
		}
	}

	start := time.Now()
	t, err := im.open(EntriesFile, entryColumns, true, entryOptional...)
	if t == nil || err != nil {
		return err
	}
	var out *postgres.EntryCopy
	var exams *postgres.ExamCopy
	defer func() {
		if out != nil {
			out.Close()
		}
		if exams != nil {
			exams.Abandon()
		}
	}()
	var e entryRow
	for t.next() {
		im.entry(t, &e)
		if t.row.bad || !im.writing() {
			continue
		}
		if e.entry.Kind == KindExam {
			if exams == nil {
				if out == nil {
					exams, err = im.tx.CopyExams(im.ctx, im.opt.Actor)
				} else {
					exams, err = im.tx.SpoolExams(im.ctx, im.opt.Actor)
				}
				if err != nil {
					return err
				}
			}
			if err := exams.Write(&e.exam); err != nil {
				return err
			}
			continue
		}
		if out == nil {
			// The exams read so far end their COPY; any later wait in a spool.
			if exams != nil {
				n, err := exams.Close()
				exams = nil
				if err != nil {
					return err
				}
				im.examsWritten += n
			}
			if out, err = im.tx.CopyEntries(im.ctx, im.opt.Actor); err != nil {
				return err
			}
		}
		if err := out.Write(&e.entry); err != nil {
			return err
		}
	}
	if err := t.close(); err != nil {
		return err
	}
	spooled := out != nil // the exams after the first service entry
	if out != nil {
		n, err := out.Close()
		out = nil
		if err != nil {
			return err
		}
		im.entriesWritten = n
	}
	if im.opt.Timing != nil {
		im.opt.Timing("  entries.csv: checked, service entries copied", time.Since(start))
	}
	if exams == nil || !im.writing() {
		return nil
	}
	step := "  entries.csv: exams copied (from the spool)"
	if !spooled {
		step = "  entries.csv: exams copied" // a file of exams only: their COPY ends
	}
	return im.timed(step, func() error {
		n, err := exams.Close()
		exams = nil
		im.examsWritten += n
		return err
	})
}

// entry checks one row of entries.csv into e.
func (im *importer) entry(t *table, e *entryRow) {
	*e = entryRow{}
	kind := t.get(ecKind)
	switch {
	case kind == "":
		t.fail("kind", "不能为空")
	case kind == KindExam:
	case entry.Kind(kind).Programme() != "":
		// The key populations' forms have items the files do not carry
		// (docs/import.md): they are entered in the service.
		t.fail("kind", entry.Kind(kind).Chinese()+"（"+kind+"）暂不能从文件导入，请在系统中录入")
	case entry.Kind(kind).Valid():
		if !im.reg.entriesTable {
			t.fail("kind", "服务记录表（entries）尚未建立，暂不能导入 "+kind+"（entries table not available）")
		}
	default:
		t.fail("kind", "类型应为 exam、visit、followup、referral、consultation 或 hospitalisation: "+quote(kind))
	}
	given := t.get(ecRecordID)
	var inst string
	var recVillage *region.Region // the record's village, when the record is good
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
		default:
			recVillage = v
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
	case recVillage == nil:
		// The record is bad already; the staff member must still be one
		// the caller may name at all.
		if !im.opt.Admin && !im.inReach(s.InstitutionCode) {
			t.fail("staff_code", "工号 "+code+" 不是本机构的工作人员")
		}
	default:
		// The API's attribution rule: the named staff member may write
		// this kind on this record. A row whose record is bad has only
		// that reason.
		if sec := sectionOf(kind); sec == "" {
			// The kind is bad already.
		} else if why := im.mayAuthor(s, recVillage, sec); why != "" {
			t.fail("staff_code", why)
		}
		inst = recVillage.InstitutionCode
	}

	if kind != KindExam {
		vitals := []int{ecSystolic, ecDiastolic, ecHeight, ecWeight}
		if kind == string(entry.KindFollowup) {
			vitals = []int{ecHeight} // a follow-up measures the rest itself
		}
		for _, i := range vitals {
			if t.get(i) != "" {
				t.fail(t.columns[i], "只有体检（exam）填写体征")
			}
		}
		im.notExamItems(t)
		e.entry = postgres.ImportEntry{RecordID: given, Kind: kind, ServiceDate: date, Doctor: code, InstitutionCode: inst}
		if im.reg.entriesTable {
			im.serviceEntry(t, &e.entry)
		}
		return
	}
	im.notFollowup(t, ecGlucose)
	im.itemsOfOtherKinds(t, KindExam)
	e.entry.Kind = KindExam
	e.exam = record.Exam{RecordID: given, ExamDate: date, Doctor: code, InstitutionCode: inst,
		Systolic: t.integer(ecSystolic), Diastolic: t.integer(ecDiastolic), HeightCM: t.decimal(ecHeight), WeightKG: t.decimal(ecWeight)}
	im.examItems(t, &e.exam)
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

// serviceEntry fills in what a kind of service entry needs beyond the
// common columns: a follow-up its programme, checked against the record's
// enrolments as the API does; a referral its (closed) status. The kind's
// own fields are empty: the files do not carry them.
func (im *importer) serviceEntry(t *table, e *postgres.ImportEntry) {
	programme := t.get(ecProgramme)
	if e.Kind != string(entry.KindFollowup) {
		im.notFollowup(t)
	}
	im.itemsOfOtherKinds(t, entry.Kind(e.Kind))
	x := entry.New(entry.Kind(e.Kind))
	if x == nil {
		return
	}
	text := func(i int) string {
		v := strings.TrimSpace(t.get(i))
		if len([]rune(v)) > entry.MaxText {
			t.fail(t.columns[i], "最多 4000 个字")
		}
		return v
	}
	switch v := x.(type) {
	case *entry.Followup:
		e.Programme = im.followedProgramme(t, e, programme)
		im.followupNote(t, v, e)
	case *entry.Referral:
		e.ReferralStatus = string(entry.Closed)
		v.ToInstitution, v.Reason, v.Impression = text(ecToInstitution), text(ecReason), text(ecImpression)
		v.ClosedOn, v.ClosedBy, v.CloseReason = e.ServiceDate, im.opt.Actor, legacyReferralReason
	case *entry.Visit:
		v.Subjective, v.Assessment = text(ecSubjective), text(ecAssessment)
	case *entry.Consultation:
		v.Reason, v.Opinion, v.Consultants = text(ecReason), text(ecOpinion), []entry.Consultant{}
	case *entry.Hospitalisation:
		v.Hospital, v.Diagnosis, v.AdmittedOn = text(ecHospital), text(ecDiagnosis), t.date(ecAdmittedOn)
		if !v.AdmittedOn.IsZero() && v.AdmittedOn.After(im.opt.Today) {
			t.fail("admitted_on", "日期不能晚于今天")
		}
	}
	data, err := json.Marshal(x.Own())
	if err != nil {
		t.fail("kind", err.Error())
		return
	}
	e.Data = data
}

// followedProgramme returns the programme of a follow-up: the one named, or
// the record's only active hypertension or diabetes enrolment. The record
// must be enrolled in it, on or before the follow-up's date.
func (im *importer) followedProgramme(t *table, e *postgres.ImportEntry, named string) string {
	ens := im.enrolments[e.RecordID]
	if named != "" && !entry.Programme(named).FollowedUp() {
		t.fail("programme", "随访项目应为 hypertension（高血压）或 type2_diabetes（2 型糖尿病）: "+quote(named))
		return ""
	}
	if named == "" {
		switch len(ens) {
		case 0:
			t.fail("programme", "档案 "+e.RecordID+" 未纳入高血压或 2 型糖尿病管理，不能导入随访（请先登记纳入管理）")
			return ""
		case 1:
			named = ens[0].Programme
		default:
			t.fail("programme", "档案 "+e.RecordID+" 同时纳入高血压和 2 型糖尿病管理，请在 programme 列写明随访项目")
			return ""
		}
	}
	for _, en := range ens {
		if en.Programme != named {
			continue
		}
		if !e.ServiceDate.IsZero() && e.ServiceDate.Before(en.EnrolledOn) {
			t.fail("service_date", "随访日期不能早于纳入"+entry.Programme(named).Chinese()+"管理的日期 "+en.EnrolledOn.String())
		}
		return named
	}
	t.fail("programme", "档案 "+e.RecordID+" 未纳入"+entry.Programme(named).Chinese()+"管理，不能导入该项目的随访（请先登记纳入管理）")
	return ""
}

// sectionOf is the record section a row of kind writes, as the gate names
// it; "" for an unknown kind.
func sectionOf(kind string) string {
	switch {
	case kind == KindExam:
		return "exams"
	case entry.Kind(kind).Valid():
		return entry.Kind(kind).Section()
	}
	return ""
}

// mayAuthor is access.MayAuthor, remembered per staff member, village and
// section: an import names the same few thousand of them a million times.
func (im *importer) mayAuthor(s *staff.Staff, v *region.Region, section string) string {
	key := authorKey{s.Code, v.Code, section}
	why, ok := im.authors[key]
	if !ok {
		why = access.MayAuthor(s, v.InstitutionCode, v.Code, section)
		im.authors[key] = why
	}
	return why
}

// authorKey is a question of the attribution rule.
type authorKey struct{ staff, village, section string }

// otherKindsItems are the columns of every kind's required items.
var otherKindsItems = []int{ecSubjective, ecAssessment, ecToInstitution, ecReason, ecImpression, ecOpinion, ecHospital, ecAdmittedOn, ecDiagnosis}

// itemsOfOtherKinds reports the required-item columns of other kinds
// filled on a row of kind k (exams included: they have none).
func (im *importer) itemsOfOtherKinds(t *table, k entry.Kind) {
	for _, i := range otherKindsItems {
		if t.get(i) != "" && !slices.Contains(kindItems[k], i) {
			t.fail(t.columns[i], "该列不属于 "+string(k)+" 类服务记录")
		}
	}
}

// notFollowup reports the follow-up columns filled on another kind's row.
func (im *importer) notFollowup(t *table, except ...int) {
	for _, i := range followupOnly {
		if t.get(i) != "" && !slices.Contains(except, i) {
			t.fail(t.columns[i], "只有随访（followup）填写 "+t.columns[i])
		}
	}
}

// followupNote reads the optional follow-up columns (DESIGN §4.3) into f
// and e's next date, checked as the API checks a follow-up, except that
// legacy data may leave out what the API requires (method, classification,
// the programme's measurement): the columns are optional, and a value given
// must be one the API would take.
func (im *importer) followupNote(t *table, f *entry.Followup, e *postgres.ImportEntry) {
	n := &f.FollowupNote
	n.Method, n.Adherence, n.Classification = t.get(ecMethod), t.get(ecAdherence), t.get(ecClassification)
	n.LifestyleAdvice, n.AdverseReactions = t.get(ecLifestyle), t.get(ecAdverse)
	n.Systolic, n.Diastolic = t.integer(ecSystolic), t.integer(ecDiastolic)
	n.WeightKG, n.FastingGlucose = t.decimal(ecWeight), t.decimal(ecGlucose)
	n.Symptoms = []string{}
	for _, s := range strings.Split(t.get(ecSymptoms), ";") {
		if s = strings.TrimSpace(s); s != "" {
			n.Symptoms = append(n.Symptoms, s)
		}
	}
	e.NextDate = t.date(ecNextDate)
	check := *f
	check.ServiceDate, check.Programme, check.NextDate = e.ServiceDate, entry.Programme(e.Programme), e.NextDate
	if check.Programme == "" {
		check.Programme = entry.Hypertension // reported already; check the rest
	}
	if check.Method == "" {
		check.Method = entry.MethodPhone // nothing measured is required
	}
	if check.Classification == "" {
		check.Classification = entry.ClassSatisfactory
	}
	if err, ok := apperr.As(check.Validate(im.opt.Today)); ok {
		for _, fe := range err.Fields {
			switch fe.Field {
			case "service_date", "programme", "staff_code":
			default:
				t.fail(fe.Field, fe.Reason)
			}
		}
	}
	f.Symptoms = check.Symptoms
}
