package postgres

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"healthrec/internal/record"
)

// ExamItem is a health examination on the timeline, marked with its kind.
type ExamItem struct {
	Kind string `json:"kind"` // always "exam"
	*record.Exam
}

// Timeline lists a record's dynamic records newest first: its service
// entries and, with exams, its health examinations. Each item is an
// entry.Entry or an ExamItem.
func (db *DB) Timeline(ctx context.Context, recordID string, exams bool, page Page) ([]any, int, error) {
	examPart := ""
	if exams {
		examPart = `UNION ALL SELECT 'exam', id, exam_date, created_at FROM exams WHERE record_id = $1`
	}
	var refs []struct {
		Kind string `db:"kind"`
		ID   int64  `db:"id"`
	}
	var total int
	var entryRows []entryRow
	var examRows []record.Exam
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT (SELECT count(*) FROM entries WHERE record_id = $1 AND `+currentVersion+`)
			+ CASE WHEN $2 THEN (SELECT count(*) FROM exams WHERE record_id = $1) ELSE 0 END`, recordID, exams); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &refs, `SELECT kind, id FROM (
				SELECT kind, id, service_date, created_at FROM entries WHERE record_id = $1 AND `+currentVersion+` `+examPart+`
			) t ORDER BY service_date DESC, created_at DESC, kind, id DESC LIMIT $2 OFFSET $3`,
			recordID, page.Limit(), page.Offset()); err != nil {
			return err
		}
		var entryIDs, examIDs []int64
		for _, r := range refs {
			if r.Kind == "exam" {
				examIDs = append(examIDs, r.ID)
			} else {
				entryIDs = append(entryIDs, r.ID)
			}
		}
		if err := tx.SelectContext(ctx, &entryRows, `SELECT `+entryColumns+` FROM entries WHERE id = ANY($1)`, pq.Array(entryIDs)); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &examRows, `SELECT `+examColumns+` FROM exams WHERE id = ANY($1)`, pq.Array(examIDs))
	})
	if err != nil {
		return nil, 0, err
	}
	byID := map[string]any{}
	for _, r := range entryRows {
		e, err := r.toEntry()
		if err != nil {
			return nil, 0, err
		}
		byID[fmt.Sprint("entry", r.ID)] = e
	}
	for i := range examRows {
		examRows[i].DeriveBMI()
		byID[fmt.Sprint("exam", examRows[i].ID)] = ExamItem{Kind: "exam", Exam: &examRows[i]}
	}
	out := make([]any, 0, len(refs))
	for _, r := range refs {
		k := "entry"
		if r.Kind == "exam" {
			k = "exam"
		}
		out = append(out, byID[fmt.Sprint(k, r.ID)])
	}
	return out, total, nil
}
