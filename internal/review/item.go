package review

import (
	"strings"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// ItemState is a rectification item's state.
type ItemState string

// Item states: open → closed (by the owner, with evidence) → verified
// (回头看 accepted) or reopened (rejected; the owner closes it again).
const (
	ItemOpen     ItemState = "open"
	ItemClosed   ItemState = "closed"
	ItemVerified ItemState = "verified"
	ItemReopened ItemState = "reopened"
)

// Chinese names the item state.
func (s ItemState) Chinese() string {
	switch s {
	case ItemOpen:
		return "整改中"
	case ItemClosed:
		return "已报整改完成"
	case ItemVerified:
		return "回头看已验收"
	case ItemReopened:
		return "回头看未通过，重新整改"
	}
	return string(s)
}

// Pending reports whether the owner still has to act: open or reopened.
func (s ItemState) Pending() bool { return s == ItemOpen || s == ItemReopened }

// ReminderOffsets are the days before an item's due date on which its owner
// is reminded.
var ReminderOffsets = []int{7, 3, 1}

// Item is a rectification item (整改/督办事项) of a decided case.
type Item struct {
	ID          int64      `json:"id" db:"id"`
	CaseID      int64      `json:"case_id" db:"case_id"`
	Owner       string     `json:"owner" db:"owner"`
	OwnerName   string     `json:"owner_name" db:"owner_name"`
	DueDate     civil.Date `json:"due_date" db:"due_date"`
	Description string     `json:"description" db:"description"`
	State       ItemState  `json:"state" db:"state"`
	Evidence    string     `json:"evidence,omitempty" db:"evidence"`
	ClosedAt    *time.Time `json:"closed_at" db:"closed_at"`
	VerifiedAt  *time.Time `json:"verified_at" db:"verified_at"`
	VerifiedBy  string     `json:"verified_by,omitempty" db:"verified_by"`
	VerifyNote  string     `json:"verify_note,omitempty" db:"verify_note"`
	CreatedOn   civil.Date `json:"created_on" db:"created_on"`
	CreatedAt   time.Time  `json:"created_at" db:"created_at"`
	CreatedBy   string     `json:"created_by" db:"created_by"`
	// CoResponsible are the people who answer for the item with its owner;
	// CompletionStandard says when it counts as done (完成标准).
	CoResponsible      Members `json:"co_responsible" db:"co_responsible"`
	CompletionStandard string  `json:"completion_standard" db:"completion_standard"`
	// FollowupDue is the later check (回头看), FollowupMonths after closing.
	FollowupMonths int        `json:"followup_months" db:"followup_months"`
	FollowupDue    civil.Date `json:"followup_due" db:"followup_due"`
	// Overdue is computed on read: still pending after the due date.
	Overdue bool `json:"overdue" db:"-"`
	// Files are the evidence files uploaded for the item.
	Files []EvidenceFile `json:"files" db:"-"`
}

// MaxEvidenceSize bounds one evidence file: 10 MB.
const MaxEvidenceSize = 10 << 20

// EvidenceFile is a photo or PDF kept as evidence of an item, with its
// SHA-256 checksum.
type EvidenceFile struct {
	ID          int64     `json:"id" db:"id"`
	ItemID      int64     `json:"item_id" db:"item_id"`
	Name        string    `json:"name" db:"name"`
	ContentType string    `json:"content_type" db:"content_type"`
	Size        int       `json:"size" db:"size"`
	SHA256      string    `json:"sha256" db:"sha256"`
	UploadedBy  string    `json:"uploaded_by" db:"uploaded_by"`
	UploadedAt  time.Time `json:"uploaded_at" db:"uploaded_at"`
}

// Flag sets the fields computed on read.
func (it *Item) Flag(today civil.Date) {
	it.Overdue = it.State.Pending() && today.After(it.DueDate)
}

// NewItem is POST /cases/{id}/items.
type NewItem struct {
	Owner              string     `json:"owner"`
	DueDate            civil.Date `json:"due_date"`
	Description        string     `json:"description"`
	CoResponsible      []string   `json:"co_responsible"`
	CompletionStandard string     `json:"completion_standard"`
	// FollowupMonths schedules the later check after closing: 1–12,
	// three when left out.
	FollowupMonths int `json:"followup_months"`
}

// DefaultFollowupMonths is when the later check (回头看) falls after an item
// closes, unless its item says otherwise.
const DefaultFollowupMonths = 3

// Validate checks a new item on today's date.
func (n *NewItem) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	n.Owner = strings.TrimSpace(n.Owner)
	n.Description = strings.TrimSpace(n.Description)
	if n.Owner == "" {
		fe.Add("owner", "请指定整改责任人（工号）")
	}
	switch {
	case n.DueDate.IsZero():
		fe.Add("due_date", "请指定整改期限")
	case n.DueDate.Before(today):
		fe.Add("due_date", "整改期限不能早于今天")
	case n.DueDate.After(today.AddMonths(24)):
		fe.Add("due_date", "整改期限不能超过两年")
	}
	n.CompletionStandard = strings.TrimSpace(n.CompletionStandard)
	if len([]rune(n.CompletionStandard)) > 2000 {
		fe.Add("completion_standard", "完成标准最多 2000 字")
	}
	if len(n.CoResponsible) > 20 {
		fe.Add("co_responsible", "共同责任人最多 20 人")
	}
	for i, c := range n.CoResponsible {
		n.CoResponsible[i] = strings.TrimSpace(c)
		if n.CoResponsible[i] == n.Owner && n.Owner != "" {
			fe.Add("co_responsible", "共同责任人不能是责任人本人")
		}
	}
	switch {
	case n.FollowupMonths == 0:
		n.FollowupMonths = DefaultFollowupMonths
	case n.FollowupMonths < 1 || n.FollowupMonths > 12:
		fe.Add("followup_months", "回头看应在整改完成后 1–12 个月内")
	}
	if n.Description == "" {
		fe.Add("description", "请写明整改内容")
	} else if len([]rune(n.Description)) > 5000 {
		fe.Add("description", "整改内容最多 5000 字")
	}
	return fe.Err()
}

// Close is the owner's report that the item is done, with evidence.
type Close struct {
	Evidence string `json:"evidence"`
}

// Apply closes the item. Conflict (with state) unless it is pending.
func (cl *Close) Apply(it *Item, actor string, now time.Time) (*Event, error) {
	var fe apperr.FieldErrors
	cl.Evidence = strings.TrimSpace(cl.Evidence)
	if cl.Evidence == "" {
		fe.Add("evidence", "请提供整改完成的佐证材料说明")
	} else if len([]rune(cl.Evidence)) > 5000 {
		fe.Add("evidence", "佐证说明最多 5000 字")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if !it.State.Pending() {
		return nil, apperr.Conflictf("整改事项当前为“%s”，不能报告完成", it.State.Chinese()).With("state", it.State)
	}
	ev := itemEvent(it, ItemClosed, "报告整改完成", actor, now)
	ev.Details["evidence"] = cl.Evidence
	it.State, it.Evidence, it.ClosedAt = ItemClosed, cl.Evidence, &now
	months := it.FollowupMonths
	if months == 0 {
		months = DefaultFollowupMonths
	}
	it.FollowupDue = civil.Of(now).AddMonths(months)
	ev.Details["followup_due"] = it.FollowupDue
	return ev, nil
}

// Verify is the reviewer's later check (回头看) of a closed item.
type Verify struct {
	Accepted *bool  `json:"accepted"`
	Note     string `json:"note"`
}

// Apply verifies the item: accepted → verified, rejected → reopened (a
// rejection needs a note). Conflict (with state) unless it is closed.
func (v *Verify) Apply(it *Item, actor string, now time.Time) (*Event, error) {
	var fe apperr.FieldErrors
	v.Note = strings.TrimSpace(v.Note)
	if v.Accepted == nil {
		fe.Add("accepted", "请说明是否验收通过（true/false）")
	} else if !*v.Accepted && v.Note == "" {
		fe.Add("note", "未通过时请写明原因")
	}
	if len([]rune(v.Note)) > 2000 {
		fe.Add("note", "说明最多 2000 字")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if it.State != ItemClosed {
		return nil, apperr.Conflictf("整改事项当前为“%s”，只有已报整改完成的事项才能回头看", it.State.Chinese()).With("state", it.State)
	}
	to, reason := ItemVerified, "回头看验收通过"
	if !*v.Accepted {
		to, reason = ItemReopened, "回头看未通过"
	}
	ev := itemEvent(it, to, reason, actor, now)
	if v.Note != "" {
		ev.Details["note"] = v.Note
	}
	it.State, it.VerifiedAt, it.VerifiedBy, it.VerifyNote = to, &now, actor, v.Note
	return ev, nil
}

func itemEvent(it *Item, to ItemState, reason, actor string, now time.Time) *Event {
	id := it.ID
	return &Event{CaseID: it.CaseID, ItemID: &id, From: string(it.State), To: string(to), Reason: reason, Actor: actor, At: now, Details: Details{}}
}

// Reminder is a reminder to an item's owner, due OffsetDays before the due date.
type Reminder struct {
	ItemID      int64      `json:"item_id" db:"item_id"`
	CaseID      int64      `json:"case_id" db:"case_id"`
	Owner       string     `json:"owner" db:"owner"`
	OffsetDays  int        `json:"offset_days" db:"offset_days"`
	RemindOn    civil.Date `json:"remind_on" db:"remind_on"`
	DueDate     civil.Date `json:"due_date" db:"due_date"`
	Description string     `json:"description" db:"description"`
	// SentAt is when the scheduler sent it; nil when it has not run since
	// the reminder fell due.
	SentAt *time.Time `json:"sent_at" db:"sent_at"`
}

// DueOffsets returns the reminder offsets that have fallen due by today for
// an item created on createdOn and due on due: the reminder day (due −
// offset) has come, the due date has not passed, and the reminder day is not
// before the item existed (an item given five days gets the 3- and 1-day
// reminders, not a belated 7-day one).
func DueOffsets(createdOn, due, today civil.Date) []int {
	var out []int
	if today.After(due) {
		return nil
	}
	for _, off := range ReminderOffsets {
		day := due.AddDays(-off)
		if !day.After(today) && !day.Before(createdOn) {
			out = append(out, off)
		}
	}
	return out
}
