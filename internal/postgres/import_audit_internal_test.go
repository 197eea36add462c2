package postgres

import (
	"slices"
	"testing"
)

// TestImportWrites: each record and section written is listed once, in
// record ID order, whatever the number of writes; a 16-digit ID comes back
// as it was given, and an ID of another shape (kept by its text) too.
func TestImportWrites(t *testing.T) {
	w := newImportWrites()
	w.note("3301271021010002", sectionBasic)
	w.noteEntry("3301271021010002", "followup")
	w.noteEntry("3301271021010002", "followup")
	w.note("3301271021010002", sectionExams)
	w.noteEntry("1000000000000001", "visit")
	w.note("0301271021010003", sectionBasic) // a leading zero: not a number here
	w.note("x-7", sectionProgrammes)
	w.note("1000000000000001", sectionProgrammes)
	var got []string
	if err := w.each(func(id, section string) error { got = append(got, id+" "+section); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1000000000000001 programmes", "1000000000000001 entries.visits",
		"3301271021010002 basic", "3301271021010002 exams", "3301271021010002 entries.followups",
		"0301271021010003 basic", "x-7 programmes",
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed\n%q\nwant\n%q", got, want)
	}
	// Whose facts the import settles: every record given more than its
	// basic information, and not the one given only that.
	served := w.served()
	slices.Sort(served)
	if want := []string{"1000000000000001", "3301271021010002", "x-7"}; !slices.Equal(served, want) {
		t.Errorf("served %q, want %q", served, want)
	}
}
