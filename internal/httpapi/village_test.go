package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/httpapi"
	"healthrec/internal/httpapi/openapitest"
	"healthrec/internal/httpapi/slowlink"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// village is a server with many enrolled residents in the home-visit
// worker's village, reached directly or through an emulated village link.
type village struct {
	tb        testing.TB
	db        *postgres.DB
	f         *pgtest.Fixture
	srv       *httptest.Server
	proxy     *slowlink.Proxy
	residents []string
}

func newVillage(tb testing.TB, residents int, link slowlink.Link) *village {
	tb.Helper()
	db := pgtest.NewDB(tb)
	v := &village{tb: tb, db: db, f: pgtest.NewFixture(tb, db)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate, err := access.NewGate(db, db.Now, log)
	if err != nil {
		tb.Fatal(err)
	}
	v.srv = httptest.NewServer(openapitest.Wrap(tb, httpapi.New(db, gate, log, httpapi.Config{}).Handler()))
	tb.Cleanup(v.srv.Close)
	v.proxy, err = slowlink.New(strings.TrimPrefix(v.srv.URL, "http://"), link)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(v.proxy.Close)

	// Residents enrolled long ago and never followed up: all due today.
	doc := v.client(v.f.DoctorA, false)
	ids := make([]string, residents)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range work {
				var rec struct {
					RecordID string `json:"record_id"`
				}
				doc.must("POST", "/api/v1/records", map[string]any{"village_code": v.f.VillageA1, "name": fmt.Sprintf("居民%03d", i), "sex": "F",
					"birth_date": "1955-03-08", "residence_type": "户籍", "ethnicity": "汉族", "phone": "13912345678"}, nil, &rec)
				doc.must("POST", "/api/v1/records/"+rec.RecordID+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2020-01-10"}, nil, nil)
				ids[i] = rec.RecordID
			}
		})
	}
	for i := range residents {
		work <- i
	}
	close(work)
	wg.Wait()
	v.residents = ids
	return v
}

// linkClient is an API client as the tablet is: signed in, with its own
// connections (a tablet coming back online opens new ones), through the
// village link or straight to the server.
type linkClient struct {
	v     *village
	base  string
	token string
	http  *http.Client
}

func (v *village) client(staff string, slow bool) *linkClient {
	c := &linkClient{v: v, base: v.srv.URL, http: &http.Client{Transport: &http.Transport{MaxConnsPerHost: 6}}}
	if slow {
		c.base = "http://" + v.proxy.Addr()
	}
	var out struct {
		Token string `json:"token"`
	}
	c.must("POST", "/api/v1/login", map[string]string{"staff_code": staff, "password": pgtest.Password}, nil, &out)
	c.token = out.Token
	return c
}

// fresh drops the client's connections: the next request dials anew.
func (c *linkClient) fresh() {
	c.http.CloseIdleConnections()
}

func (c *linkClient) do(method, path string, body any, headers map[string]string, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %w: %s", method, path, err, raw)
		}
	}
	return res.StatusCode, nil
}

func (c *linkClient) must(method, path string, body any, headers map[string]string, out any) {
	c.v.tb.Helper()
	st, err := c.do(method, path, body, headers, out)
	if err != nil || st/100 != 2 {
		c.v.tb.Fatalf("%s %s: %d %v", method, path, st, err)
	}
}

// followups is one offline round: a follow-up for each resident, each
// with its own idempotency key, as the outbox holds them.
func (v *village) followups(round string) []map[string]any {
	items := make([]map[string]any, len(v.residents))
	for i, id := range v.residents {
		items[i] = map[string]any{"record_id": id, "kind": "followups", "idempotency_key": fmt.Sprintf("tab-%s-%d", round, i),
			"body": followupBody("2024-06-01", "")}
	}
	return items
}

type batchItems struct {
	Items []struct {
		Status int `json:"status"`
	} `json:"items"`
}

// syncBatch is the outbox's sync: one POST /batch (outbox.js sendBatch).
func (c *linkClient) syncBatch(items []map[string]any) (batchItems, error) {
	var out batchItems
	st, err := c.do("POST", "/api/v1/batch", map[string]any{"items": items}, nil, &out)
	if err == nil && st != 200 {
		err = fmt.Errorf("batch: %d", st)
	}
	return out, err
}

// BenchmarkVillageSync measures the sync of 200 follow-ups recorded
// offline, through the emulated village link (150 ms, 1 Mbit/s) from a new
// connection: as one batch (the outbox now), and one request after another
// (the outbox before, and its fallback against a server without /batch).
// The requests are those outbox.js makes, with a bearer token for the
// session cookie.
func BenchmarkVillageSync(b *testing.B) {
	v := newVillage(b, 200, slowlink.Village)
	hv := v.client(v.f.HomeVisitA, true)
	batch := func(hv *linkClient, round string) func(b *testing.B) {
		return func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				hv.fresh()
				out, err := hv.syncBatch(v.followups(fmt.Sprint(round, i)))
				if err != nil || out.Items[0].Status != 201 || out.Items[199].Status != 201 {
					b.Fatalf("sync: %v %v", err, out.Items[0])
				}
			}
		}
	}
	b.Run("batch", batch(hv, "b"))
	b.Run("batch-loopback", batch(v.client(v.f.HomeVisitA, false), "l"))
	b.Run("one-by-one", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			hv.fresh()
			for _, it := range v.followups(fmt.Sprint("s", i)) {
				hv.must("POST", "/api/v1/records/"+it["record_id"].(string)+"/followups", it["body"],
					map[string]string{"Idempotency-Key": it["idempotency_key"].(string)}, nil)
			}
		}
	})
}

// BenchmarkVillageWorklist measures a home-visit worker's first worklist of
// 150 residents (the due list and each resident's record, for the round
// offline) through the emulated village link from a new connection: one
// GET /followups/worklist (tablet.js now), and the due list followed by a
// GET per resident, six at a time as a browser does (the fallback).
func BenchmarkVillageWorklist(b *testing.B) {
	v := newVillage(b, 150, slowlink.Village)
	worklist := func(hv *linkClient) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				hv.fresh()
				var out struct {
					Records []struct {
						Status int `json:"status"`
					} `json:"records"`
				}
				hv.must("GET", "/api/v1/followups/worklist?within_days=7&per_page=500", nil, nil, &out)
				if len(out.Records) != 150 || out.Records[149].Status != 200 {
					b.Fatalf("worklist: %d records", len(out.Records))
				}
			}
		}
	}
	hv := v.client(v.f.HomeVisitA, true)
	b.Run("one-request", worklist(hv))
	b.Run("one-request-loopback", worklist(v.client(v.f.HomeVisitA, false)))
	b.Run("per-resident", func(b *testing.B) {
		for b.Loop() {
			hv.fresh()
			var due struct {
				Items []struct {
					RecordID string `json:"record_id"`
				} `json:"items"`
			}
			hv.must("GET", "/api/v1/followups/due?within_days=7&per_page=500", nil, nil, &due)
			var wg sync.WaitGroup
			for _, it := range due.Items {
				wg.Go(func() { hv.must("GET", "/api/v1/records/"+it.RecordID, nil, nil, nil) })
			}
			wg.Wait()
		}
	})
}

// TestBatchLinkDrops: the link goes down while the server works through a
// batch of 200 follow-ups. The tablet keeps them all (no answer came) and
// sends the same batch again when the link is back: every entry is then
// created once — those the first attempt created answer as replays —
// nothing is lost and nothing doubled.
func TestBatchLinkDrops(t *testing.T) {
	v := newVillage(t, 200, slowlink.Link{RTT: 20 * time.Millisecond})
	hv := v.client(v.f.HomeVisitA, true)
	count := func() int {
		var n int
		if err := v.db.Get(&n, `SELECT count(*) FROM entries WHERE kind = 'followup'`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	items := v.followups("drop")
	cut := make(chan int)
	go func() {
		// Down once the server is partway through.
		deadline := time.Now().Add(30 * time.Second)
		for n := count(); n < 20 && time.Now().Before(deadline); n = count() {
			time.Sleep(2 * time.Millisecond)
		}
		v.proxy.Cut()
		cut <- count()
	}()
	if _, err := hv.syncBatch(items); err == nil {
		t.Fatal("the batch was answered although the link went down")
	}
	atCut := <-cut
	if atCut == 0 || atCut >= 200 {
		t.Fatalf("the link went down with %d of 200 entries created: not partway", atCut)
	}

	hv.fresh()
	out, err := hv.syncBatch(items)
	if err != nil {
		t.Fatal(err)
	}
	created, replayed := 0, 0
	for i, it := range out.Items {
		switch it.Status {
		case 201:
			created++
		case 200:
			replayed++
		default:
			t.Fatalf("item %d after the retry: %d", i, it.Status)
		}
	}
	if n := count(); n != 200 {
		t.Fatalf("%d follow-ups after the retry, want 200 (created %d, replayed %d)", n, created, replayed)
	}
	if replayed < atCut {
		t.Fatalf("%d replays, but %d were created before the link went down", replayed, atCut)
	}
	var dup int
	if err := v.db.Get(&dup, `SELECT count(*) FROM (SELECT record_id FROM entries WHERE kind = 'followup' GROUP BY record_id HAVING count(*) > 1) d`); err != nil || dup != 0 {
		t.Fatalf("residents with two follow-ups: %d %v", dup, err)
	}
	t.Logf("link cut at %d of 200; retry: %d created, %d replayed", atCut, created, replayed)
}
