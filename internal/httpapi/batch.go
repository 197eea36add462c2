package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
)

// maxBatch is the most entries one batch carries (DESIGN §10 extension for
// the tablet's outbox); maxBatchBody bounds its body: 200 entries of a few
// kilobytes each.
const (
	maxBatch     = 200
	maxBatchBody = 8 << 20
	// batchWorkers is how many records' items a batch serves at once.
	batchWorkers = 4
)

// batchKinds are the record sub-resources a batch may create.
var batchKinds = []string{"visits", "referrals", "followups", "consultations", "hospitalisations", "exams",
	"child_visits", "maternal_visits", "elderly_checks"}

// batchItem is one entry of a batch: what a single create would have
// carried in its path, its Idempotency-Key header and its body.
type batchItem struct {
	RecordID       string          `json:"record_id"`
	Kind           string          `json:"kind"`
	IdempotencyKey string          `json:"idempotency_key"`
	Body           json.RawMessage `json:"body"`
}

// batchResult is the answer a single request would have had.
type batchResult struct {
	Status   int             `json:"status"`
	Location string          `json:"location,omitempty"`
	Body     json.RawMessage `json:"body"`
}

// batch creates up to maxBatch entries of any kinds in one request: a tablet
// on a slow link pays one round trip instead of one per entry. Each item is
// served by the very route it would have been sent to alone — a request
// dispatched through the same handler chain with the caller's credentials —
// so it is authenticated, passes the gate, is audited and honours its
// idempotency key exactly as a single request, and answers on its own: one
// bad entry never blocks the others.
func (s *Server) batch(c *gin.Context) {
	var in struct {
		Items []json.RawMessage `json:"items"`
	}
	var raw map[string]json.RawMessage
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBatchBody))
	if err == nil {
		err = json.Unmarshal(body, &raw)
	}
	if err != nil {
		err = jsonError(err)
	} else if raw == nil {
		err = &apperr.Error{Code: apperr.Invalid, Message: "请求体应为 JSON 对象"}
	} else {
		err = decodeInto(raw, &in)
	}
	switch {
	case err != nil:
	case in.Items == nil:
		err = apperr.InvalidField("items", "缺少 items")
	case len(in.Items) == 0:
		err = apperr.InvalidField("items", "items 不能为空")
	case len(in.Items) > maxBatch:
		err = apperr.InvalidField("items", fmt.Sprintf("一次最多 %d 条，收到 %d 条", maxBatch, len(in.Items)))
	}
	if err != nil {
		c.Error(err)
		return
	}
	// A batch that has arrived is carried out whole, also when the client
	// goes away meanwhile: its retry then finds every item done (replays).
	ctx := context.WithoutCancel(c.Request.Context())
	out := make([]batchResult, len(in.Items))
	// One record's items run in their order, one after another (a later
	// follow-up sees the earlier one); different records' run side by
	// side, since most of an item's time is waiting on the database.
	var order []string
	groups := map[string][]int{}
	for i, rawItem := range in.Items {
		var head struct {
			RecordID string `json:"record_id"`
		}
		_ = json.Unmarshal(rawItem, &head)
		if _, ok := groups[head.RecordID]; !ok {
			order = append(order, head.RecordID)
		}
		groups[head.RecordID] = append(groups[head.RecordID], i)
	}
	work := make(chan []int)
	var wg sync.WaitGroup
	for range min(batchWorkers, len(order)) {
		wg.Go(func() {
			for g := range work {
				for _, i := range g {
					out[i] = s.batchOne(ctx, c.Request, i, in.Items[i])
				}
			}
		})
	}
	for _, id := range order {
		work <- groups[id]
	}
	close(work)
	wg.Wait()
	compressedJSON(c, http.StatusOK, gin.H{"items": out})
}

// batchOne serves one item, or answers its own 400 when the item does not
// say what to create.
func (s *Server) batchOne(ctx context.Context, outer *http.Request, i int, raw json.RawMessage) batchResult {
	var it batchItem
	field := func(f string) string { return "items[" + strconv.Itoa(i) + "]." + f }
	var fe apperr.FieldErrors
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil || json.Unmarshal(raw, &it) != nil {
		fe.Add("items["+strconv.Itoa(i)+"]", "应为 JSON 对象 {record_id, kind, idempotency_key, body}")
	} else {
		for k := range members {
			if !slices.Contains([]string{"record_id", "kind", "idempotency_key", "body"}, k) {
				fe.Add(field(k), "未知字段")
			}
		}
		if it.RecordID == "" {
			fe.Add(field("record_id"), "缺少档案编号")
		}
		if !slices.Contains(batchKinds, it.Kind) {
			fe.Add(field("kind"), "应为 visits、referrals、followups、consultations、hospitalisations 或 exams")
		}
		if len(bytes.TrimSpace(it.Body)) == 0 || bytes.Equal(bytes.TrimSpace(it.Body), []byte("null")) {
			fe.Add(field("body"), "缺少 body")
		}
	}
	if err := fe.Err(); err != nil {
		e, _ := apperr.As(err)
		return batchResult{Status: http.StatusBadRequest, Body: errorJSON(e)}
	}
	path := "/api/v1/records/" + url.PathEscape(it.RecordID) + "/" + it.Kind
	r := s.subRequest(ctx, outer, http.MethodPost, path, it.Body)
	if it.IdempotencyKey != "" {
		r.Header.Set("Idempotency-Key", it.IdempotencyKey)
	}
	w := s.serveInner(r)
	return batchResult{Status: w.status, Location: w.header.Get("Location"), Body: w.body.Bytes()}
}

// subRequest is a request on the caller's behalf: their credentials
// (bearer token, or session cookie and CSRF token) and address, so that
// authentication, the gate, the login-free audit attribution and the
// access log see the same caller as for the outer request.
func (s *Server) subRequest(ctx context.Context, outer *http.Request, method, path string, body []byte) *http.Request {
	r, _ := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	for _, h := range []string{"Authorization", "Cookie", csrfHeader, "User-Agent", "X-Forwarded-For", "X-Real-IP", "Accept-Language"} {
		for _, v := range outer.Header.Values(h) {
			r.Header.Add(h, v)
		}
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	r.RemoteAddr = outer.RemoteAddr
	r.Host = outer.Host
	return r
}

// serveInner runs a request through the whole router and keeps its answer.
func (s *Server) serveInner(r *http.Request) *innerWriter {
	w := &innerWriter{header: http.Header{}}
	s.engine.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w
}

// innerWriter records an inner request's answer.
type innerWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *innerWriter) Header() http.Header { return w.header }
func (w *innerWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
func (w *innerWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// errorJSON renders an error in the API's error shape, as writeErrors does.
func errorJSON(e *apperr.Error) json.RawMessage {
	body := map[string]any{"code": e.Code, "message": e.Message}
	if len(e.Fields) > 0 {
		body["fields"] = e.Fields
	}
	for k, v := range e.Extra {
		body[k] = v
	}
	b, _ := json.Marshal(errorBody{Error: body})
	return b
}

// compressedJSON answers v as JSON, gzip-compressed when the client takes
// it (browsers and Go's client do): a batch's or a worklist's answer is
// hundreds of kilobytes of repetitive JSON, most of a slow link's time.
func compressedJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.Error(err)
		return
	}
	c.Header("Vary", "Accept-Encoding")
	if len(b) < 1024 || !acceptsGzip(c.GetHeader("Accept-Encoding")) {
		c.Data(status, "application/json; charset=utf-8", b)
		return
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(b)
	_ = zw.Close()
	c.Header("Content-Encoding", "gzip")
	c.Data(status, "application/json; charset=utf-8", buf.Bytes())
}

func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(name) == "gzip" && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
