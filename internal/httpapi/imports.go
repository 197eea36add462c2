package httpapi

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/importer"
	"healthrec/internal/staff"
)

const (
	// maxImportBody bounds an upload: a county's residents and three years
	// of entries are well under it.
	maxImportBody = 4 << 30
	// importMemory is how much of an upload is held in memory; the rest is
	// spooled to temporary files, removed when the request ends.
	importMemory = 32 << 20
)

func (s *Server) importRoutes(api *gin.RouterGroup) {
	api.POST("/imports", s.postImport)
	api.GET("/imports/progress/:id", s.importProgress)
}

// importResponse is the report, and for a real run with bad rows also the
// usual error object, so clients that only look at "error" see it failed.
type importResponse struct {
	*importer.Report
	Error map[string]any `json:"error,omitempty"`
}

// postImport runs a CSV import (DESIGN §8) from a multipart upload with one
// part per file. The administrator may import anything; a records
// administrator only within their institution, and rows outside it are bad
// rows with a reason, so a dry run lists them all.
func (s *Server) postImport(c *gin.Context) {
	var dry bool
	switch c.Query("dry_run") {
	case "true", "1":
		dry = true
	case "", "false", "0":
	default:
		c.Error(apperr.InvalidField("dry_run", "应为 true 或 false"))
		return
	}
	progress := c.Query("progress")
	if progress != "" && !progressID.MatchString(progress) {
		c.Error(apperr.InvalidField("progress", "应为 8–64 个字母、数字、_ 或 -"))
		return
	}
	p := principal(c)
	opt := importer.Options{DryRun: dry, Actor: p.Staff.Code, Today: civil.Of(s.db.Today()), Reader: p.Staff,
		Audit: access.LogEntry{StaffCode: p.Staff.Code, Roles: p.Roles(), Method: c.Request.Method, Path: c.Request.URL.Path}}
	if p.Staff.HasIn(staff.Admin, staff.SystemDomain) {
		opt.Admin = true
	} else {
		for _, g := range p.Staff.Grants {
			if g.Role == staff.RecordsAdmin && s.gate.RequireRoute(p, g.Domain, c.FullPath(), c.Request.Method) == nil {
				opt.Institutions = append(opt.Institutions, staff.DomainCode(g.Domain))
			}
		}
		if len(opt.Institutions) == 0 {
			c.Error(apperr.Forbiddenf("只有系统管理员和档案管理员可以导入"))
			return
		}
	}
	if c.ContentType() != "multipart/form-data" {
		c.Error(apperr.Errorf(apperr.Invalid, "请求应为 multipart/form-data，每个 CSV 文件一部分（部分名或文件名为 residents.csv 等）"))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxImportBody)
	if err := c.Request.ParseMultipartForm(importMemory); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			c.Error(apperr.Errorf(apperr.Invalid, "上传内容过大"))
		} else {
			c.Error(apperr.Errorf(apperr.Invalid, "multipart 请求无法解析: %v", err))
		}
		return
	}
	form := c.Request.MultipartForm
	defer form.RemoveAll()
	src, err := newPartSource(form)
	if err != nil {
		c.Error(err)
		return
	}
	if progress != "" {
		run, err := s.imports.start(p.Staff.Code, progress, dry, src)
		if err != nil {
			c.Error(err)
			return
		}
		defer s.imports.end(p.Staff.Code, run)
		opt.Progress = func(file string, rows int) { s.imports.progress(run, file, rows) }
	}
	rep, err := importer.Run(c.Request.Context(), s.db, src, opt)
	if err != nil {
		c.Error(err)
		return
	}
	if rep.OK && !dry {
		s.sessions.flush() // staff.csv may have changed roles
	}
	if dry || rep.OK {
		c.JSON(http.StatusOK, importResponse{Report: rep})
		return
	}
	c.JSON(http.StatusBadRequest, importResponse{Report: rep, Error: map[string]any{
		"code": apperr.Invalid, "message": "导入文件有错误，未写入任何数据；错误见 errors"}})
}

// partSource serves the parts of a multipart upload as import files. A part
// is named by its form name when that is a file name the import knows, else
// by its file name, so both -F residents.csv=@x.csv and -F file=@residents.csv
// work.
type partSource struct {
	files map[string]*multipart.FileHeader
	texts map[string]string
}

func newPartSource(form *multipart.Form) (*partSource, error) {
	src := &partSource{files: map[string]*multipart.FileHeader{}, texts: map[string]string{}}
	known := map[string]bool{}
	for _, f := range importer.Files {
		known[f] = true
	}
	taken := func(name string) error {
		if _, ok := src.files[name]; ok {
			return apperr.Errorf(apperr.Invalid, "文件 %s 上传了不止一次", name)
		}
		if _, ok := src.texts[name]; ok {
			return apperr.Errorf(apperr.Invalid, "文件 %s 上传了不止一次", name)
		}
		return nil
	}
	for field, headers := range form.File {
		for _, h := range headers {
			name := field
			if !known[name] && h.Filename != "" {
				name = h.Filename
			}
			if err := taken(name); err != nil {
				return nil, err
			}
			src.files[name] = h
		}
	}
	for field, values := range form.Value {
		for _, v := range values {
			if err := taken(field); err != nil {
				return nil, err
			}
			src.texts[field] = v
		}
	}
	return src, nil
}

func (p *partSource) Names() ([]string, error) {
	out := make([]string, 0, len(p.files)+len(p.texts))
	for n := range p.files {
		out = append(out, n)
	}
	for n := range p.texts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (p *partSource) Open(name string) (io.ReadCloser, error) {
	if h, ok := p.files[name]; ok {
		return h.Open()
	}
	if t, ok := p.texts[name]; ok {
		return io.NopCloser(strings.NewReader(t)), nil
	}
	return nil, errors.New("no part " + name)
}
