package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

// DueFilter selects the follow-ups due in some villages.
type DueFilter struct {
	Villages []string
	AsOf     civil.Date
	// WithinDays also lists follow-ups falling due in the days after AsOf.
	WithinDays int
	Page       Page
}

// DueFollowup is one follow-up that is due (DESIGN §4.3): an active
// hypertension or type-2 diabetes enrolment of an active record whose next
// follow-up falls on or before the as-of date (or within the look-ahead).
type DueFollowup struct {
	EnrolmentID       int64           `json:"enrolment_id" db:"enrolment_id"`
	RecordID          string          `json:"record_id" db:"record_id"`
	Name              string          `json:"name" db:"name"`
	Sex               string          `json:"sex" db:"sex"`
	BirthDate         civil.Date      `json:"birth_date" db:"birth_date"`
	Phone             string          `json:"phone" db:"phone"`
	VillageCode       string          `json:"village_code" db:"village_code"`
	ResponsibleDoctor string          `json:"responsible_doctor" db:"responsible_doctor"`
	Programme         entry.Programme `json:"programme" db:"programme"`
	EnrolledOn        civil.Date      `json:"enrolled_on" db:"enrolled_on"`
	// LastFollowupDate is empty when there has been no follow-up since enrolment.
	LastFollowupDate civil.Date `json:"last_followup_date" db:"last_followup_date"`
	// DueDate is when the follow-up is due: the next date set at the last
	// follow-up, else 3 months after it, else 3 months after enrolment.
	DueDate civil.Date `json:"due_date" db:"due_date"`
	// Overdue is true when the due date is before the as-of date.
	Overdue bool `json:"overdue" db:"-"`
	// DaysOverdue is how many days the due date lies before the as-of date
	// (0 when due that day or later); DaysUntilDue how many after it.
	DaysOverdue  int `json:"days_overdue" db:"-"`
	DaysUntilDue int `json:"days_until_due" db:"-"`
}

// DueFollowups lists the follow-ups due by the as-of date (plus the
// look-ahead) in the villages, earliest due date first, so the longest
// overdue lead. It reads the schedule stored at write time: an index range
// per village, never the entries.
func (db *DB) DueFollowups(ctx context.Context, f DueFilter) ([]DueFollowup, int, error) {
	until := f.AsOf.AddDays(f.WithinDays)
	const cond = `e.village_code = ANY($1) AND e.status = 'active' AND e.next_due_date IS NOT NULL AND e.next_due_date <= $2
		AND r.status = 'active'`
	out := []DueFollowup{}
	var total int
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM enrolments e JOIN records r ON r.record_id = e.record_id WHERE `+cond,
			pq.Array(f.Villages), until); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, `SELECT e.id AS enrolment_id, e.record_id, r.name, COALESCE(r.sex, '') AS sex, r.birth_date,
			r.phone, e.village_code, COALESCE(r.responsible_doctor, '') AS responsible_doctor, e.programme, e.enrolled_on,
			e.last_followup_date, e.next_due_date AS due_date
			FROM enrolments e JOIN records r ON r.record_id = e.record_id WHERE `+cond+`
			ORDER BY e.next_due_date, e.record_id, e.programme LIMIT $3 OFFSET $4`,
			pq.Array(f.Villages), until, f.Page.Limit(), f.Page.Offset())
	})
	for i := range out {
		d := &out[i]
		if n := d.DueDate.DaysUntil(f.AsOf); n > 0 {
			d.Overdue, d.DaysOverdue = true, n
		} else {
			d.DaysUntilDue = -n
		}
	}
	return out, total, err
}

// VillagesOf returns the villages of the institutions.
func (db *DB) VillagesOf(ctx context.Context, institutions []string) ([]string, error) {
	out := []string{}
	err := db.SelectContext(ctx, &out, `SELECT code FROM regions WHERE level = 'village' AND institution_code = ANY($1) ORDER BY code`,
		pq.Array(institutions))
	return out, translate(err)
}
