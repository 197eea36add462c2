package postgres

import (
	"context"

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
// overdue lead. It reads the schedule stored at write time, never the entries.
func (db *DB) DueFollowups(ctx context.Context, f DueFilter) ([]DueFollowup, int, error) {
	until := f.AsOf.AddDays(f.WithinDays)
	// Each village's rows come off the enrolments_due index already in list
	// order, a page's worth at most; only the page's rows join the records.
	// Residents who left are dropped by probing the small records_inactive
	// index. The total rides along, an index-only count.
	const due = `e.status = 'active' AND e.next_due_date IS NOT NULL AND e.next_due_date <= $2
		AND NOT EXISTS (SELECT 1 FROM records x WHERE x.record_id = e.record_id AND x.status <> 'active')`
	var rows []struct {
		DueFollowup
		Total int `db:"total"`
	}
	err := db.SelectContext(ctx, &rows, `
		SELECT (SELECT count(*) FROM enrolments e WHERE e.village_code = ANY($1) AND `+due+`) AS total,
			e.id AS enrolment_id, e.record_id, r.name, COALESCE(r.sex, '') AS sex, r.birth_date, r.phone, e.village_code,
			COALESCE(r.responsible_doctor, '') AS responsible_doctor, e.programme, e.enrolled_on, e.last_followup_date,
			e.next_due_date AS due_date
		FROM (
			SELECT e.* FROM unnest($1::text[]) AS v (code) CROSS JOIN LATERAL (
				SELECT e.* FROM enrolments e WHERE e.village_code = v.code AND `+due+`
				ORDER BY e.next_due_date, e.record_id, e.programme LIMIT $3::int + $4::int
			) e
			ORDER BY e.next_due_date, e.record_id, e.programme LIMIT $3 OFFSET $4
		) e JOIN records r ON r.record_id = e.record_id
		ORDER BY e.next_due_date, e.record_id, e.programme`,
		pq.Array(f.Villages), until, f.Page.Limit(), f.Page.Offset())
	if err != nil {
		return nil, 0, translate(err)
	}
	out := make([]DueFollowup, len(rows))
	carried := 0
	for i, r := range rows {
		out[i], carried = r.DueFollowup, r.Total
		d := &out[i]
		if n := d.DueDate.DaysUntil(f.AsOf); n > 0 {
			d.Overdue, d.DaysOverdue = true, n
		} else {
			d.DaysUntilDue = -n
		}
	}
	total, err := db.listTotal(ctx, f.Page, len(rows), carried,
		`SELECT count(*) FROM enrolments e WHERE e.village_code = ANY($1) AND `+due, pq.Array(f.Villages), until)
	return out, total, err
}

// VillagesOf returns the villages of the institutions.
func (db *DB) VillagesOf(ctx context.Context, institutions []string) ([]string, error) {
	out := []string{}
	err := db.SelectContext(ctx, &out, `SELECT code FROM regions WHERE level = 'village' AND institution_code = ANY($1) ORDER BY code`,
		pq.Array(institutions))
	return out, translate(err)
}
