package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/httpapi/openapitest"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is a running server over a fresh database with the fixture county.
type env struct {
	t   *testing.T
	db  *postgres.DB
	f   *pgtest.Fixture
	srv *httptest.Server
	// engine is the server's router; srv holds it to the OpenAPI document.
	engine *gin.Engine
	// now is the server's clock.
	now time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.NewDB(t)
	e := &env{t: t, db: db, f: pgtest.NewFixture(t, db), now: time.Now()}
	db.Now = func() time.Time { return e.now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	e.engine = httpapi.New(db, gate, log, httpapi.Config{}).Handler().(*gin.Engine)
	e.srv = httptest.NewServer(openapitest.Wrap(t, e.engine))
	t.Cleanup(e.srv.Close)
	return e
}

// client is a signed-in API client using a bearer token.
type client struct {
	e     *env
	token string
}

func (e *env) login(code string) *client {
	e.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if st := e.anon().do("POST", "/api/v1/login", map[string]string{"staff_code": code, "password": pgtest.Password}, &out); st != 200 {
		e.t.Fatalf("login %s: status %d", code, st)
	}
	return &client{e: e, token: out.Token}
}

func (e *env) anon() *client { return &client{e: e} }

// response is a decoded JSON answer.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// req sends a request with an optional JSON body (a string is sent as is).
func (c *client) req(method, path string, body any, headers ...string) response {
	c.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	r, _ := http.NewRequest(method, c.e.srv.URL+path, rd)
	r.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// do sends a request and decodes the answer into out.
func (c *client) do(method, path string, body, out any) int {
	c.e.t.Helper()
	r := c.req(method, path, body)
	if out != nil {
		_ = json.Unmarshal(r.Raw, out)
	}
	return r.Status
}

// errField returns the first field error's field name.
func (r response) errField() string {
	e, _ := r.Body["error"].(map[string]any)
	fields, _ := e["fields"].([]any)
	if len(fields) == 0 {
		return ""
	}
	f, _ := fields[0].(map[string]any)
	s, _ := f["field"].(string)
	return s
}

// errMessage returns the error's message.
func (r response) errMessage() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func (r response) errCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// fileRecord files a record through the API as the given client.
func (c *client) fileRecord(village, name string, extra map[string]any) string {
	c.e.t.Helper()
	body := map[string]any{"village_code": village, "name": name, "sex": "F", "birth_date": "1955-03-08",
		"residence_type": "户籍", "ethnicity": "汉族", "phone": "13912345678"}
	// The personal basic information table answered, as a doctor files it
	// (quality rules Q12–Q15); extra may leave items unrecorded (bareTable).
	table, _ := json.Marshal(record.AnsweredBasicInfo())
	_ = json.Unmarshal(table, &body)
	for k, v := range extra {
		body[k] = v
	}
	r := c.req("POST", "/api/v1/records", body)
	if r.Status != 201 {
		c.e.t.Fatalf("file record: %d %s", r.Status, r.Raw)
	}
	return r.Body["record_id"].(string)
}

// bareTable leaves every item of the personal basic information table
// unrecorded, for fileRecord's extra.
func bareTable() map[string]any {
	out := map[string]any{}
	table, _ := json.Marshal(record.BasicInfo{})
	_ = json.Unmarshal(table, &out)
	return out
}
