package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// worklist is the tablet's day in one answer: the follow-ups due (the
// answer of GET /followups/due with the same query) and each listed
// resident's record (GET /records/{id}), so that a slow link pays one round
// trip instead of one per resident. Every part is served by its own route
// through the whole handler chain (as a batch's items are), so each record
// passes the gate and is logged as a read exactly as if fetched alone; a
// record refused answers its own status inside the list.
func (s *Server) worklist(c *gin.Context) {
	ctx := context.WithoutCancel(c.Request.Context())
	q := c.Request.URL.Query()
	if q.Get("per_page") == "" {
		q.Set("per_page", "500")
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
	type part struct {
		RecordID string          `json:"record_id"`
		Status   int             `json:"status"`
		Body     json.RawMessage `json:"body"`
	}
	records := []part{}
	seen := map[string]bool{}
	for _, it := range list.Items {
		if seen[it.RecordID] {
			continue
		}
		seen[it.RecordID] = true
		w := s.serveInner(s.subRequest(ctx, c.Request, http.MethodGet, "/api/v1/records/"+url.PathEscape(it.RecordID), nil))
		records = append(records, part{RecordID: it.RecordID, Status: w.status, Body: w.body.Bytes()})
	}
	compressedJSON(c, http.StatusOK, gin.H{"due": json.RawMessage(due.body.Bytes()), "records": records})
}
