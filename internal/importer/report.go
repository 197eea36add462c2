// Package importer reads the CSV files institutions migrate from paper and
// spreadsheets with (DESIGN §8), checks every row against the registry and
// the other files, reports each bad row by file, line and field, and loads
// the lot in one transaction: a dry run writes nothing, and a real run with
// any bad row writes nothing either. Residents and service entries are
// streamed with COPY, so a million residents load in about a minute.
package importer

// The files of an import, in the order they load. A file may be absent.
const (
	InstitutionsFile     = "institutions.csv"
	RegionsFile          = "regions.csv"
	StaffFile            = "staff.csv"
	PopulationsFile      = "populations.csv"
	ResponsibilitiesFile = "responsibilities.csv"
	ResidentsFile        = "residents.csv"
	ProgrammesFile       = "programmes.csv"
	EntriesFile          = "entries.csv"
)

// Files lists the file names an import knows, in load order.
var Files = []string{InstitutionsFile, RegionsFile, StaffFile, PopulationsFile, ResponsibilitiesFile, ResidentsFile, ProgrammesFile, EntriesFile}

func knownFile(name string) bool {
	for _, f := range Files {
		if f == name {
			return true
		}
	}
	return false
}

// MaxProblems bounds the problems a report lists. A file saved in the wrong
// encoding makes every row bad; past this many the report says it is
// truncated, and BadRows still counts them all.
const MaxProblems = 100000

// Problem is one bad value: the file, the line (1 is the header; 0 means the
// file as a whole), the column and why.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// FileCount counts the data rows of one file. Unchanged rows repeat what is
// already registered (an institution, region or staff member) and are skipped.
type FileCount struct {
	Rows      int `json:"rows"`
	Bad       int `json:"bad"`
	Unchanged int `json:"unchanged,omitempty"`
}

// Report is the outcome of an import. OK means no problem was found; for a
// real run it also means everything was written, and otherwise nothing was.
type Report struct {
	DryRun bool `json:"dry_run"`
	// Bulk is whether the import loaded an empty county in bulk
	// (Options.Owner); the command line says so.
	Bulk   bool                  `json:"-"`
	OK     bool                  `json:"ok"`
	Counts map[string]*FileCount `json:"counts"`
	// AllocatedIDs counts the residents given a new record ID.
	AllocatedIDs int       `json:"allocated_record_ids"`
	BadRows      int       `json:"bad_rows"`
	Errors       []Problem `json:"errors"`
	Truncated    bool      `json:"truncated,omitempty"`
	problems     int
}

func newReport(dryRun bool) *Report {
	return &Report{DryRun: dryRun, Counts: map[string]*FileCount{}, Errors: []Problem{}}
}

func (r *Report) count(file string) *FileCount {
	c := r.Counts[file]
	if c == nil {
		c = &FileCount{}
		r.Counts[file] = c
	}
	return c
}

func (r *Report) add(p Problem) {
	r.problems++
	if len(r.Errors) >= MaxProblems {
		r.Truncated = true
		return
	}
	r.Errors = append(r.Errors, p)
}

// row is one data row being checked; it is counted bad once, however many
// of its values are bad.
type row struct {
	file string
	line int
	bad  bool
}

func (im *importer) fail(r *row, field, reason string) {
	if !r.bad {
		r.bad = true
		im.rep.BadRows++
		im.rep.count(r.file).Bad++
	}
	im.rep.add(Problem{File: r.file, Line: r.line, Field: field, Reason: reason})
}

// failFile reports a problem with a file as a whole.
func (im *importer) failFile(file string, line int, field, reason string) {
	im.rep.add(Problem{File: file, Line: line, Field: field, Reason: reason})
}
