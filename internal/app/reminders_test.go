package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"healthrec/internal/app"
	"healthrec/internal/civil"
	"healthrec/internal/notify"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/review"
)

// fakeGateway is a local SMS gateway: it records what it took, and answers
// 503 while down.
type fakeGateway struct {
	mu   sync.Mutex
	down bool
	got  map[string][]string // message id → texts taken (twice would be a double send)
	srv  *httptest.Server
}

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{got: map[string][]string{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct{ ID, To, Text string }
		if r.Header.Get("Authorization") != "Bearer tok" || json.NewDecoder(r.Body).Decode(&b) != nil || b.To == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		g.got[b.ID] = append(g.got[b.ID], b.Text)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) setDown(v bool) { g.mu.Lock(); g.down = v; g.mu.Unlock() }

// reminders returns the texts of item reminders taken, and fails on a
// message taken twice.
func (g *fakeGateway) reminders(t *testing.T) []string {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for id, texts := range g.got {
		if len(texts) > 1 {
			t.Errorf("message %s sent %d times", id, len(texts))
		}
		if strings.Contains(texts[0], "天后到期") {
			out = append(out, texts[0])
		}
	}
	return out
}

// server is one server process's view: its own connection pool and clock.
type server struct {
	db *postgres.DB
	gw *notify.Gateway
}

func startServer(t *testing.T, url string, gw *fakeGateway, now *time.Time) *server {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return *now }
	db.SMS = true
	return &server{db: db, gw: &notify.Gateway{URL: gw.srv.URL, Token: "tok"}}
}

// tick is one round of the server's schedulers.
func (s *server) tick(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.db.SendDueReminders(ctx, s.db.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Deliver(ctx, s.db, s.gw, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
}

// TestRemindersBySMS: an item due on 20 November gets its 7-, 3- and 1-day
// reminders through a local SMS gateway exactly once each, across a server
// restart, with two servers running side by side, and with the gateway down
// on the day of the 3-day reminder (it is delayed, retried, not lost).
func TestRemindersBySMS(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	now := civil.MustParse("2026-11-09").Time().Add(9 * time.Hour)
	gw := newFakeGateway(t)
	a := startServer(t, url, gw, &now)
	f := pgtest.NewFixture(t, a.db)
	c, _, err := a.db.CreateCase(ctx, f.Reviewer, postgres.Idempotency{}, review.Opening{Source: review.FromComplaint,
		SubjectType: review.SubjectStaff, SubjectCode: f.DoctorA, Facts: "群众投诉"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []review.Step{{To: review.Investigating, Reason: "调查"},
		{To: review.Determined, Reason: "查实", Responsibility: review.Direct, Severity: review.Light},
		{To: review.Determined, Reason: "申辩"},
		{To: review.Decided, Reason: "决定", Outcome: review.WrittenSelfExamination}} {
		if _, err := f.Step(t, a.db, c.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := a.db.CreateItem(ctx, c.ID, f.Reviewer, postgres.Idempotency{}, review.NewItem{Owner: f.DoctorA,
		DueDate: civil.MustParse("2026-11-20"), Description: "补齐 30 份健康体检"}); err != nil {
		t.Fatal(err)
	}
	day := func(d string) { now = civil.MustParse(d).Time().Add(9 * time.Hour) }
	for _, d := range []string{"2026-11-09", "2026-11-12", "2026-11-13", "2026-11-14"} {
		day(d)
		a.tick(t)
		a.tick(t)
	}
	if got := gw.reminders(t); len(got) != 1 || !strings.Contains(got[0], "7 天后到期") {
		t.Fatalf("after the 7-day reminder: %q", got)
	}

	// The server restarts; a second one runs beside it.
	a.db.Close()
	a = startServer(t, url, gw, &now)
	b := startServer(t, url, gw, &now)
	day("2026-11-17")
	gw.setDown(true)
	a.tick(t)
	b.tick(t)
	if got := gw.reminders(t); len(got) != 1 {
		t.Fatalf("the gateway took messages while down: %q", got)
	}
	msgs, _, unread, err := a.db.Inbox(ctx, postgres.InboxFilter{Recipient: f.DoctorA, Page: postgres.Page{PerPage: 50}})
	if err != nil {
		t.Fatal(err)
	}
	var waiting *notify.Message
	for i := range msgs {
		if strings.Contains(msgs[i].Title, "3 天后到期") {
			waiting = &msgs[i]
		}
	}
	if waiting == nil || waiting.SMS == nil || waiting.SMS.State != "pending" || waiting.SMS.Attempts == 0 ||
		!strings.Contains(waiting.SMS.LastError, "503") || waiting.SMS.NextAttemptAt == nil || unread == 0 {
		t.Fatalf("the delayed reminder's delivery state is not visible: %+v", waiting)
	}
	gw.setDown(false)
	now = now.Add(2 * time.Hour) // past the backoff
	var wg sync.WaitGroup
	for _, s := range []*server{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); s.tick(t) }()
	}
	wg.Wait()
	for _, d := range []string{"2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"} {
		day(d)
		a.tick(t)
		b.tick(t)
	}
	got := gw.reminders(t)
	if len(got) != 3 {
		t.Fatalf("the gateway took %d reminders, want the 7-, 3- and 1-day ones once each: %q", len(got), got)
	}
	for _, want := range []string{"7 天后到期", "3 天后到期", "1 天后到期"} {
		n := 0
		for _, g := range got {
			if strings.Contains(g, want) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%q taken %d times", want, n)
		}
	}
}
