package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/notify"
	"healthrec/internal/review"
)

const itemColumns = `i.id, i.case_id, i.owner, s.name AS owner_name, i.due_date, i.description, i.state, i.evidence,
	i.closed_at, i.verified_at, i.verified_by, i.verify_note, i.created_on, i.created_at, i.created_by,
	i.co_responsible, i.completion_standard, i.followup_months, i.followup_due`

const itemFrom = ` FROM case_items i JOIN staff s ON s.code = i.owner`

// CreateItem adds a rectification item to a decided (or later) case,
// honouring the idempotency key. Conflict with the case's state before a
// decision or after the case ended without one; Invalid for an unknown owner.
func (db *DB) CreateItem(ctx context.Context, caseID int64, actor string, key Idempotency, n review.NewItem) (*review.Item, bool, error) {
	if err := n.Validate(db.today()); err != nil {
		return nil, false, err
	}
	id, created, err := db.withIdempotency(ctx, key, "case_item", func(tx *Tx) (string, error) {
		// The share lock keeps the case from moving while the item is added.
		var state review.State
		if err := tx.GetContext(ctx, &state, `SELECT state FROM cases WHERE id = $1 FOR SHARE`, caseID); err != nil {
			return "", notFound(err, "问责案件 %d 不存在", caseID)
		}
		if !state.Decided() {
			return "", apperr.Conflictf("案件当前为“%s”，作出处理决定后才能添加整改事项", state.Chinese()).With("state", state)
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM staff WHERE code = $1 AND active)`, n.Owner); err != nil {
			return "", err
		}
		if !exists {
			return "", apperr.InvalidField("owner", "工号 "+n.Owner+" 不存在或已停用")
		}
		for _, co := range n.CoResponsible {
			if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM staff WHERE code = $1 AND active)`, co); err != nil {
				return "", err
			}
			if !exists {
				return "", apperr.InvalidField("co_responsible", "工号 "+co+" 不存在或已停用")
			}
		}
		now := db.Now()
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO case_items (case_id, owner, due_date, description, created_on, created_at, created_by,
				co_responsible, completion_standard, followup_months)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`, caseID, n.Owner, n.DueDate, n.Description, civil.Of(now), now, actor,
			review.Members(n.CoResponsible), n.CompletionStandard, n.FollowupMonths); err != nil {
			return "", err
		}
		ev := &review.Event{CaseID: caseID, ItemID: &id, To: string(review.ItemOpen), Reason: "交办整改事项", Actor: actor, At: now,
			Details: review.Details{"owner": n.Owner, "due_date": n.DueDate, "description": n.Description}}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return "", err
		}
		m := notify.Message{Kind: notify.KindCase, Key: fmt.Sprintf("item:%d:open", id), Title: fmt.Sprintf("整改事项：%s 前完成", n.DueDate),
			Body: n.Description, Link: fmt.Sprintf("/#/my-cases/%d", caseID), Details: notify.Details{"case_id": caseID, "item_id": id, "due_date": n.DueDate}}
		return strconv.FormatInt(id, 10), notifyAll(ctx, tx, db.SMS, now, m, append([]string{n.Owner}, n.CoResponsible...)...)
	})
	if err != nil {
		return nil, false, err
	}
	n64, _ := strconv.ParseInt(id, 10, 64)
	it, err := db.Item(ctx, n64)
	return it, created, err
}

// Item returns one rectification item. NotFound when there is none.
func (db *DB) Item(ctx context.Context, id int64) (*review.Item, error) {
	var it *review.Item
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		it, err = itemTx(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	it.Flag(db.today())
	if it.Files, err = db.EvidenceFiles(ctx, id); err != nil {
		return nil, err
	}
	return it, nil
}

func itemTx(ctx context.Context, tx *Tx, id int64, lock bool) (*review.Item, error) {
	q := `SELECT ` + itemColumns + itemFrom + ` WHERE i.id = $1`
	if lock {
		q += ` FOR UPDATE OF i`
	}
	var it review.Item
	if err := tx.GetContext(ctx, &it, q, id); err != nil {
		return nil, notFound(err, "整改事项 %d 不存在", id)
	}
	return &it, nil
}

// Items lists a case's rectification items in the order they were given;
// only the owner's when owner is set.
func (db *DB) Items(ctx context.Context, caseID int64, owner string) ([]review.Item, error) {
	out := []review.Item{}
	err := db.inTx(ctx, func(tx *Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT `+itemColumns+itemFrom+` WHERE i.case_id = $1 AND ($2 = '' OR i.owner = $2)
			ORDER BY i.id`, caseID, owner)
	})
	if err != nil {
		return nil, err
	}
	today := db.today()
	for i := range out {
		out[i].Flag(today)
		if out[i].Files, err = db.EvidenceFiles(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AddEvidence keeps a file as evidence of a pending item, with its SHA-256.
// Conflict with the item's state unless it is open or reopened.
func (db *DB) AddEvidence(ctx context.Context, itemID int64, actor string, f review.EvidenceFile, content []byte) (*review.EvidenceFile, error) {
	err := db.inTx(ctx, func(tx *Tx) error {
		it, err := itemTx(ctx, tx, itemID, true)
		if err != nil {
			return err
		}
		if !it.State.Pending() {
			return apperr.Conflictf("整改事项当前为“%s”，不能再上传佐证材料", it.State.Chinese()).With("state", it.State)
		}
		f.ItemID, f.UploadedBy, f.UploadedAt = itemID, actor, db.Now()
		return tx.GetContext(ctx, &f.ID, `INSERT INTO item_evidence (item_id, name, content_type, size, sha256, content, uploaded_by, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, itemID, f.Name, f.ContentType, f.Size, f.SHA256, content, actor, f.UploadedAt)
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// EvidenceFiles lists an item's evidence files, without their content.
func (db *DB) EvidenceFiles(ctx context.Context, itemID int64) ([]review.EvidenceFile, error) {
	out := []review.EvidenceFile{}
	err := db.SelectContext(ctx, &out, `SELECT id, item_id, name, content_type, size, sha256, uploaded_by, uploaded_at
		FROM item_evidence WHERE item_id = $1 ORDER BY id`, itemID)
	return out, translate(err)
}

// Evidence returns one evidence file with its content. NotFound unless it
// belongs to the item.
func (db *DB) Evidence(ctx context.Context, itemID, id int64) (*review.EvidenceFile, []byte, error) {
	var row struct {
		review.EvidenceFile
		Content []byte `db:"content"`
	}
	err := db.GetContext(ctx, &row, `SELECT id, item_id, name, content_type, size, sha256, uploaded_by, uploaded_at, content
		FROM item_evidence WHERE item_id = $1 AND id = $2`, itemID, id)
	if err != nil {
		return nil, nil, notFound(err, "佐证材料 %d 不存在", id)
	}
	return &row.EvidenceFile, row.Content, nil
}

// CloseItem is the owner's report that an item is done. Conflict with the
// item's state unless it is open or reopened.
func (db *DB) CloseItem(ctx context.Context, id int64, actor string, cl review.Close) (*review.Item, error) {
	return db.itemStep(ctx, id, func(it *review.Item, now time.Time) (*review.Event, error) {
		return cl.Apply(it, actor, now)
	})
}

// VerifyItem records the later check (回头看) of a closed item. Conflict
// with the item's state unless it is closed.
func (db *DB) VerifyItem(ctx context.Context, id int64, actor string, v review.Verify) (*review.Item, error) {
	return db.itemStep(ctx, id, func(it *review.Item, now time.Time) (*review.Event, error) {
		return v.Apply(it, actor, now)
	})
}

func (db *DB) itemStep(ctx context.Context, id int64, step func(*review.Item, time.Time) (*review.Event, error)) (*review.Item, error) {
	err := db.inTx(ctx, func(tx *Tx) error {
		it, err := itemTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		ev, err := step(it, db.Now())
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE case_items SET state = $2, evidence = $3, closed_at = $4, verified_at = $5,
			verified_by = $6, verify_note = $7, followup_due = $8 WHERE id = $1`,
			id, it.State, it.Evidence, it.ClosedAt, it.VerifiedAt, it.VerifiedBy, it.VerifyNote, it.FollowupDue); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return db.Item(ctx, id)
}

// pendingItems are the open or reopened items due within the reminder window
// of today, of one owner or (owner "") everybody's.
func pendingItems(ctx context.Context, tx *Tx, owner string, today civil.Date) ([]review.Item, error) {
	var out []review.Item
	err := tx.SelectContext(ctx, &out, `SELECT `+itemColumns+itemFrom+`
		WHERE i.state IN ('open', 'reopened') AND i.due_date >= $1 AND i.due_date <= $2 AND ($3 = '' OR i.owner = $3)
		ORDER BY i.due_date, i.id`, today, today.AddDays(review.ReminderOffsets[0]), owner)
	return out, err
}

// SendDueReminders sends every reminder that has fallen due by now and was
// not sent before, and returns the ones sent now. Each (item, offset) is
// sent exactly once: the row is the record of sending, and a second run, a
// restart or a concurrent scheduler finds it there.
func (db *DB) SendDueReminders(ctx context.Context, now time.Time) ([]review.Reminder, error) {
	today := civil.Of(now)
	sent := []review.Reminder{}
	err := db.inTx(ctx, func(tx *Tx) error {
		sent = sent[:0] // afresh when inTx runs it again
		items, err := pendingItems(ctx, tx, "", today)
		if err != nil {
			return err
		}
		for _, it := range items {
			for _, off := range review.DueOffsets(it.CreatedOn, it.DueDate, today) {
				remindOn := it.DueDate.AddDays(-off)
				res, err := tx.ExecContext(ctx, `INSERT INTO item_reminders (item_id, offset_days, remind_on, sent_at)
					VALUES ($1, $2, $3, $4) ON CONFLICT (item_id, offset_days) DO NOTHING`, it.ID, off, remindOn, now)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					at := now
					sent = append(sent, review.Reminder{ItemID: it.ID, CaseID: it.CaseID, Owner: it.Owner, OffsetDays: off,
						RemindOn: remindOn, DueDate: it.DueDate, Description: it.Description, SentAt: &at})
					m := notify.Message{Kind: notify.KindReminder, Key: fmt.Sprintf("reminder:item:%d:%d", it.ID, off),
						Title: fmt.Sprintf("整改事项 %d 天后到期（%s）", off, it.DueDate), Body: it.Description,
						Link:    fmt.Sprintf("/#/my-cases/%d", it.CaseID),
						Details: notify.Details{"case_id": it.CaseID, "item_id": it.ID, "due_date": it.DueDate, "days_before": off}}
					if err := notifyAll(ctx, tx, db.SMS, now, m, it.Owner); err != nil {
						return err
					}
				}
			}
		}
		if err := remindFollowups(ctx, tx, db.SMS, now); err != nil {
			return err
		}
		return remindCaseDeadlines(ctx, tx, db.SMS, now)
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// remindCaseDeadlines reminds, 7, 3 and 1 days before each case deadline
// (DESIGN §5.8), the people it concerns: the subject before the defence
// period and the appeal period end; the county's reviewers before the
// investigation and the serving are due. The message key (with the due date,
// which an extension moves) makes each reminder exactly-once.
func remindCaseDeadlines(ctx context.Context, tx *Tx, sms bool, now time.Time) error {
	today := civil.Of(now)
	var open []review.Case
	if err := tx.SelectContext(ctx, &open, `SELECT `+caseColumns+` FROM cases
		WHERE (state = 'served' AND appeal_due BETWEEN $1 AND $2)
		   OR (state = 'determined' AND defence = '' AND defence_due BETWEEN $1 AND $2)
		   OR (state = 'decided' AND serving_due BETWEEN $1 AND $2)
		   OR (state IN ('accepted', 'investigating') AND investigation_due BETWEEN $1 AND $2)
		ORDER BY id`, today, today.AddDays(review.ReminderOffsets[0])); err != nil {
		return err
	}
	for i := range open {
		c := &open[i]
		var what, body string
		var from, due civil.Date
		var to []string
		var err error
		switch c.State {
		case review.Served:
			what, from, due, body = "appeal", c.ServedOn, c.AppealDue, "如对处理决定不服，请在期限内申请复核。"
			to, err = caseParties(ctx, tx, c)
		case review.Determined:
			what, from, due, body = "defence", c.DeterminedOn, c.DefenceDue, "如对认定事实有异议，请在期限内提交书面申辩。"
			to, err = caseParties(ctx, tx, c)
		case review.Decided:
			what, from, due, body = "serving", c.DecidedOn, c.ServingDue, "处理决定应在期限内送达被问责对象。"
			to, err = countyReviewers(ctx, tx, c)
		default:
			what, from, due, body = "investigation", c.AcceptedOn, c.InvestigationDue, "调查应在期限内作出责任认定。"
			to, err = countyReviewers(ctx, tx, c)
		}
		if err != nil {
			return err
		}
		title := map[string]string{"appeal": "复核申请期", "defence": "申辩期", "serving": "送达期限", "investigation": "调查期限"}[what]
		for _, off := range review.DueOffsets(from, due, today) {
			m := notify.Message{Kind: notify.KindReminder, Key: fmt.Sprintf("reminder:%s:%d:%s:%d", what, c.ID, due, off),
				Title: fmt.Sprintf("问责案件 %d：%s %d 天后届满（%s）", c.ID, title, off, due), Body: body,
				Link:    fmt.Sprintf("/#/my-cases/%d", c.ID),
				Details: notify.Details{"case_id": c.ID, "deadline": what, "due": due, "days_before": off}}
			if what == "serving" || what == "investigation" {
				m.Link = "/bureau#/cases"
			}
			if err := notifyAll(ctx, tx, sms, now, m, to...); err != nil {
				return err
			}
		}
	}
	return nil
}

// countyReviewers are the reviewers and leads of the case's county who may act on it:
// not its subject, nor anyone of the subject institution.
func countyReviewers(ctx context.Context, tx *Tx, c *review.Case) ([]string, error) {
	var out []string
	err := tx.SelectContext(ctx, &out, `SELECT DISTINCT r.staff_code FROM staff_roles r JOIN staff s ON s.code = r.staff_code
		WHERE r.role IN ('reviewer', 'review_lead') AND r.domain = $1 AND s.active AND s.code <> $2 AND COALESCE(s.institution_code, '') <> $3
		ORDER BY r.staff_code`, "county:"+c.CountyCode, c.SubjectCode, c.SubjectInstitution)
	return out, err
}

// DueReminders returns the owner's reminders due today: for each pending
// item in its reminder window, the latest reminder that has fallen due, with
// when it was sent (nil if the scheduler has not run since).
func (db *DB) DueReminders(ctx context.Context, owner string) ([]review.Reminder, error) {
	today := db.today()
	out := []review.Reminder{}
	err := db.inTx(ctx, func(tx *Tx) error {
		items, err := pendingItems(ctx, tx, owner, today)
		if err != nil {
			return err
		}
		for _, it := range items {
			offs := review.DueOffsets(it.CreatedOn, it.DueDate, today)
			if len(offs) == 0 {
				continue
			}
			off := offs[len(offs)-1] // the nearest to the due date
			r := review.Reminder{ItemID: it.ID, CaseID: it.CaseID, Owner: it.Owner, OffsetDays: off,
				RemindOn: it.DueDate.AddDays(-off), DueDate: it.DueDate, Description: it.Description}
			var sentAt []time.Time
			if err := tx.SelectContext(ctx, &sentAt, `SELECT sent_at FROM item_reminders WHERE item_id = $1 AND offset_days = $2`,
				it.ID, off); err != nil {
				return err
			}
			if len(sentAt) == 1 {
				r.SentAt = &sentAt[0]
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
