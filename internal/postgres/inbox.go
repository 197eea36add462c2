package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/consent"
	"healthrec/internal/notify"
)

// The inbox (DESIGN §5.8): messages to staff, each delivered in the inbox
// and, when db.SMS is set, queued for SMS. Producers insert with a key
// unique per recipient, so a retried publish, a restarted scheduler or a
// second server never produces a message twice.

const messageColumns = `m.id, m.recipient, m.kind, m.key, m.title, m.body, m.link, m.details, m.created_at, m.read_at,
	d.state AS sms_state, d.attempts AS sms_attempts, d.last_error AS sms_error, d.sent_at AS sms_sent_at, d.next_attempt_at AS sms_next_at`

const messageFrom = ` FROM messages m LEFT JOIN message_deliveries d ON d.message_id = m.id AND d.channel = 'sms'`

// notifyAll puts a message in each recipient's inbox (recipients without an
// active account are skipped) and, when sms is on (db.SMS), queues its
// delivery to the recipient's phone. A message whose key a recipient
// already has is not sent again.
func notifyAll(ctx context.Context, tx *Tx, sms bool, now time.Time, m notify.Message, recipients ...string) error {
	return notifyEach(ctx, tx, sms, now, notification{m, recipients})
}

// notification is a message and the staff it goes to (notifyEach).
type notification struct {
	m          notify.Message
	recipients []string
}

// notifyEach is notifyAll for several messages at once, in one statement
// (and one more for their SMS): a published snapshot warns every doctor of
// a county below a target, and a statement for each of 500 doctors took
// ~150 ms of the publish (2026-12-08). The messages take their ids in the
// order given.
func notifyEach(ctx context.Context, tx *Tx, sms bool, now time.Time, ns ...notification) error {
	var recipient, kind, key, title, body, link, details []string
	for _, n := range ns {
		d, err := n.m.Details.Value() // nil details are {}
		if err != nil {
			return err
		}
		for _, r := range n.recipients {
			recipient, kind, key = append(recipient, r), append(kind, n.m.Kind), append(key, n.m.Key)
			title, body, link = append(title, n.m.Title), append(body, n.m.Body), append(link, n.m.Link)
			details = append(details, d.(string))
		}
	}
	if len(recipient) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO messages (recipient, kind, key, title, body, link, details, created_at)
		SELECT s.code, m.kind, m.key, m.title, m.body, m.link, m.details::jsonb, $8
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
			WITH ORDINALITY AS m (recipient, kind, key, title, body, link, details, n)
		JOIN staff s ON s.code = m.recipient AND s.active
		ORDER BY m.n
		ON CONFLICT (key, recipient) DO NOTHING
		RETURNING id`, pq.Array(recipient), pq.Array(kind), pq.Array(key), pq.Array(title), pq.Array(body), pq.Array(link),
		pq.Array(details), now)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 || !sms {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO message_deliveries (message_id, channel, address, next_attempt_at)
		SELECT m.id, 'sms', s.phone, $2 FROM messages m JOIN staff s ON s.code = m.recipient
		WHERE m.id = ANY($1) AND s.phone <> ''
		ON CONFLICT DO NOTHING`, pq.Array(ids), now)
	return err
}

// recordsAdmins lists the active records administrators of an institution:
// they stand for it in warnings and cases.
func recordsAdmins(ctx context.Context, tx *Tx, institution string) ([]string, error) {
	var out []string
	err := tx.SelectContext(ctx, &out, `SELECT r.staff_code FROM staff_roles r JOIN staff s ON s.code = r.staff_code
		WHERE r.role = 'records_admin' AND r.domain = $1 AND s.active ORDER BY r.staff_code`, "inst:"+institution)
	return out, err
}

// InboxFilter selects a person's messages.
type InboxFilter struct {
	Recipient string
	Unread    bool
	Kind      string
	Page      Page
}

// Inbox lists a person's messages, newest first, with the count unread.
func (db *DB) Inbox(ctx context.Context, f InboxFilter) ([]notify.Message, int, int, error) {
	out := []notify.Message{}
	var total, unread int
	err := db.inTx(ctx, func(tx *Tx) error {
		cond := `m.recipient = $1 AND ($2 = false OR m.read_at IS NULL) AND ($3 = '' OR m.kind = $3)`
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM messages m WHERE `+cond, f.Recipient, f.Unread, f.Kind); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &unread, `SELECT count(*) FROM messages WHERE recipient = $1 AND read_at IS NULL`, f.Recipient); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, `SELECT `+messageColumns+messageFrom+` WHERE `+cond+` ORDER BY m.id DESC LIMIT $4 OFFSET $5`,
			f.Recipient, f.Unread, f.Kind, f.Page.Limit(), f.Page.Offset())
	})
	if err != nil {
		return nil, 0, 0, err
	}
	for i := range out {
		out[i].Fill()
	}
	return out, total, unread, nil
}

// Unread counts a person's unread messages.
func (db *DB) Unread(ctx context.Context, recipient string) (int, error) {
	var n int
	err := db.GetContext(ctx, &n, `SELECT count(*) FROM messages WHERE recipient = $1 AND read_at IS NULL`, recipient)
	return n, translate(err)
}

// MarkRead marks one of the recipient's messages read (again is a no-op).
// NotFound for another person's message or none.
func (db *DB) MarkRead(ctx context.Context, recipient string, id int64) (*notify.Message, error) {
	var m notify.Message
	err := db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET read_at = $3 WHERE id = $1 AND recipient = $2 AND read_at IS NULL`,
			id, recipient, db.Now()); err != nil {
			return err
		}
		return tx.GetContext(ctx, &m, `SELECT `+messageColumns+messageFrom+` WHERE m.id = $1 AND m.recipient = $2`, id, recipient)
	})
	if err != nil {
		return nil, notFound(err, "消息 %d 不存在", id)
	}
	m.Fill()
	return &m, nil
}

// MarkAllRead marks every unread message of the recipient read.
func (db *DB) MarkAllRead(ctx context.Context, recipient string) (int, error) {
	res, err := db.ExecContext(ctx, `UPDATE messages SET read_at = $2 WHERE recipient = $1 AND read_at IS NULL`, recipient, db.Now())
	if err != nil {
		return 0, translate(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeliverDue sends pending SMS deliveries that are due by now, one at a
// time, through send, and returns how many were sent and how many failed
// (to be retried). Each delivery is taken with FOR UPDATE SKIP LOCKED and
// kept locked while it is sent, so two servers never send the same one;
// sent is recorded in the same transaction. A failure records the error
// and the next attempt, with exponential backoff up to an hour.
func (db *DB) DeliverDue(ctx context.Context, now time.Time, limit int, send func(context.Context, notify.SMS) error) (int, int, error) {
	sent, failed := 0, 0
	for i := 0; i < limit; i++ {
		done := false
		err := db.inTx(ctx, func(tx *Tx) error {
			var d notify.SMS
			err := tx.GetContext(ctx, &d, `SELECT d.message_id, d.address, d.attempts, m.title, m.body, m.link
				FROM message_deliveries d JOIN messages m ON m.id = d.message_id
				WHERE d.state = 'pending' AND d.next_attempt_at <= $1
				ORDER BY d.next_attempt_at, d.message_id LIMIT 1 FOR UPDATE OF d SKIP LOCKED`, now)
			if apperr.CodeOf(translate(err)) == apperr.NotFound {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			if serr := send(ctx, d); serr != nil {
				failed++
				msg := serr.Error()
				if len(msg) > 500 {
					msg = msg[:500]
				}
				_, err = tx.ExecContext(ctx, `UPDATE message_deliveries SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
					WHERE message_id = $1 AND channel = 'sms'`, d.MessageID, msg, now.Add(notify.Backoff(d.Attempts+1)))
				return err
			}
			sent++
			_, err = tx.ExecContext(ctx, `UPDATE message_deliveries SET state = 'sent', attempts = attempts + 1, last_error = '', sent_at = $2
				WHERE message_id = $1 AND channel = 'sms'`, d.MessageID, now)
			return err
		})
		if err != nil {
			return sent, failed, err
		}
		if done {
			break
		}
	}
	return sent, failed, nil
}

// itoa formats an ID for a message key.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// notifyAccessRequest tells the people an access-request step concerns
// (DESIGN §5.8): a new request goes to the records administrators of the
// record's institution, every later step to the requester.
func notifyAccessRequest(ctx context.Context, tx *Tx, sms bool, now time.Time, id int64, to consent.State) error {
	var r struct {
		RecordID    string `db:"record_id"`
		RequestedBy string `db:"requested_by"`
		Institution string `db:"institution_code"`
	}
	if err := tx.GetContext(ctx, &r, `SELECT a.record_id, a.requested_by, COALESCE(v.institution_code, '') AS institution_code
		FROM access_requests a JOIN records rec ON rec.record_id = a.record_id JOIN regions v ON v.code = rec.village_code
		WHERE a.id = $1`, id); err != nil {
		return err
	}
	m := notify.Message{Kind: notify.KindAccessRequest, Key: fmt.Sprintf("access:%d:%s", id, to),
		Title: fmt.Sprintf("档案访问申请 #%d：%s", id, to.Chinese()), Body: "档案 " + r.RecordID,
		Link: fmt.Sprintf("/#/access-requests/%d", id), Details: notify.Details{"request_id": id, "state": to, "record_id": r.RecordID}}
	if to == consent.Submitted {
		admins, err := recordsAdmins(ctx, tx, r.Institution)
		if err != nil {
			return err
		}
		m.Body += "，待审批"
		return notifyAll(ctx, tx, sms, now, m, admins...)
	}
	return notifyAll(ctx, tx, sms, now, m, r.RequestedBy)
}
