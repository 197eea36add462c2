package postgres

import (
	"context"
	"strings"

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

// DueFollowup is one service that is due: the follow-up of an active
// hypertension or type-2 diabetes enrolment (DESIGN §4.3), or a service of
// the schedule of a children, maternal or elderly enrolment
// (entry.Schedule), of an active record, due on or before the as-of date
// (or within the look-ahead).
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
	// Service is what is due: "followup", or the schedule's service
	// (newborn_visit, check_3m, prenatal_2, postpartum, annual, …);
	// ServiceName its Chinese name and Kind the entry kind that records it.
	Service     entry.Service `json:"service" db:"service"`
	ServiceName string        `json:"service_name" db:"-"`
	Kind        entry.Kind    `json:"kind" db:"-"`
	// LastFollowupDate is empty when there has been no follow-up since
	// enrolment, and for scheduled services.
	LastFollowupDate civil.Date `json:"last_followup_date" db:"last_followup_date"`
	// DueDate is when the service falls due: for a follow-up the next date
	// set at the last one, else 3 months after it, else 3 months after
	// enrolment; for a scheduled service the start of its window.
	DueDate civil.Date `json:"due_date" db:"due_date"`
	// DueBy is the last day it is on time: the due date for a follow-up,
	// the end of its window for a scheduled service.
	DueBy civil.Date `json:"due_by" db:"due_by"`
	// Overdue is true when DueBy is before the as-of date.
	Overdue bool `json:"overdue" db:"-"`
	// DaysOverdue is how many days DueBy lies before the as-of date (0 when
	// not overdue); DaysUntilDue how many days the due date lies after it.
	DaysOverdue  int `json:"days_overdue" db:"-"`
	DaysUntilDue int `json:"days_until_due" db:"-"`
}

// DueFollowups lists the follow-ups and scheduled services due by the as-of
// date (plus the look-ahead) in the villages, earliest due date first, so
// the longest overdue lead. It reads the schedules stored at write time,
// never the entries. A scheduled service is listed from its window's start
// until the next service's window opens (listed_until); after that it was
// missed.
func (db *DB) DueFollowups(ctx context.Context, f DueFilter) ([]DueFollowup, int, error) {
	until := f.AsOf.AddDays(f.WithinDays)
	// Each village's rows come off the enrolments_due and schedule_items_due
	// indexes already in list order, a page's worth at most from each; only
	// the page's rows join the records and enrolments. Residents who left
	// are dropped by probing the small records_inactive index. The total
	// rides along, index-only counts, which take the residents who left
	// from the villages' own (records_inactive_village, migration 00037): a
	// schedule's village is its record ID's first twelve digits.
	const due = `e.status = 'active' AND e.next_due_date IS NOT NULL AND e.next_due_date <= $2`
	const scheduled = `i.done_on IS NULL AND i.window_start <= $2 AND (i.listed_until IS NULL OR i.listed_until >= $5)`
	gone := func(alias, villages string) string {
		return ` AND NOT EXISTS (SELECT 1 FROM records x WHERE x.record_id = ` + alias + `.record_id AND x.status <> 'active'` + villages + `)`
	}
	const inVillages = ` AND substr(x.record_id, 1, 12) = ANY($1)`
	count := `(SELECT count(*) FROM enrolments e WHERE e.village_code = ANY($1) AND ` + due + gone("e", inVillages) + `)
		+ (SELECT count(*) FROM schedule_items i WHERE i.village_code = ANY($1) AND ` + scheduled + gone("i", inVillages) + `)`
	var rows []struct {
		DueFollowup
		Total int `db:"total"`
	}
	err := db.SelectContext(ctx, &rows, `
		SELECT `+count+` AS total,
			e.enrolment_id, e.record_id, r.name, COALESCE(r.sex, '') AS sex, r.birth_date, r.phone, n.village_code,
			COALESCE(r.responsible_doctor, '') AS responsible_doctor, e.programme, n.enrolled_on, e.service,
			e.last_followup_date, e.due_date, e.due_by
		FROM (
			SELECT x.* FROM unnest($1::text[]) AS v (code) CROSS JOIN LATERAL (
				(SELECT e.id AS enrolment_id, e.record_id, e.programme, 'followup' AS service, e.last_followup_date,
					e.next_due_date AS due_date, e.next_due_date AS due_by
				FROM enrolments e WHERE e.village_code = v.code AND `+due+gone("e", "")+`
				ORDER BY e.next_due_date, e.record_id, e.programme LIMIT $3::int + $4::int)
				UNION ALL
				(SELECT i.enrolment_id, i.record_id, i.programme, i.service, NULL::date, i.window_start, i.window_end
				FROM schedule_items i WHERE i.village_code = v.code AND `+scheduled+gone("i", "")+`
				ORDER BY i.window_start, i.record_id, i.service LIMIT $3::int + $4::int)
			) x
			ORDER BY x.due_date, x.record_id, x.programme, x.service LIMIT $3 OFFSET $4
		) e JOIN records r ON r.record_id = e.record_id JOIN enrolments n ON n.id = e.enrolment_id
		ORDER BY e.due_date, e.record_id, e.programme, e.service`,
		pq.Array(f.Villages), until, f.Page.Limit(), f.Page.Offset(), f.AsOf)
	if err != nil {
		return nil, 0, translate(err)
	}
	out := make([]DueFollowup, len(rows))
	carried := 0
	for i, r := range rows {
		out[i], carried = r.DueFollowup, r.Total
		d := &out[i]
		d.ServiceName, d.Kind = d.Service.Chinese(), d.Service.Kind()
		if n := d.DueBy.DaysUntil(f.AsOf); n > 0 {
			d.Overdue, d.DaysOverdue = true, n
		}
		if n := f.AsOf.DaysUntil(d.DueDate); n > 0 {
			d.DaysUntilDue = n
		}
	}
	total, err := db.listTotal(ctx, f.Page, len(rows), carried, `SELECT `+strings.ReplaceAll(count, "$5", "$3"),
		pq.Array(f.Villages), until, f.AsOf)
	return out, total, err
}

// VillagesOf returns the villages of the institutions.
func (db *DB) VillagesOf(ctx context.Context, institutions []string) ([]string, error) {
	out := []string{}
	err := db.SelectContext(ctx, &out, `SELECT code FROM regions WHERE level = 'village' AND institution_code = ANY($1) ORDER BY code`,
		pq.Array(institutions))
	return out, translate(err)
}
