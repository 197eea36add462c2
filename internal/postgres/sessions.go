package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/staff"
)

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

// Session is a login: the bearer token is given to the client once and only
// its hash is stored.
type Session struct {
	Token     string
	CSRFToken string
	StaffCode string
	ExpiresAt time.Time
}

// CreateSession starts a session for a staff member.
func (db *DB) CreateSession(ctx context.Context, code string) (*Session, error) {
	s := &Session{Token: randomToken(), CSRFToken: randomToken(), StaffCode: code, ExpiresAt: db.Now().Add(SessionTTL)}
	_, err := db.ExecContext(ctx, `INSERT INTO sessions (token_hash, staff_code, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`,
		hashToken(s.Token), code, s.CSRFToken, s.ExpiresAt)
	return s, translate(err)
}

// ActiveSession is what a token stands for while its session runs.
type ActiveSession struct {
	Staff     *staff.Staff
	CSRFToken string
	ExpiresAt time.Time
}

// SessionStaff returns the active staff member behind a token, the session's
// CSRF token and its expiry. Returns Unauthorized for an unknown or expired
// token.
func (db *DB) SessionStaff(ctx context.Context, token string) (*ActiveSession, error) {
	var row struct {
		staffRow
		CSRF      string    `db:"csrf_token"`
		ExpiresAt time.Time `db:"expires_at"`
	}
	err := db.GetContext(ctx, &row, `SELECT q.*, se.csrf_token, se.expires_at FROM sessions se
		CROSS JOIN LATERAL (`+staffQuery+` WHERE s.code = se.staff_code AND s.active) q
		WHERE se.token_hash = $1 AND se.expires_at > $2`, hashToken(token), db.Now())
	if err != nil {
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
			return nil, apperr.Errorf(apperr.Unauthorized, "登录已失效，请重新登录")
		}
		return nil, translate(err)
	}
	st, err := row.toStaff()
	if err != nil {
		return nil, err
	}
	return &ActiveSession{Staff: st, CSRFToken: row.CSRF, ExpiresAt: row.ExpiresAt}, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token))
	return translate(err)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}
