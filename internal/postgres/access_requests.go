package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/consent"
)

// accessRequestRow is an access request as stored, with the record's
// institution joined in: it follows the record's village, so a request is
// decided by whoever keeps the record now.
type accessRequestRow struct {
	ID              int64          `db:"id"`
	RecordID        string         `db:"record_id"`
	InstitutionCode string         `db:"institution_code"`
	Purpose         string         `db:"purpose"`
	Sections        pq.StringArray `db:"sections"`
	Days            int            `db:"days"`
	State           string         `db:"state"`
	RequestedBy     string         `db:"requested_by"`
	SubmittedAt     time.Time      `db:"submitted_at"`
	Given           sql.NullBool   `db:"consent_given"`
	GivenBy         string         `db:"consent_given_by"`
	Relationship    string         `db:"consent_relationship"`
	Method          string         `db:"consent_method"`
	Reference       string         `db:"consent_reference"`
	RecordedBy      string         `db:"consent_recorded_by"`
	RecordedAt      *time.Time     `db:"consent_recorded_at"`
	ActivatedAt     *time.Time     `db:"activated_at"`
	ExpiresAt       *time.Time     `db:"expires_at"`
}

const accessRequestSelect = `SELECT a.id, a.record_id, COALESCE(v.institution_code, '') AS institution_code, a.purpose, a.sections,
	a.days, a.state, a.requested_by, a.submitted_at, a.consent_given, COALESCE(a.consent_given_by, '') AS consent_given_by,
	COALESCE(a.consent_relationship, '') AS consent_relationship, COALESCE(a.consent_method, '') AS consent_method,
	COALESCE(a.consent_reference, '') AS consent_reference, COALESCE(a.consent_recorded_by, '') AS consent_recorded_by,
	a.consent_recorded_at, a.activated_at, a.expires_at
	FROM access_requests a JOIN records r ON r.record_id = a.record_id JOIN regions v ON v.code = r.village_code`

// toRequest converts a row, with its state as seen at now.
func (row accessRequestRow) toRequest(now time.Time) consent.Request {
	out := consent.Request{
		ID: row.ID, RecordID: row.RecordID, InstitutionCode: row.InstitutionCode, Purpose: row.Purpose,
		Sections: []string(row.Sections), Days: row.Days, RequestedBy: row.RequestedBy, SubmittedAt: row.SubmittedAt,
		State:       consent.StateAt(consent.State(row.State), row.ExpiresAt, now),
		ActivatedAt: row.ActivatedAt, ExpiresAt: row.ExpiresAt,
	}
	if row.Given.Valid && row.RecordedAt != nil {
		out.Consent = &consent.Record{Given: row.Given.Bool, GivenBy: row.GivenBy, Relationship: row.Relationship,
			Method: consent.Method(row.Method), Reference: row.Reference, RecordedBy: row.RecordedBy, RecordedAt: *row.RecordedAt}
	}
	return out
}

type transitionRow struct {
	From   sql.NullString `db:"from_state"`
	To     string         `db:"to_state"`
	Action string         `db:"action"`
	At     time.Time      `db:"at"`
	By     string         `db:"by_staff"`
	Reason string         `db:"reason"`
}

// openRequestCond is a request still in play: waiting for a decision or
// consent, or a grant that has not run out.
const openRequestCond = `(a.state IN ('submitted', 'approved') OR (a.state = 'active' AND a.expires_at > $3))`

// SubmitAccessRequest files a requester's request. A requester has at most
// one request in play per record, so that a record has at most one running
// grant per requester: Conflict with the open request's state and
// existing_request_id otherwise. Invalid when the record does not exist.
func (db *DB) SubmitAccessRequest(ctx context.Context, actor string, s consent.Submission) (*consent.Request, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	now := db.Now()
	var id int64
	err := db.inTx(ctx, func(tx *Tx) error {
		// Serialise submissions of one requester for one record, so two at
		// once cannot both pass the open-request check.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))`, actor, s.RecordID); err != nil {
			return err
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM records WHERE record_id = $1)`, s.RecordID); err != nil {
			return err
		}
		if !exists {
			return apperr.InvalidField("record_id", "档案 "+s.RecordID+" 不存在")
		}
		var open struct {
			ID        int64      `db:"id"`
			State     string     `db:"state"`
			ExpiresAt *time.Time `db:"expires_at"`
		}
		err := tx.GetContext(ctx, &open, `SELECT a.id, a.state, a.expires_at FROM access_requests a
			WHERE a.requested_by = $1 AND a.record_id = $2 AND `+openRequestCond+` ORDER BY a.id DESC LIMIT 1`, actor, s.RecordID, now)
		switch {
		case err == nil:
			st := consent.StateAt(consent.State(open.State), open.ExpiresAt, now)
			return apperr.Conflictf("本人对档案 %s 已有未结束的访问申请 #%d（%s）", s.RecordID, open.ID, st.Chinese()).
				With("state", string(st)).With("existing_request_id", open.ID)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if err := tx.GetContext(ctx, &id, `INSERT INTO access_requests (record_id, requested_by, purpose, sections, days, state, submitted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			s.RecordID, actor, s.Purpose, pq.StringArray(s.Sections), s.Days, consent.Submitted, now); err != nil {
			return err
		}
		if err := addTransition(ctx, tx, id, "", consent.Submitted, consent.Submit, actor, now, ""); err != nil {
			return err
		}
		return notifyAccessRequest(ctx, tx, db.SMS, now, id, consent.Submitted)
	})
	if err != nil {
		return nil, err
	}
	return db.AccessRequest(ctx, id)
}

func addTransition(ctx context.Context, tx *Tx, id int64, from, to consent.State, act consent.Action, actor string, at time.Time, reason string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO access_request_transitions (request_id, from_state, to_state, action, at, by_staff, reason)
		VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7)`, id, from, to, act, at, actor, reason)
	return err
}

// AccessRequest returns a request with its transitions, oldest first.
// Returns NotFound.
func (db *DB) AccessRequest(ctx context.Context, id int64) (*consent.Request, error) {
	var out consent.Request
	err := db.inTx(ctx, func(tx *Tx) error {
		var row accessRequestRow
		if err := tx.GetContext(ctx, &row, accessRequestSelect+` WHERE a.id = $1`, id); err != nil {
			return notFound(err, "访问申请 %d 不存在", id)
		}
		out = row.toRequest(db.Now())
		var trs []transitionRow
		if err := tx.SelectContext(ctx, &trs, `SELECT from_state, to_state, action, at, by_staff, reason
			FROM access_request_transitions WHERE request_id = $1 ORDER BY id`, id); err != nil {
			return err
		}
		out.Transitions = make([]consent.Transition, len(trs))
		for i, t := range trs {
			out.Transitions[i] = consent.Transition{From: consent.State(t.From.String), To: consent.State(t.To),
				Action: consent.Action(t.Action), By: t.By, At: t.At, Reason: t.Reason}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AccessRequestFilter selects requests. The caller's reach bounds it: the
// requests RequestedBy filed, and those on records of Institutions.
type AccessRequestFilter struct {
	RequestedBy  string
	Institutions []string
	RecordID     string
	State        consent.State
	Page         Page
}

// AccessRequests lists requests, newest first, with states as seen now.
func (db *DB) AccessRequests(ctx context.Context, f AccessRequestFilter) ([]consent.Request, int, error) {
	now := db.Now()
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := []string{"(a.requested_by = " + arg(f.RequestedBy) + " OR v.institution_code = ANY(" + arg(pq.Array(f.Institutions)) + "))"}
	if f.RecordID != "" {
		where = append(where, "a.record_id = "+arg(f.RecordID))
	}
	switch f.State {
	case "":
	case consent.Active:
		where = append(where, "a.state = 'active' AND a.expires_at > "+arg(now))
	case consent.Expired:
		where = append(where, "a.state = 'active' AND a.expires_at <= "+arg(now))
	default:
		where = append(where, "a.state = "+arg(string(f.State)))
	}
	cond := strings.Join(where, " AND ")
	var rows []accessRequestRow
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM access_requests a JOIN records r ON r.record_id = a.record_id
			JOIN regions v ON v.code = r.village_code WHERE `+cond, args...); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, accessRequestSelect+` WHERE `+cond+` ORDER BY a.id DESC LIMIT `+arg(f.Page.Limit())+
			` OFFSET `+arg(f.Page.Offset()), args...)
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]consent.Request, len(rows))
	for i, row := range rows {
		out[i] = row.toRequest(now)
	}
	return out, total, nil
}

// Decision is one step on a request after submission.
type Decision struct {
	Action consent.Action
	Reason string          // approve, reject, revoke
	Answer *consent.Answer // consent, refuse
}

// DecideAccessRequest applies a decision by actor: approve or reject, the
// resident's or guardian's answer, or revocation. Consent activates the grant
// for the request's days from now. Returns NotFound, and Conflict carrying
// "state" when the request's state (as seen now: a grant that ran out is
// expired) does not allow the step. Who may decide is the caller's check.
func (db *DB) DecideAccessRequest(ctx context.Context, id int64, actor string, d Decision) (*consent.Request, error) {
	now := db.Now()
	err := db.inTx(ctx, func(tx *Tx) error {
		var cur struct {
			State     string     `db:"state"`
			Days      int        `db:"days"`
			ExpiresAt *time.Time `db:"expires_at"`
		}
		if err := tx.GetContext(ctx, &cur, `SELECT state, days, expires_at FROM access_requests WHERE id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err, "访问申请 %d 不存在", id)
		}
		from := consent.StateAt(consent.State(cur.State), cur.ExpiresAt, now)
		to, err := consent.Next(from, d.Action)
		if err != nil {
			return err
		}
		reason := d.Reason
		switch d.Action {
		case consent.Consent, consent.Refuse:
			a := d.Answer
			var activated, expires *time.Time
			if to == consent.Active {
				e := consent.ExpiresAt(now, cur.Days)
				activated, expires = &now, &e
			}
			_, err = tx.ExecContext(ctx, `UPDATE access_requests SET state = $2, consent_given = $3, consent_given_by = $4,
				consent_relationship = $5, consent_method = $6, consent_reference = $7, consent_recorded_by = $8, consent_recorded_at = $9,
				activated_at = $10, expires_at = $11 WHERE id = $1`,
				id, to, *a.Given, a.GivenBy, a.Relationship, a.Method, a.Reference, actor, now, activated, expires)
			// The transition names how the answer was given, not who gave it:
			// requesters read transitions, and the name is the resident's data.
			reason = fmt.Sprintf("%s（关系：%s；方式：%s；凭证：%s）", map[bool]string{true: "居民或监护人同意", false: "居民或监护人拒绝"}[*a.Given],
				a.Relationship, a.Method, a.Reference)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE access_requests SET state = $2 WHERE id = $1`, id, to)
		}
		if err != nil {
			return err
		}
		if err := addTransition(ctx, tx, id, from, to, d.Action, actor, now, reason); err != nil {
			return err
		}
		return notifyAccessRequest(ctx, tx, db.SMS, now, id, to)
	})
	if err != nil {
		return nil, err
	}
	return db.AccessRequest(ctx, id)
}
