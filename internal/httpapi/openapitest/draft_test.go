package openapitest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2/util"
	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/postgres/pgtest"
)

// TestDraft drafts the parts of the OpenAPI document from the exchanges the
// tests made (HEALTHREC_OPENAPI_RECORD) when HEALTHREC_OPENAPI_DRAFT names
// that file: the routes, their roles from policies/policy.csv, the
// parameters and the shapes of bodies and answers the tests saw. The draft
// is then read and edited by hand (descriptions, rules); it is a starting
// point for a new route, never a way to make a failing test pass unread.
func TestDraft(t *testing.T) {
	file := os.Getenv("HEALTHREC_OPENAPI_DRAFT")
	if file == "" {
		t.Skip("HEALTHREC_OPENAPI_DRAFT not set")
	}
	db := pgtest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	eng := httpapi.New(db, gate, log, httpapi.Config{}).Handler().(*gin.Engine)
	var routes []gin.RouteInfo
	for _, r := range eng.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			routes = append(routes, r)
		}
	}
	pol := readPolicy(t, "../../../policies/policy.csv")

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type sample struct {
		Method      string              `json:"method"`
		Path        string              `json:"path"`
		Query       map[string][]string `json:"query"`
		Idempotency bool                `json:"idempotency"`
		ReqCT       string              `json:"req_ct"`
		ReqBody     json.RawMessage     `json:"req_body"`
		Status      int                 `json:"status"`
		RespCT      string              `json:"resp_ct"`
		RespBody    json.RawMessage     `json:"resp_body"`
		ReqLen      int                 `json:"req_len"`
	}
	type op struct {
		samples []sample
	}
	ops := map[string]*op{}
	errSchema := &sch{}
	codes := map[string]bool{"invalid": true, "unauthorized": true, "forbidden": true, "not_found": true, "conflict": true,
		"unavailable": true, "internal": true, "method_not_allowed": true}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<20), 64<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			continue
		}
		tpl := match(routes, s.Method, s.Path)
		if tpl == "" {
			continue
		}
		k := s.Method + " " + tpl
		if ops[k] == nil {
			ops[k] = &op{}
		}
		ops[k].samples = append(ops[k].samples, s)
		if s.Status >= 400 && len(s.RespBody) > 0 {
			var v map[string]any
			_ = json.Unmarshal(s.RespBody, &v)
			if _, ok := v["error"]; ok && len(v) == 1 {
				errSchema.add(v)
				if e, ok := v["error"].(map[string]any); ok {
					codes[fmt.Sprint(e["code"])] = true
				}
			}
		}
	}

	paths := map[string]map[string]any{}
	for _, r := range routes {
		oapath := regexp.MustCompile(`:([a-z_]+)`).ReplaceAllString(strings.TrimPrefix(r.Path, "/api/v1"), "{$1}")
		if paths[oapath] == nil {
			paths[oapath] = map[string]any{}
		}
		o := map[string]any{"operationId": opID(r.Method, oapath), "summary": r.Method + " " + oapath}
		if sum := summaries[r.Method+" "+strings.TrimPrefix(r.Path, "/api/v1")]; sum != "" {
			o["summary"] = sum
		} else if m := regexp.MustCompile(`^/api/v1/records/:id/([a-z]+)(/:eid)?$`).FindStringSubmatch(r.Path); m != nil {
			switch {
			case m[2] != "":
				o["summary"] = "One " + strings.TrimSuffix(m[1], "s") + " (the Location of a create)"
			case r.Method == "GET":
				o["summary"] = "A record's " + m[1] + ", newest first"
			default:
				o["summary"] = "Record a " + strings.TrimSuffix(m[1], "s") + " (service entry)"
			}
		}
		roles := pol.roles(r.Path, r.Method)
		switch r.Path {
		case "/api/v1/login", "/api/v1/openapi.json":
			roles = []string{"anyone"}
			o["security"] = []any{}
		}
		o["x-roles"] = roles
		var params []any
		for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(oapath, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		query := map[string]bool{}
		idem := false
		req := &sch{}
		var reqCT string
		otherCT := map[string]bool{}
		noBody := false
		resp := map[int]map[string]*sch{}
		// An error answer with more than the error (an import's report of
		// bad rows) is that route's own answer for its status.
		failures := map[int][]map[string]any{}
		own := map[int]bool{}
		if o2 := ops[r.Method+" "+r.Path]; o2 != nil {
			for _, s := range o2.samples {
				if s.Status/100 != 2 {
					var v map[string]any
					if json.Unmarshal(s.RespBody, &v) == nil && v != nil {
						failures[s.Status] = append(failures[s.Status], v)
						if _, ok := v["error"]; !ok || len(v) > 1 {
							own[s.Status] = true
						}
					}
					continue
				}
				for q := range s.Query {
					query[q] = true
				}
				idem = idem || s.Idempotency
				rct, _, _ := strings.Cut(s.ReqCT, ";")
				switch {
				case strings.HasPrefix(rct, "multipart/"):
					reqCT = "multipart/form-data"
				case len(s.ReqBody) > 0 && string(s.ReqBody) != "null":
					var v any
					_ = json.Unmarshal(s.ReqBody, &v)
					req.add(v)
					reqCT = "application/json"
				case s.ReqLen > 0:
					otherCT[rct] = true
				default:
					noBody = true
				}
				if resp[s.Status] == nil {
					resp[s.Status] = map[string]*sch{}
				}
				ct, _, _ := strings.Cut(s.RespCT, ";")
				if resp[s.Status][ct] == nil {
					resp[s.Status][ct] = &sch{}
				}
				if len(s.RespBody) > 0 && ct == "application/json" {
					var v any
					_ = json.Unmarshal(s.RespBody, &v)
					resp[s.Status][ct].add(v)
				}
			}
		}
		for st := range own {
			resp[st] = map[string]*sch{"application/json": {}}
			for _, v := range failures[st] {
				resp[st]["application/json"].add(v)
			}
		}
		for _, q := range slices.Sorted(mapKeys(query)) {
			typ := "string"
			if q == "page" || q == "per_page" {
				typ = "integer"
			}
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": typ}})
		}
		var notes []string
		paged := false
		for _, cts := range resp {
			if j := cts["application/json"]; j != nil && j.props != nil && j.props["items"] != nil && j.props["total"] != nil && j.props["per_page"] != nil {
				paged = true
			}
		}
		if paged {
			for _, q := range []string{"page", "per_page"} {
				if !query[q] {
					params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "integer"}})
				}
			}
			notes = append(notes, "A list: `?page=` (from 1) and `?per_page=` (default 50, at most 500); the answer carries `items`, `total`, `page`, `per_page`.")
		}
		if idem {
			params = append(params, map[string]any{"$ref": "#/components/parameters/IdempotencyKey"})
			notes = append(notes, "Honours `Idempotency-Key`: the same key and body again answers 200 with the first result; the same key with another body 409.")
		}
		notes = append(notes, "Roles: "+strings.Join(roles, ", ")+".")
		o["description"] = strings.Join(notes, "\n\n")
		if len(params) > 0 {
			o["parameters"] = params
		}
		content := map[string]any{}
		for ct := range otherCT {
			content[ct] = map[string]any{"schema": map[string]any{"type": "string"}}
		}
		switch reqCT {
		case "application/json":
			content["application/json"] = map[string]any{"schema": req.out(false)}
			o["requestBody"] = map[string]any{"required": !noBody, "content": content}
		case "multipart/form-data":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{
				"schema": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string", "format": "binary"}}}}}
		default:
			if len(content) > 0 {
				o["requestBody"] = map[string]any{"required": true, "content": content}
			}
		}
		responses := map[string]any{"default": map[string]any{"$ref": "#/components/responses/Error"}}
		for st, cts := range resp {
			d := map[string]any{"description": statusText(st)}
			content := map[string]any{}
			for ct, s := range cts {
				switch {
				case st == 204 || ct == "":
				case ct == "application/json":
					content[ct] = map[string]any{"schema": s.out(true)}
				default:
					content[ct] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
				}
			}
			if len(content) > 0 {
				d["content"] = content
			}
			responses[fmt.Sprint(st)] = d
		}
		if len(resp) == 0 {
			if hand, ok := byHand[r.Method+" "+strings.TrimPrefix(r.Path, "/api/v1")]; ok {
				st, schema := "200", hand.answer
				if r.Method == "POST" {
					st = "201"
				}
				responses[st] = map[string]any{"description": statusText(map[string]int{"200": 200, "201": 201}[st]),
					"content": map[string]any{"application/json": map[string]any{"schema": schema}}}
				if hand.body != nil {
					o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": hand.body}}}
				}
			} else {
				responses["200"] = map[string]any{"description": "OK (no test calls it successfully yet)", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{}}}}
			}
		}
		o["responses"] = responses
		paths[oapath][strings.ToLower(r.Method)] = o
	}
	doc := map[string]any{
		"openapi":  "3.0.3",
		"info":     map[string]any{"title": "healthrec", "version": "1"},
		"servers":  []any{map[string]any{"url": "/api/v1"}},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}},
		"components": map[string]any{
			"schemas": map[string]any{"Error": withCodes(errSchema.out(true), codes)},
			"responses": map[string]any{"Error": map[string]any{"description": "An error in the API's one shape",
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}},
			"parameters": map[string]any{"IdempotencyKey": map[string]any{"name": "Idempotency-Key", "in": "header",
				"schema": map[string]any{"type": "string"}}},
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "healthrec_session"},
			},
		},
	}
	out, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(file+".draft.json", out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func statusText(st int) string {
	switch st {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 204:
		return "No content"
	}
	return fmt.Sprint(st)
}

func opID(method, path string) string {
	s := strings.ToLower(method) + regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(path, "_")
	return strings.TrimRight(s, "_")
}

// match finds the gin route of a path: the one with the most literal
// segments that fits.
func match(routes []gin.RouteInfo, method, path string) string {
	best, bestLit := "", -1
	segs := strings.Split(path, "/")
	for _, r := range routes {
		if r.Method != method {
			continue
		}
		rs := strings.Split(r.Path, "/")
		if len(rs) != len(segs) {
			continue
		}
		lit, ok := 0, true
		for i := range rs {
			if strings.HasPrefix(rs[i], ":") {
				continue
			}
			if rs[i] != segs[i] {
				ok = false
				break
			}
			lit++
		}
		if ok && lit > bestLit {
			best, bestLit = r.Path, lit
		}
	}
	return best
}

type policy [][4]string

func readPolicy(t *testing.T, file string) policy {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "p,") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 5 {
			continue
		}
		p = append(p, [4]string{strings.TrimSpace(f[1]), strings.TrimSpace(f[2]), strings.TrimSpace(f[3]), strings.TrimSpace(f[4])})
	}
	return p
}

func (p policy) roles(path, method string) []string {
	var out []string
	for _, r := range p {
		if !strings.HasPrefix(r[2], "/api/") {
			continue
		}
		if util.KeyMatch2(path, r[2]) && regexp.MustCompile("^"+r[3]+"$").MatchString(method) {
			role := r[0]
			if role == "*" {
				role = "any signed-in staff"
			}
			if !slices.Contains(out, role) {
				out = append(out, role)
			}
		}
	}
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// sch is a schema inferred from sample values.
type sch struct {
	types    map[string]bool
	nullable bool
	props    map[string]*sch
	seen     int
	present  map[string]int
	items    *sch
	mapVals  *sch
}

var ident = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func (s *sch) add(v any) {
	if s.types == nil {
		s.types = map[string]bool{}
	}
	switch x := v.(type) {
	case nil:
		s.nullable = true
	case bool:
		s.types["boolean"] = true
	case float64:
		s.types["number"] = true
	case string:
		s.types["string"] = true
	case []any:
		s.types["array"] = true
		if s.items == nil {
			s.items = &sch{}
		}
		for _, e := range x {
			s.items.add(e)
		}
	case map[string]any:
		s.types["object"] = true
		dyn := false
		for k := range x {
			if !ident.MatchString(k) {
				dyn = true
			}
		}
		if dyn {
			if s.mapVals == nil {
				s.mapVals = &sch{}
			}
			for _, e := range x {
				s.mapVals.add(e)
			}
			return
		}
		if s.props == nil {
			s.props = map[string]*sch{}
			s.present = map[string]int{}
		}
		s.seen++
		for k, e := range x {
			if s.props[k] == nil {
				s.props[k] = &sch{}
			}
			s.props[k].add(e)
			s.present[k]++
		}
	}
}

// freeForm are members whose content is the client's own (record details).
var freeForm = map[string]bool{"details": true, "before": true, "after": true, "changes": true}

func (s *sch) out(required bool) map[string]any {
	m := map[string]any{}
	if s.nullable {
		m["nullable"] = true
	}
	if len(s.types) != 1 {
		return m // none seen, or several kinds: any value
	}
	var typ string
	for k := range s.types {
		typ = k
	}
	m["type"] = typ
	switch typ {
	case "array":
		if s.items != nil && len(s.items.types) > 0 {
			m["items"] = s.items.out(required)
		} else {
			m["items"] = map[string]any{}
		}
	case "object":
		if s.mapVals != nil && s.props == nil {
			m["additionalProperties"] = s.mapVals.out(required)
			return m
		}
		if s.mapVals != nil {
			return m // both shapes seen: leave it open
		}
		props := map[string]any{}
		var req []string
		for k, p := range s.props {
			if freeForm[k] {
				o := map[string]any{}
				if p.nullable {
					o["nullable"] = true
				}
				props[k] = o
			} else {
				props[k] = p.out(required)
			}
			if required && s.present[k] == s.seen {
				req = append(req, k)
			}
		}
		m["properties"] = props
		m["additionalProperties"] = false
		if len(req) > 0 {
			sort.Strings(req)
			m["required"] = req
		}
	}
	return m
}

const infoText = `The JSON API of the community health-record service: records, service entries, the
accountability rates and cases. Paths are under /api/v1.

**Conventions.** JSON in and out, UTF-8, snake_case members. Dates YYYY-MM-DD, instants
RFC 3339. A request body with a member the route does not know is a 400 naming it.

**Signing in.** POST /login {"staff_code","password"} answers a token; API clients send
Authorization: Bearer <token>. Browsers use the session cookie, and then must send the
session's csrf_token (from /login or GET /me) as X-CSRF-Token on POST, PUT, PATCH and DELETE.

**Roles.** Each operation's x-roles lists the roles that may call it (policies/policy.csv).
Calls on a record are further decided per record and section (the caller's institution,
villages or consent grant); a refusal is 403 and is written to the record's access log, as
is every allowed read and write.

**Errors.** Every error has one shape (components.schemas.Error):
{"error":{"code":"invalid|unauthorized|forbidden|not_found|conflict|unavailable|internal","message":"…",
"fields":[{"field":"…","reason":"…"}]}} with 400 / 401 / 403 / 404 / 409 / 503 / 500 (also 405
method_not_allowed and 429 for a locked-out login). A 409 for a duplicate identity number
may carry existing_record_id; a 409 for an illegal transition carries state.

**Lists.** ?page= (from 1) and ?per_page= (default 50, at most 500) answer
{"items":[…],"total":N,"page":1,"per_page":50}.

**Creates and idempotency.** Creates answer 201 with the created object and a Location
header. Creates of exams, service entries and enrolments honour an Idempotency-Key header:
the same key with the same body answers 200 with the first result (also when both arrive at
once); the same key with another body is a 409. Keys belong to the caller. POST /batch
carries up to 200 such creates, each with its own key, each answered on its own.`

func withCodes(m map[string]any, codes map[string]bool) map[string]any {
	e := m["properties"].(map[string]any)["error"].(map[string]any)
	e["properties"].(map[string]any)["code"] = map[string]any{"type": "string", "enum": slices.Sorted(mapKeys(codes))}
	return m
}

// obj is a closed object schema of string members (those named in req required).
func obj(members map[string]string, req ...string) map[string]any {
	props := map[string]any{}
	for k, t := range members {
		props[k] = map[string]any{"type": t}
	}
	m := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(req) > 0 {
		m["required"] = req
	}
	return m
}

func page(item map[string]any) map[string]any {
	return map[string]any{"type": "object", "additionalProperties": false, "required": []string{"items", "total", "page", "per_page"},
		"properties": map[string]any{"items": map[string]any{"type": "array", "items": item}, "total": map[string]any{"type": "number"},
			"page": map[string]any{"type": "number"}, "per_page": map[string]any{"type": "number"}}}
}

// byHand are the shapes of routes no test calls successfully, written from
// their Go types (internal/region).
var byHand = map[string]struct{ body, answer map[string]any }{
	"POST /institutions": {obj(map[string]string{"code": "string", "name": "string", "county_code": "string"}, "code", "name", "county_code"),
		obj(map[string]string{"code": "string", "name": "string", "county_code": "string"}, "code", "name", "county_code")},
	"GET /regions/:code": {nil, obj(map[string]string{"code": "string", "name": "string", "level": "string", "parent_code": "string",
		"institution_code": "string", "class": "string", "class_name": "string"}, "code", "name", "level")},
	"GET /villages/:code/populations": {nil, page(obj(map[string]string{"village_code": "string", "year": "number", "population": "number"}, "village_code", "year", "population"))},
	"GET /villages/:code/responsibilities": {nil, page(obj(map[string]string{"village_code": "string", "staff_code": "string", "from_date": "string",
		"staff_name": "string"}, "village_code", "staff_code", "from_date"))},
	"POST /villages/:code/responsibilities": {obj(map[string]string{"staff_code": "string", "from_date": "string"}, "staff_code", "from_date"),
		obj(map[string]string{"village_code": "string", "staff_code": "string", "from_date": "string", "staff_name": "string"}, "village_code", "staff_code", "from_date")},
}
