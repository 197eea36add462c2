package postgres

import (
	"context"
	"strconv"

	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

// The key populations' schedules (entry.Schedule): one schedule_items row
// per service of a children, maternal or elderly enrolment, written when the
// enrolment is (and when a delivery is recorded), marked given by the entry
// that gives it.

// serveScheduleSQL is addEntrySQL's step that marks the service a child or
// maternal entry gives (its data's service) as given, the first time.
const serveScheduleSQL = `UPDATE schedule_items i SET done_on = s.service_date, entry_id = s.id
	FROM stored s, enrolment n
	WHERE s.kind IN ('child_visit', 'maternal_visit') AND i.enrolment_id = n.id AND i.service = s.data->>'service'
		AND i.done_on IS NULL`

// moveAnnualSQL is addEntrySQL's step that moves the elderly's annual
// health management on to the month before the anniversary of the one just
// recorded (entry.NextAnnual), unless a later one is recorded already.
const moveAnnualSQL = `UPDATE schedule_items i
	SET window_start = (s.service_date + interval '11 months')::date, window_end = (s.service_date + interval '12 months')::date
	FROM stored s, enrolment n
	WHERE s.kind = 'elderly_check' AND i.enrolment_id = n.id AND i.service = 'annual' AND i.done_on IS NULL
		AND i.window_end < (s.service_date + interval '12 months')::date`

// putSchedule writes an enrolment's schedule: new services are added, those
// not yet given get their windows anew (a delivery recorded moves them);
// given ones stay as they were.
func putSchedule(ctx context.Context, tx *Tx, enrolmentID int64, recordID string, p entry.Programme, items []entry.ScheduleItem) error {
	return putSchedules(ctx, tx, []enrolmentSchedule{{enrolmentID, recordID, p, items}})
}

// enrolmentSchedule is the schedule of one enrolment.
type enrolmentSchedule struct {
	ID        int64
	RecordID  string
	Programme entry.Programme
	Items     []entry.ScheduleItem
}

// putSchedules writes the schedules of many enrolments in one statement
// (putSchedule).
func putSchedules(ctx context.Context, tx *Tx, ss []enrolmentSchedule) error {
	var ids []int64
	var records, programmes, services, starts, ends []string
	var listed []*string
	for _, s := range ss {
		for _, it := range s.Items {
			ids, records, programmes = append(ids, s.ID), append(records, s.RecordID), append(programmes, string(s.Programme))
			services, starts, ends = append(services, string(it.Service)), append(starts, it.WindowStart.String()),
				append(ends, it.WindowEnd.String())
			var l *string
			if !it.ListedUntil.IsZero() {
				v := it.ListedUntil.String()
				l = &v
			}
			listed = append(listed, l)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO schedule_items (enrolment_id, record_id, programme, service, window_start, window_end, listed_until)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::date[])
		ON CONFLICT (enrolment_id, service) DO UPDATE SET window_start = EXCLUDED.window_start,
			window_end = EXCLUDED.window_end, listed_until = EXCLUDED.listed_until
		WHERE schedule_items.done_on IS NULL`,
		pq.Array(ids), pq.Array(records), pq.Array(programmes), pq.Array(services), pq.Array(starts), pq.Array(ends), pq.Array(listed))
	return err
}

// scheduleNew writes the schedules of the active children, maternal and
// elderly enrolments with IDs above mark (an import's): a child's needs the
// record's birth date, a maternal one its LMP; without them it has none.
func scheduleNew(ctx context.Context, tx *Tx, mark int64) error {
	var rows []struct {
		ID         int64      `db:"id"`
		RecordID   string     `db:"record_id"`
		Programme  string     `db:"programme"`
		EnrolledOn civil.Date `db:"enrolled_on"`
		Birth      civil.Date `db:"birth_date"`
		Discharged civil.Date `db:"discharged_on"`
		LMP        civil.Date `db:"lmp_date"`
		Delivered  civil.Date `db:"delivered_on"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT e.id, e.record_id, e.programme, e.enrolled_on, r.birth_date,
			e.discharged_on, e.lmp_date, e.delivered_on
		FROM enrolments e JOIN records r USING (record_id)
		WHERE e.id > $1 AND e.status = 'active' AND e.programme IN ('children_0_6', 'maternal', 'elderly')`, mark); err != nil {
		return err
	}
	ss := make([]enrolmentSchedule, len(rows))
	for i, r := range rows {
		p := entry.Programme(r.Programme)
		ss[i] = enrolmentSchedule{r.ID, r.RecordID, p, entry.Schedule(p, entry.Anchors{EnrolledOn: r.EnrolledOn, Birth: r.Birth,
			DischargedOn: r.Discharged, LMP: r.LMP, DeliveredOn: r.Delivered})}
	}
	return putSchedules(ctx, tx, ss)
}

// withSchedules fills in the schedules of the enrolments, in one query.
func (db *DB) withSchedules(ctx context.Context, es []entry.Enrolment) error {
	ids := []int64{}
	at := map[int64]int{}
	for i, e := range es {
		if e.Programme.Scheduled() {
			ids = append(ids, e.ID)
			at[e.ID] = i
			es[i].Schedule = []entry.ScheduleItem{}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []scheduleRow
	err := db.SelectContext(ctx, &rows, `SELECT `+scheduleColumns+`
		FROM schedule_items WHERE enrolment_id = ANY($1) ORDER BY enrolment_id, window_start, id`, pq.Array(ids))
	if err != nil {
		return translate(err)
	}
	attachSchedules(es, at, rows)
	return nil
}

// scheduleColumns are a schedule item's, read into scheduleRow.
const scheduleColumns = `enrolment_id, service, window_start, window_end, listed_until, done_on, entry_id`

type scheduleRow struct {
	EnrolmentID int64      `db:"enrolment_id"`
	Service     string     `db:"service"`
	WindowStart civil.Date `db:"window_start"`
	WindowEnd   civil.Date `db:"window_end"`
	ListedUntil civil.Date `db:"listed_until"`
	DoneOn      civil.Date `db:"done_on"`
	EntryID     *int64     `db:"entry_id"`
}

// attachSchedules appends each item to its enrolment (es[at[id]]), in
// the rows' order; items of enrolments not in at are not the caller's.
func attachSchedules(es []entry.Enrolment, at map[int64]int, rows []scheduleRow) {
	for _, r := range rows {
		i, ok := at[r.EnrolmentID]
		if !ok {
			continue
		}
		e := &es[i]
		s := entry.Service(r.Service)
		e.Schedule = append(e.Schedule, entry.ScheduleItem{Service: s, Name: s.Chinese(), WindowStart: r.WindowStart,
			WindowEnd: r.WindowEnd, ListedUntil: r.ListedUntil, DoneOn: r.DoneOn, EntryID: r.EntryID})
	}
}

// DeliveryForm records a delivery (分娩) on an active maternal enrolment.
type DeliveryForm struct {
	DeliveredOn civil.Date `json:"delivered_on"`
}

// RecordDelivery sets the delivery date of an active maternal enrolment:
// the antenatal visits after it drop off the list and the postpartum visit
// and the 42-day check are scheduled. Returns NotFound when the enrolment is
// not the record's, Invalid for another programme or a bad date, and
// Conflict (with state) for an ended enrolment or one whose delivery is
// recorded already (with delivered_on).
func (db *DB) RecordDelivery(ctx context.Context, recordID, id string, f DeliveryForm) (*entry.Enrolment, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, apperr.NotFoundf("档案 %s 没有项目管理记录 %s", recordID, id)
	}
	err = db.inWriteTx(ctx, func(tx *Tx) error {
		var r enrolmentRow
		if err := tx.GetContext(ctx, &r, `SELECT `+enrolmentColumns+` FROM enrolments WHERE id = $1 AND record_id = $2 FOR UPDATE`,
			n, recordID); err != nil {
			return notFound(err, "档案 %s 没有项目管理记录 %s", recordID, id)
		}
		e := r.toEnrolment()
		switch {
		case e.Programme != entry.Maternal:
			return apperr.InvalidField("delivered_on", "只有孕产妇健康管理记录分娩日期")
		case e.Status != entry.EnrolmentActive:
			return apperr.Conflictf("该项目已于 %s 结案", e.EndedOn).With("state", e.Status)
		case !e.DeliveredOn.IsZero():
			return apperr.Conflictf("分娩日期已记录为 %s", e.DeliveredOn).With("delivered_on", e.DeliveredOn.String())
		}
		if why := entry.ValidDelivery(e.LMPDate, f.DeliveredOn, civil.Of(db.Today())); why != "" {
			return apperr.InvalidField("delivered_on", why)
		}
		e.DeliveredOn = f.DeliveredOn
		if _, err := tx.ExecContext(ctx, `UPDATE enrolments SET delivered_on = $2 WHERE id = $1`, n, f.DeliveredOn); err != nil {
			return err
		}
		return putSchedule(ctx, tx, n, recordID, e.Programme, entry.Schedule(e.Programme, e.Anchors(civil.Date{})))
	})
	if err != nil {
		return nil, err
	}
	return db.Enrolment(ctx, recordID, id)
}
