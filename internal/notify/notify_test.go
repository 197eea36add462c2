package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthrec/internal/notify"
)

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 30: time.Hour} {
		if got := notify.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestGateway(t *testing.T) {
	var got map[string]string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	g := &notify.Gateway{URL: srv.URL, Token: "k"}
	sms := notify.SMS{MessageID: 7, Address: "13800000000", Title: "整改事项 3 天后到期", Body: "补齐体检"}
	if err := g.Send(context.Background(), sms); err != nil {
		t.Fatal(err)
	}
	if got["id"] != "healthrec-7" || got["to"] != "13800000000" || got["text"] != "【健康档案】整改事项 3 天后到期：补齐体检" {
		t.Fatalf("sent %v", got)
	}
	status = http.StatusBadGateway
	if err := g.Send(context.Background(), sms); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("a 502 is %v", err)
	}
	srv.Close()
	if err := g.Send(context.Background(), sms); err == nil {
		t.Fatal("a gateway that is down took the message")
	}
}
