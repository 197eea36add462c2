// Package openapitest holds the API to its OpenAPI document in tests: Wrap
// puts a validating handler in front of a test server, so that every
// request the API and browser tests make, and every answer, is checked
// against the document the server publishes (GET /api/v1/openapi.json). A
// route, a parameter or a field the document lacks fails the test. It is
// imported by tests only.
package openapitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"healthrec/internal/httpapi"
)

// Validator checks requests and answers against a document.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	once    sync.Once
	shared  *Validator
	loadErr error
)

// Load parses an OpenAPI document and checks it is valid OpenAPI 3.
func Load(data []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi document invalid: %w", err)
	}
	// The document's server is a path ("/api/v1"); the router matches
	// requests of any host.
	doc.Servers = openapi3.Servers{{URL: "/api/v1"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Validator{doc: doc, router: r}, nil
}

// Published is the validator of the document the server publishes.
func Published() (*Validator, error) {
	once.Do(func() { shared, loadErr = Load(httpapi.OpenAPI()) })
	return shared, loadErr
}

func init() {
	for _, ct := range []string{"application/pdf", "text/html", "image/png"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	// CSV answers are documents, not tables to validate cell by cell.
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
}

// Wrap validates every exchange with h under /api/v1 against the published
// document and reports a mismatch as a test error. With
// HEALTHREC_OPENAPI_RECORD=file it appends the exchanges to file instead
// (to draft a document's new parts from what the tests send).
func Wrap(tb testing.TB, h http.Handler) http.Handler {
	rec := os.Getenv("HEALTHREC_OPENAPI_RECORD")
	var v *Validator
	if rec == "" {
		var err error
		if v, err = Published(); err != nil {
			tb.Fatal(err)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, r)
		res := rw.Result()
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(rw.Body.Bytes())

		out := rw.Body.Bytes()
		if res.Header.Get("Content-Encoding") == "gzip" {
			if zr, err := gzip.NewReader(bytes.NewReader(out)); err == nil {
				out, _ = io.ReadAll(zr)
			}
		}
		ex := Exchange{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(),
			ReqBody: body, Status: res.StatusCode, RespHeader: res.Header, RespBody: out}
		if rec != "" {
			record(rec, ex)
			return
		}
		defer func() {
			if p := recover(); p != nil {
				tb.Errorf("openapi: %s %s → %d: the validator failed: %v", r.Method, r.URL.RequestURI(), res.StatusCode, p)
			}
		}()
		if err := v.Check(ex); err != nil {
			tb.Errorf("openapi: %s %s → %d: %v", r.Method, r.URL.RequestURI(), res.StatusCode, err)
		}
	})
}

// Exchange is one request and its answer.
type Exchange struct {
	Method     string
	Path       string
	Query      map[string][]string
	Header     http.Header
	ReqBody    []byte
	Status     int
	RespHeader http.Header
	RespBody   []byte
}

// notARoute is the router's own answer to a path or method it does not
// serve: such a request needs no document.
func notARoute(ex Exchange) bool {
	if ex.Status == http.StatusMethodNotAllowed {
		return true
	}
	return ex.Status == http.StatusNotFound && bytes.Contains(ex.RespBody, []byte(`"没有这个接口"`))
}

// Check validates one exchange. The answer is always checked. The request
// is checked when the server accepted it (2xx): a refused request may well
// break the document (tests send bad input on purpose), an accepted one
// may not — the server took a field or parameter that is not documented.
func (v *Validator) Check(ex Exchange) error {
	if notARoute(ex) {
		return nil
	}
	u := ex.Path
	if q := encodeQuery(ex.Query); q != "" {
		u += "?" + q
	}
	req, err := http.NewRequest(ex.Method, u, bytes.NewReader(ex.ReqBody))
	if err != nil {
		return err
	}
	req.Header = ex.Header.Clone()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("route not in the document: %w", err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true,
		MultiError: true, RejectWhenRequestBodyNotSpecified: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if ex.Status/100 == 2 {
		if err := undeclaredQuery(route.Operation, route.PathItem, ex.Query); err != nil {
			return err
		}
		if strings.HasPrefix(req.Header.Get("Content-Type"), "multipart/") {
			opts.ExcludeRequestBody = true
		}
		if len(ex.ReqBody) == 0 {
			req.Header.Del("Content-Type")
		}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Errorf("request: %w", err)
		}
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(ex.ReqBody))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: ex.Status, Header: ex.RespHeader, Options: opts}
	out.SetBodyBytes(ex.RespBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	return nil
}

// undeclaredQuery reports query parameters the operation does not declare:
// kin-openapi lets them pass, the document's readers would not know them.
func undeclaredQuery(op *openapi3.Operation, item *openapi3.PathItem, q map[string][]string) error {
	declared := map[string]bool{}
	for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == "query" {
				declared[p.Value.Name] = true
			}
		}
	}
	for k := range q {
		if !declared[k] {
			return fmt.Errorf("query parameter %q not in the document", k)
		}
	}
	return nil
}

func encodeQuery(q map[string][]string) string {
	var b strings.Builder
	for k, vs := range q {
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(urlEscape(k) + "=" + urlEscape(v))
		}
	}
	return b.String()
}

var recordMu sync.Mutex

func record(file string, ex Exchange) {
	recordMu.Lock()
	defer recordMu.Unlock()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	line, _ := json.Marshal(map[string]any{"method": ex.Method, "path": ex.Path, "query": ex.Query,
		"idempotency": ex.Header.Get("Idempotency-Key") != "", "req_ct": ex.Header.Get("Content-Type"), "req_body": jsonOrNil(ex.ReqBody), "req_len": len(ex.ReqBody),
		"status": ex.Status, "resp_ct": ex.RespHeader.Get("Content-Type"), "resp_body": jsonOrNil(ex.RespBody)})
	_, _ = f.Write(append(line, '\n'))
}

func jsonOrNil(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	return nil
}

func urlEscape(s string) string { return url.QueryEscape(s) }
