package httpapi

import (
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/importer"
)

// A web import runs in one request, all or nothing, and a county's files
// take minutes. The page names its run (?progress= on POST /imports, an ID
// it makes up) and polls GET /imports/progress/{id} meanwhile: the rows
// checked of each file, of the rows it holds. Runs live in memory, per
// caller, and are forgotten a while after they end.
type importRuns struct {
	mu   sync.Mutex
	runs map[string]*importRun
}

// importRun is one run's progress, as GET /imports/progress/{id} answers it.
type importRun struct {
	ID      string               `json:"id"`
	DryRun  bool                 `json:"dry_run"`
	Files   []importFileProgress `json:"files"`
	Done    bool                 `json:"done"`
	Elapsed float64              `json:"elapsed_seconds"`
	started time.Time
}

type importFileProgress struct {
	File string `json:"file"`
	// Rows are the rows checked so far; Total the rows the file holds, by
	// its line breaks (importer.CountRows: an estimate).
	Rows  int `json:"rows"`
	Total int `json:"total"`
}

// importRunKept is how long a finished run can still be read.
const importRunKept = 5 * time.Minute

var progressID = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

func runKey(staffCode, id string) string { return staffCode + "\x00" + id }

// start registers a run with its files' totals, in the order the import
// reads them. A second run of the same ID is a conflict while the first is
// on its way.
func (r *importRuns) start(staffCode, id string, dry bool, src importer.Source) (*importRun, error) {
	names, err := src.Names()
	if err != nil {
		return nil, err
	}
	run := &importRun{ID: id, DryRun: dry, Files: []importFileProgress{}, started: time.Now()}
	for _, f := range importer.Files {
		if slices.Contains(names, f) {
			total, _ := importer.CountRows(src, f) // unreadable: the import reports it
			run.Files = append(run.Files, importFileProgress{File: f, Total: total})
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == nil {
		r.runs = map[string]*importRun{}
	}
	if old, ok := r.runs[runKey(staffCode, id)]; ok && !old.Done {
		return nil, apperr.Errorf(apperr.Conflict, "导入 %s 正在进行", id)
	}
	r.runs[runKey(staffCode, id)] = run
	return run, nil
}

// progress notes rows checked of a file (importer.Options.Progress).
func (r *importRuns) progress(run *importRun, file string, rows int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range run.Files {
		if run.Files[i].File == file {
			run.Files[i].Rows = rows
		}
	}
}

// end marks a run done and forgets it later.
func (r *importRuns) end(staffCode string, run *importRun) {
	r.mu.Lock()
	run.Done = true
	r.mu.Unlock()
	time.AfterFunc(importRunKept, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.runs[runKey(staffCode, run.ID)] == run {
			delete(r.runs, runKey(staffCode, run.ID))
		}
	})
}

// importProgress is GET /imports/progress/{id}: the caller's own run only.
func (s *Server) importProgress(c *gin.Context) {
	id := c.Param("id")
	if !progressID.MatchString(id) {
		c.Error(apperr.InvalidField("id", "应为 8–64 个字母、数字、_ 或 -"))
		return
	}
	s.imports.mu.Lock()
	run, ok := s.imports.runs[runKey(principal(c).Staff.Code, id)]
	var out importRun
	if ok {
		out = *run
		out.Files = slices.Clone(run.Files)
		out.Elapsed = time.Since(run.started).Round(100 * time.Millisecond).Seconds()
	}
	s.imports.mu.Unlock()
	if !ok {
		c.Error(apperr.NotFoundf("没有进行中的导入 %s", id))
		return
	}
	c.JSON(http.StatusOK, out)
}
