package importer

import (
	"fmt"
	"slices"

	"healthrec/internal/entry"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
)

// programmeColumns are programmes.csv's columns; ended_on and end_reason are
// optional (only an ended enrolment has them), and so are the dates a
// schedule counts from (a newborn's discharge, the LMP, the delivery).
var programmeColumns = []string{"record_id", "programme", "enrolled_on", "status", "ended_on", "end_reason",
	"discharged_on", "lmp_date", "delivered_on"}

const (
	pcRecordID = iota
	pcProgramme
	pcEnrolledOn
	pcStatus
	pcEndedOn
	pcEndReason
	pcDischargedOn
	pcLMPDate
	pcDeliveredOn
)

// readProgrammes checks programmes.csv (enrolments in key-population
// programmes, DESIGN §3 part 3) and inserts them, before entries.csv, so
// that a county's legacy follow-ups find their enrolments in the same run.
// The rules are the API's (a known programme, real dates not after today,
// ended ones with their end date, one active enrolment per programme and
// record), except the resident's age and sex, which legacy data may lack
// or have wrong: those the quality rules report.
func (im *importer) readProgrammes() error {
	if !im.present[ProgrammesFile] {
		return nil
	}
	villages := im.villagesInReach()
	if err := im.loadSerials(villages, false); err != nil {
		return err
	}
	active, err := im.tx.ActiveEnrolments(im.ctx, villages)
	if err != nil {
		return err
	}
	// Active enrolments on file, by record and programme; 0 for one on
	// file, a line for one of this file.
	seen := make(map[string]int, len(active))
	for _, e := range active {
		seen[e.RecordID+"/"+e.Programme] = 0
	}
	t, err := im.open(ProgrammesFile, programmeColumns, true, "ended_on", "end_reason", "discharged_on", "lmp_date", "delivered_on")
	if t == nil || err != nil {
		return err
	}
	rows := blocks[postgres.ImportEnrolment]{size: 1 << 14}
	for t.next() {
		id := t.get(pcRecordID)
		im.recordInReach(t, pcRecordID)
		f := entry.EnrolmentForm{Programme: entry.Programme(t.get(pcProgramme)), EnrolledOn: t.requiredDate(pcEnrolledOn),
			Status: t.get(pcStatus), EndedOn: t.date(pcEndedOn), EndReason: t.get(pcEndReason),
			DischargedOn: t.date(pcDischargedOn), LMPDate: t.date(pcLMPDate), DeliveredOn: t.date(pcDeliveredOn)}
		if t.row.bad {
			continue
		}
		if err := f.ValidateLegacy(im.opt.Today, entry.Resident{}); err != nil {
			im.failFields(&t.row, err)
			continue
		}
		if f.Status == entry.EnrolmentActive {
			key := id + "/" + string(f.Programme)
			if l, dup := seen[key]; dup {
				if l == 0 {
					t.fail("programme", "档案 "+id+" 已在"+f.Programme.Chinese()+"管理中（同一项目只能有一条在管记录）")
				} else {
					t.fail("programme", fmt.Sprintf("与第 %d 行重复：同一档案同一项目只能有一条在管记录", l))
				}
				continue
			}
			seen[key] = t.row.line
		}
		rows.add(postgres.ImportEnrolment{RecordID: id, Programme: string(f.Programme), EnrolledOn: f.EnrolledOn,
			Status: f.Status, EndedOn: f.EndedOn, EndReason: f.EndReason, DischargedOn: f.DischargedOn, LMPDate: f.LMPDate,
			DeliveredOn: f.DeliveredOn})
	}
	if err := t.close(); err != nil {
		return err
	}
	add := rows.all()
	// entries.csv's follow-ups belong to the active enrolments on file and
	// of this file, also on a dry run, which writes none of them.
	im.enrolments = map[string][]postgres.ImportEnrolment{}
	for _, es := range [][]postgres.ImportEnrolment{active, add} {
		for _, e := range es {
			if e.Status == entry.EnrolmentActive && entry.Programme(e.Programme).FollowedUp() {
				im.enrolments[e.RecordID] = append(im.enrolments[e.RecordID], e)
			}
		}
	}
	if !im.writing() || len(add) == 0 {
		return nil
	}
	n, err := im.tx.InsertEnrolments(im.ctx, im.opt.Actor, add)
	im.enrolmentsWritten = n
	return err
}

// villagesInReach lists the registered villages whose records the caller
// may import into.
func (im *importer) villagesInReach() []string {
	var villages []string
	for code, g := range im.reg.regions {
		if g.InstitutionCode != "" && im.inReach(g.InstitutionCode) {
			villages = append(villages, code)
		}
	}
	return villages
}

// recordInReach checks column i names a record on file or given in
// residents.csv, in a village within reach (its serials loaded).
func (im *importer) recordInReach(t *table, i int) {
	given := t.get(i)
	col := t.columns[i]
	if given == "" {
		t.fail(col, "不能为空")
		return
	}
	id, err := ident.ParseRecordID(given)
	if err != nil {
		t.fail(col, reasonOf(err)+": "+quote(given))
		return
	}
	v := im.reg.village(id.Village())
	s := im.serials[id.Village()]
	switch {
	case v == nil:
		t.fail(col, "档案 "+given+" 不存在：村居 "+id.Village()+" 未登记")
	case !im.inReach(v.InstitutionCode):
		t.fail(col, "档案 "+given+" 不属于本机构")
	case s == nil || !s.known(id.Serial()):
		t.fail(col, "档案 "+given+" 不存在（数据库和 residents.csv 中都没有）")
	}
}

// blocks gathers a file's rows a block at a time and joins them once, where
// append would regrow one slice: a county's 655k enrolments regrown so were
// copied several times over, 1.3 s of programmes.csv's 2.9 s of CPU
// (2026-12-07).
type blocks[T any] struct {
	size int
	full [][]T
	last []T
}

func (b *blocks[T]) add(v T) {
	if len(b.last) == cap(b.last) {
		if len(b.last) > 0 {
			b.full = append(b.full, b.last)
		}
		b.last = make([]T, 0, b.size)
	}
	b.last = append(b.last, v)
}

// all returns the rows in order, nil for none.
func (b *blocks[T]) all() []T { return slices.Concat(append(b.full, b.last)...) }
