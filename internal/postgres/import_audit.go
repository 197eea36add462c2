package postgres

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"healthrec/internal/access"
)

// importWrites are the records an import writes and, per record, the
// sections it writes — its basic information (the records COPY), its exams,
// each kind of its entries, its programmes — noted as the COPYs send them,
// for the import's audit rows (AuditImport) and for the records whose facts
// it settles (served). Every record, exam, entry and
// enrolment an import writes goes through one of its COPYs, in its one
// transaction: what is noted is what commits, or nothing does.
//
// A record ID of 16 digits (all of them, once the importer has checked its
// rows) is kept as a number: a county's million records are a map without
// pointers for the garbage collector to follow.
type importWrites struct {
	byNumber map[uint64]uint32
	byID     map[string]uint32
	// sections are the sections' names in the order of their bits.
	sections []string
	bits     map[string]uint32
	// kindBits are the bits of entries.<kind>s by kind.
	kindBits map[string]uint32
	// last is the record marked last, with bits it is known to have: a
	// file's rows come grouped by record (an export's order), and a mark
	// the record has already needs no look-up in a map of a million.
	last     string
	lastBits uint32
}

// Sections an import writes, other than each kind of entry's.
const (
	sectionBasic      = "basic"
	sectionExams      = "exams"
	sectionProgrammes = "programmes"
)

func newImportWrites() *importWrites {
	w := &importWrites{byNumber: map[uint64]uint32{}, byID: map[string]uint32{}, bits: map[string]uint32{},
		kindBits: map[string]uint32{}}
	for _, s := range []string{sectionBasic, sectionExams, sectionProgrammes} {
		w.bit(s)
	}
	return w
}

// bit is the bit of a section, given it the first time.
func (w *importWrites) bit(section string) uint32 {
	b, ok := w.bits[section]
	if !ok {
		if len(w.sections) == 32 {
			panic("import audit: more than 32 sections")
		}
		b = 1 << len(w.sections)
		w.sections = append(w.sections, section)
		w.bits[section] = b
	}
	return b
}

// note notes a write of a section of a record.
func (w *importWrites) note(recordID, section string) { w.mark(recordID, w.bit(section)) }

// mark sets a section's bit b for a record.
func (w *importWrites) mark(recordID string, b uint32) {
	if recordID == w.last {
		if w.lastBits&b == b {
			return
		}
	} else {
		w.last, w.lastBits = recordID, 0
	}
	w.lastBits |= b
	if n, ok := recordNumber(recordID); ok {
		w.byNumber[n] |= b
		return
	}
	w.byID[recordID] |= b
}

// noteEntry notes a write of an entry of kind: the section
// entries.<kind>s, as a record page names it.
func (w *importWrites) noteEntry(recordID, kind string) {
	b, ok := w.kindBits[kind] // (a look-up without a concatenation per entry)
	if !ok {
		b = w.bit("entries." + kind + "s")
		w.kindBits[kind] = b
	}
	w.mark(recordID, b)
}

// served are the records written beyond their basic information: those
// the import added exams, entries or enrolments to, whose facts it settles
// (RefreshFacts).
func (w *importWrites) served() []string {
	var ids []string
	basic := w.bits[sectionBasic]
	for n, bits := range w.byNumber {
		if bits&^basic != 0 {
			ids = append(ids, strconv.FormatUint(n, 10))
		}
	}
	for id, bits := range w.byID {
		if bits&^basic != 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// recordNumber is a 16-digit record ID as a number.
func recordNumber(id string) (uint64, bool) {
	if len(id) != 16 || id[0] < '1' || id[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(id, 10, 64)
	return n, err == nil
}

// each calls fn with every record and section written, in record ID order
// (any ID not of 16 digits after the others), a record's sections in the
// order they were first written.
func (w *importWrites) each(fn func(id, section string) error) error {
	sections := func(id string, bits uint32) error {
		for i, s := range w.sections {
			if bits&(1<<i) != 0 {
				if err := fn(id, s); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(w.byNumber)) {
		if err := sections(strconv.FormatUint(n, 10), w.byNumber[n]); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(w.byID)) {
		if err := sections(id, w.byID[id]); err != nil {
			return err
		}
	}
	return nil
}

// AuditImport appends one access-log row per record and section this
// transaction wrote (importWrites), as allowed writes by who (StaffCode,
// Roles, Method, Path), with one COPY, committed with the import. The log
// names a record and a section (DESIGN §6.3), as a page's read does: ten
// imported follow-ups of one record are one write of its follow-ups, not
// ten rows at the same instant. It returns the rows appended.
//
// (By COPY rather than INSERT … SELECT over what the transaction wrote: a
// county's 3.7 million rows took 19–24 s so, most of it inserting them one
// by one.)
func (t *ImportTx) AuditImport(ctx context.Context, who access.LogEntry) (int64, error) {
	w := t.written
	if len(w.byNumber)+len(w.byID) == 0 {
		return 0, nil
	}
	c, err := t.copyInto(ctx, "access_log", "staff_code", "roles", "record_id", "section", "action", "outcome", "method", "path")
	if err != nil {
		return 0, err
	}
	if err := w.each(func(id, section string) error {
		c.text(who.StaffCode)
		c.text(who.Roles)
		c.text(id)
		c.text(section)
		c.text("write")
		c.text("allowed")
		c.text(who.Method)
		c.text(who.Path)
		return c.endRow()
	}); err != nil {
		c.close()
		return 0, err
	}
	n, err := c.close()
	return int64(n), err
}
