// Package notify is the inbox's messages and their delivery by SMS (DESIGN
// §5.8): what a message says, the HTTP SMS gateway client, and the retry
// backoff. It holds no SQL; internal/postgres stores messages.
package notify

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kinds of message.
const (
	KindWarning       = "warning"
	KindCase          = "case"
	KindReminder      = "reminder"
	KindAccessRequest = "access_request"
)

// Details are a message's figures (indicator, rate, gap…) as jsonb.
type Details map[string]any

// Value stores the details as JSON text (jsonb takes no binary parameter).
func (d Details) Value() (driver.Value, error) {
	if d == nil {
		return "{}", nil
	}
	b, err := json.Marshal(d)
	return string(b), err
}

// Scan reads a jsonb column.
func (d *Details) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(v, d)
	case string:
		return json.Unmarshal([]byte(v), d)
	}
	return fmt.Errorf("notify: cannot scan %T", src)
}

// Message is one message in a person's inbox.
type Message struct {
	ID        int64      `json:"id" db:"id"`
	Recipient string     `json:"recipient" db:"recipient"`
	Kind      string     `json:"kind" db:"kind"`
	Key       string     `json:"key" db:"key"`
	Title     string     `json:"title" db:"title"`
	Body      string     `json:"body" db:"body"`
	Link      string     `json:"link" db:"link"`
	Details   Details    `json:"details" db:"details"`
	CreatedAt time.Time  `json:"created_at" db:"created_at"`
	ReadAt    *time.Time `json:"read_at" db:"read_at"`

	// SMS is the delivery by SMS, nil when none was queued (no gateway
	// configured, or no phone).
	SMS *Delivery `json:"sms" db:"-"`

	SMSState    *string    `json:"-" db:"sms_state"`
	SMSAttempts *int       `json:"-" db:"sms_attempts"`
	SMSError    *string    `json:"-" db:"sms_error"`
	SMSSentAt   *time.Time `json:"-" db:"sms_sent_at"`
	SMSNextAt   *time.Time `json:"-" db:"sms_next_at"`
}

// Delivery is the visible state of a message's SMS: pending (with the
// attempts so far, the last error and the next attempt) or sent.
type Delivery struct {
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error,omitempty"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
}

// Fill sets SMS from the joined columns.
func (m *Message) Fill() {
	if m.SMSState == nil {
		return
	}
	d := &Delivery{State: *m.SMSState, SentAt: m.SMSSentAt}
	if m.SMSAttempts != nil {
		d.Attempts = *m.SMSAttempts
	}
	if m.SMSError != nil {
		d.LastError = *m.SMSError
	}
	if d.State == "pending" {
		d.NextAttemptAt = m.SMSNextAt
	}
	m.SMS = d
}

// SMS is one pending delivery, as the sender gets it.
type SMS struct {
	MessageID int64  `db:"message_id"`
	Address   string `db:"address"`
	Attempts  int    `db:"attempts"`
	Title     string `db:"title"`
	Body      string `db:"body"`
	Link      string `db:"link"`
}

// Text is the SMS text: the title and the body, short.
func (s SMS) Text() string {
	t := "【健康档案】" + s.Title
	if s.Body != "" {
		t += "：" + s.Body
	}
	if r := []rune(t); len(r) > 300 {
		t = string(r[:299]) + "…"
	}
	return t
}

// Backoff is the wait before attempt n+1 after n failed attempts: 30
// seconds, doubling, at most an hour.
func Backoff(failed int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < failed && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Gateway is an HTTP SMS gateway: each message is a POST of JSON
// {"id","to","text"} to URL, with "Authorization: Bearer <Token>" when a
// token is set. Any 2xx answer means the gateway took the message; the id
// (the message's, stable across retries) lets the gateway drop a repeat
// should an answer be lost.
type Gateway struct {
	URL    string
	Token  string
	Client *http.Client
}

// Send posts one SMS.
func (g *Gateway) Send(ctx context.Context, s SMS) error {
	body, _ := json.Marshal(map[string]string{"id": "healthrec-" + strconv.FormatInt(s.MessageID, 10), "to": s.Address, "text": s.Text()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	c := g.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("短信网关不可达: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 200))
		return fmt.Errorf("短信网关返回 %d: %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}
