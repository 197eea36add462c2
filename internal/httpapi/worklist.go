package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/ident"
)

// syncKey marks the inner requests of a worklist (a sync to a device): the
// due list and each record then log one "sync" row per record under the
// worklist's path, instead of reads (access.Gate.SyncSections). Its value
// is the worklist's path. Only Go code sets it: no client can.
type syncKey struct{}

// syncPath returns the worklist's path when the request is part of a sync.
func syncPath(ctx context.Context) (string, bool) {
	p, ok := ctx.Value(syncKey{}).(string)
	return p, ok
}

// maxWorklistRecords bounds ?records=, as per_page bounds the list.
const maxWorklistRecords = 500

// worklist is the tablet's day in one answer: the follow-ups due (the
// answer of GET /followups/due with the same query) and the listed
// residents' records (GET /records/{id}), so that a slow link pays one
// round trip instead of one per resident. Every part is served by its own
// route through the whole handler chain (as a batch's items are), so each
// record passes the gate; a record refused answers its own status.
//
// Delta sync: the answer's cursor, sent back as ?since=, leaves out the
// records nothing changed since (a snapshot, postgres.SyncCursor); ?records= names
// listed residents the device lacks (new on its list), sent whatever
// since says. Each listed record is logged once per sync, as a sync: its
// record when sent, else its summary.
func (s *Server) worklist(c *gin.Context) {
	q := c.Request.URL.Query()
	p := principal(c)
	binding := syncBinding(p)
	var fe apperr.FieldErrors
	since, delta := "", false
	if v := q.Get("since"); v != "" {
		snap, bound, ok := parseCursor(v)
		if !ok {
			fe.Add("since", "不是本接口给出的同步游标")
		} else if bound == binding {
			// A cursor of another person, or of the same person before
			// their roles or villages changed, starts over: what they may
			// see is not what was sent.
			since, delta = snap, true
		}
	}
	want := map[string]bool{}
	if v := q.Get("records"); v != "" {
		ids := strings.Split(v, ",")
		if len(ids) > maxWorklistRecords {
			fe.Add("records", "最多 "+strconv.Itoa(maxWorklistRecords)+" 个档案编号")
		}
		for _, id := range ids {
			if _, err := ident.ParseRecordID(id); err != nil {
				fe.Add("records", "档案编号 "+id+" 应为 16 位数字（12 位村居代码 + 4 位序号）")
				break
			}
			want[id] = true
		}
	}
	if err := fe.Err(); err != nil {
		c.Error(err)
		return
	}
	q.Del("since")
	q.Del("records")
	if q.Get("per_page") == "" {
		q.Set("per_page", "500")
	}
	path := c.Request.URL.Path
	ctx := context.WithValue(context.WithoutCancel(c.Request.Context()), syncKey{}, path)
	// The cursor before anything is read: see SyncCursor.
	cursor, err := s.db.SyncCursor(ctx)
	if err != nil {
		c.Error(err)
		return
	}
	due := s.serveInner(s.subRequest(ctx, c.Request, http.MethodGet, "/api/v1/followups/due?"+q.Encode(), nil))
	// A due list read from the replica says how current it is.
	if v := due.header.Get(HeaderDataAsOf); v != "" {
		c.Header(HeaderDataAsOf, v)
	}
	if due.status != http.StatusOK {
		c.Data(due.status, "application/json; charset=utf-8", due.body.Bytes())
		return
	}
	var list struct {
		Items []struct {
			RecordID string `json:"record_id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(due.body.Bytes(), &list); err != nil {
		c.Error(err)
		return
	}
	var ids []string
	for _, it := range list.Items {
		if !slices.Contains(ids, it.RecordID) {
			ids = append(ids, it.RecordID)
		}
	}
	send := map[string]bool{}
	if delta {
		if send, err = s.db.ChangedSince(ctx, ids, since); err != nil {
			c.Error(err)
			return
		}
	}
	type part struct {
		RecordID string          `json:"record_id"`
		Status   int             `json:"status"`
		Body     json.RawMessage `json:"body"`
	}
	records := []part{}
	var summaries []string
	for _, id := range ids {
		if delta && !send[id] && !want[id] {
			summaries = append(summaries, id)
			continue
		}
		w := s.serveInner(s.subRequest(ctx, c.Request, http.MethodGet, "/api/v1/records/"+url.PathEscape(id), nil))
		if w.status != http.StatusOK {
			// A record refused logged its own denial; its summary went.
			summaries = append(summaries, id)
		}
		records = append(records, part{RecordID: id, Status: w.status, Body: w.body.Bytes()})
	}
	if err := s.gate.LogSynced(ctx, p, summaries, c.Request.Method, path); err != nil {
		c.Error(err)
		return
	}
	compressedJSON(c, http.StatusOK, gin.H{"due": json.RawMessage(due.body.Bytes()), "records": records,
		"cursor": formatCursor(cursor, binding), "delta": delta})
}

// A cursor is a binding of who it was issued to and the snapshot
// ("9f86d081884c.8812:8815:8813"): opaque to clients.
func formatCursor(snapshot, binding string) string {
	return binding + "." + snapshot
}

// maxCursor bounds a cursor: a snapshot lists the transactions running when
// it was taken, at most a few hundred.
const maxCursor = 8192

// parseCursor checks a cursor as PostgreSQL checks a pg_snapshot
// (xmin:xmax:xip,…; 0 < xmin <= xip < xmax, ascending), so that a forged
// one is a 400, never a database error.
func parseCursor(v string) (string, string, bool) {
	b, snap, ok := strings.Cut(v, ".")
	if !ok || len(b) != 12 || len(v) > maxCursor {
		return "", "", false
	}
	if _, err := hex.DecodeString(b); err != nil {
		return "", "", false
	}
	parts := strings.Split(snap, ":")
	if len(parts) != 3 {
		return "", "", false
	}
	xmin, err1 := strconv.ParseUint(parts[0], 10, 64)
	xmax, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil || xmin == 0 || xmin > xmax {
		return "", "", false
	}
	if parts[2] != "" {
		last := xmin
		for _, x := range strings.Split(parts[2], ",") {
			n, err := strconv.ParseUint(x, 10, 64)
			if err != nil || n < last || n >= xmax {
				return "", "", false
			}
			last = n
		}
	}
	return snap, b, true
}

// syncBinding names who may see what: the staff code, their roles in each
// domain and their villages. A cursor of another binding is not used.
func syncBinding(p *access.Principal) string {
	villages := slices.Clone(p.Staff.Villages)
	slices.Sort(villages)
	sum := sha256.Sum256([]byte(p.Staff.Code + "\x00" + p.Roles() + "\x00" + strings.Join(villages, ",")))
	return hex.EncodeToString(sum[:6])
}
