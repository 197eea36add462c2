package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/review"
)

const caseColumns = `id, county_code, source, subject_type, subject_code, subject_name, subject_institution, facts,
	COALESCE(snapshot_id, '') AS snapshot_id, triggers, escalated, talk_by, escalation, state, accepted_on,
	investigation_due, extended, extension_reason, responsibility, severity, findings, outcome, original_outcome,
	decided_on, serving_due, served_on, appeal_due, appealed_on, review_result, closed_on, created_at, created_by, updated_at`

// systemActor is the actor of steps the service takes itself (proposals).
const systemActor = "system"

// CaseSubject is who a case is about, as the registry knows them.
type CaseSubject struct {
	Name            string `db:"name"`
	InstitutionCode string `db:"institution_code"`
	CountyCode      string `db:"county_code"`
}

// CaseSubject looks up a case's subject: a staff member (with their
// institution's county) or an institution. Invalid (field subject_code) when
// there is no such subject, or a staff member belongs to no institution, so
// that no county answers for them.
func (db *DB) CaseSubject(ctx context.Context, typ review.SubjectType, code string) (*CaseSubject, error) {
	var out *CaseSubject
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		out, err = caseSubject(ctx, tx, typ, code)
		return err
	})
	return out, err
}

func caseSubject(ctx context.Context, tx *Tx, typ review.SubjectType, code string) (*CaseSubject, error) {
	var s CaseSubject
	var err error
	switch typ {
	case review.SubjectStaff:
		err = tx.GetContext(ctx, &s, `SELECT s.name, COALESCE(s.institution_code, '') AS institution_code, COALESCE(i.county_code, '') AS county_code
			FROM staff s LEFT JOIN institutions i ON i.code = s.institution_code WHERE s.code = $1`, code)
		if err == nil && s.CountyCode == "" {
			return nil, apperr.InvalidField("subject_code", fmt.Sprintf("人员 %s 不属于任何机构，无法确定负责问责的县", code))
		}
	case review.SubjectInstitution:
		err = tx.GetContext(ctx, &s, `SELECT name, code AS institution_code, county_code FROM institutions WHERE code = $1`, code)
	default:
		return nil, apperr.InvalidField("subject_type", "对象类型应为 staff 或 institution")
	}
	if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
		what := map[review.SubjectType]string{review.SubjectStaff: "人员", review.SubjectInstitution: "机构"}[typ]
		return nil, apperr.InvalidField("subject_code", fmt.Sprintf("%s %s 不存在", what, code))
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// calendar loads the whole holiday calendar: a few dozen rows a year.
func calendar(ctx context.Context, q sqlx.QueryerContext) (*review.Calendar, error) {
	var rows []struct {
		Day  civil.Date     `db:"day"`
		Kind review.DayKind `db:"kind"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT day, kind FROM calendar_days`); err != nil {
		return nil, err
	}
	var hol, work []civil.Date
	for _, r := range rows {
		if r.Kind == review.Holiday {
			hol = append(hol, r.Day)
		} else {
			work = append(work, r.Day)
		}
	}
	return review.NewCalendar(hol, work), nil
}

// Calendar returns the holiday calendar.
func (db *DB) Calendar(ctx context.Context) (*review.Calendar, error) {
	cal, err := calendar(ctx, db.DB)
	return cal, translate(err)
}

// today is the server clock's date.
func (db *DB) today() civil.Date { return civil.Of(db.Now()) }

// CreateCase opens a case by hand, accepted today, honouring the
// idempotency key. It returns the case and whether it was created now.
func (db *DB) CreateCase(ctx context.Context, actor string, key Idempotency, o review.Opening) (*review.Case, bool, error) {
	if err := o.Validate(); err != nil {
		return nil, false, err
	}
	id, created, err := db.withIdempotency(ctx, key, "case", func(tx *Tx) (string, error) {
		subj, err := caseSubject(ctx, tx, o.SubjectType, o.SubjectCode)
		if err != nil {
			return "", err
		}
		cal, err := calendar(ctx, tx)
		if err != nil {
			return "", err
		}
		c := review.NewCase(db.today(), cal)
		c.Source, c.SubjectType, c.SubjectCode, c.Facts = o.Source, o.SubjectType, o.SubjectCode, o.Facts
		c.SubjectName, c.SubjectInstitution, c.CountyCode = subj.Name, subj.InstitutionCode, subj.CountyCode
		inserted, err := insertCase(ctx, tx, c, actor, db.Now(), "立案："+o.Source.Chinese())
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(c.ID, 10), mustInserted(inserted)
	})
	if err != nil {
		return nil, false, err
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	c, err := db.Case(ctx, n)
	return c, created, err
}

func mustInserted(ok bool) error {
	if !ok {
		return apperr.Conflictf("案件已存在")
	}
	return nil
}

// insertCase stores a new case and its opening event. It reports false,
// storing nothing, when the snapshot already proposed a case for the subject.
func insertCase(ctx context.Context, tx *Tx, c *review.Case, actor string, now time.Time, reason string) (bool, error) {
	c.CreatedAt, c.CreatedBy, c.UpdatedAt = now, actor, now
	var snap *string
	if c.SnapshotID != "" {
		snap = &c.SnapshotID
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO cases (county_code, source, subject_type, subject_code, subject_name,
			subject_institution, facts, snapshot_id, triggers, escalated, talk_by, escalation, state, accepted_on,
			investigation_due, created_at, created_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (snapshot_id, subject_type, subject_code) WHERE snapshot_id IS NOT NULL DO NOTHING
		RETURNING id`,
		c.CountyCode, c.Source, c.SubjectType, c.SubjectCode, c.SubjectName, c.SubjectInstitution, c.Facts, snap,
		c.Triggers, c.Escalated, c.TalkBy, c.Escalation, c.State, c.AcceptedOn, c.InvestigationDue, now, actor, now)
	if err != nil {
		return false, err
	}
	inserted := rows.Next()
	if inserted {
		err = rows.Scan(&c.ID)
	}
	rows.Close()
	if err != nil || !inserted {
		return false, err
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	ev := &review.Event{CaseID: c.ID, To: string(review.Accepted), Reason: reason, Actor: actor, At: now,
		Details: review.Details{"source": c.Source, "investigation_due": c.InvestigationDue}}
	return true, insertEvent(ctx, tx, ev)
}

func insertEvent(ctx context.Context, tx *Tx, ev *review.Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO case_events (case_id, item_id, from_state, to_state, reason, details, actor, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ev.CaseID, ev.ItemID, ev.From, ev.To, ev.Reason, ev.Details, ev.Actor, ev.At)
	return err
}

// Case returns a case with its history, flagged against today. NotFound
// when there is none.
func (db *DB) Case(ctx context.Context, id int64) (*review.Case, error) {
	var c *review.Case
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		if c, err = caseTx(ctx, tx, id, false); err != nil {
			return err
		}
		c.Events = []review.Event{}
		return tx.SelectContext(ctx, &c.Events, `SELECT id, case_id, item_id, from_state, to_state, reason, details, actor, at
			FROM case_events WHERE case_id = $1 ORDER BY id`, id)
	})
	if err != nil {
		return nil, err
	}
	c.Flag(db.today())
	return c, nil
}

func caseTx(ctx context.Context, tx *Tx, id int64, lock bool) (*review.Case, error) {
	q := `SELECT ` + caseColumns + ` FROM cases WHERE id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	var c review.Case
	if err := tx.GetContext(ctx, &c, q, id); err != nil {
		return nil, notFound(err, "问责案件 %d 不存在", id)
	}
	return &c, nil
}

// TransitionCase moves a case by one step as actor, recording who, when and
// why. Invalid for a bad field; Conflict with the state for a step the state
// machine does not allow now.
func (db *DB) TransitionCase(ctx context.Context, id int64, step review.Step, actor string) (*review.Case, error) {
	err := db.inTx(ctx, func(tx *Tx) error {
		c, err := caseTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		cal, err := calendar(ctx, tx)
		if err != nil {
			return err
		}
		now := db.Now()
		ev, err := c.Apply(step, actor, now, cal)
		if err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := updateCase(ctx, tx, c); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return db.Case(ctx, id)
}

func updateCase(ctx context.Context, tx *Tx, c *review.Case) error {
	_, err := tx.NamedExecContext(ctx, `UPDATE cases SET state = :state, investigation_due = :investigation_due,
		extended = :extended, extension_reason = :extension_reason, responsibility = :responsibility, severity = :severity,
		findings = :findings, outcome = :outcome, original_outcome = :original_outcome, decided_on = :decided_on,
		serving_due = :serving_due, served_on = :served_on, appeal_due = :appeal_due, appealed_on = :appealed_on,
		review_result = :review_result, closed_on = :closed_on, updated_at = :updated_at
		WHERE id = :id`, c)
	return err
}

// CaseFilter selects cases. The visibility fields are OR-ed: cases in
// Counties, cases about the staff member Self, cases about Institutions. With
// none of them set, nothing is visible. The other fields narrow the result.
type CaseFilter struct {
	Counties     []string
	Self         string
	Institutions []string

	State       string
	Source      string
	SubjectType string
	SubjectCode string
	SnapshotID  string
	// Year keeps cases accepted or decided in that year.
	Year      int
	Overdue   *bool
	Escalated *bool
	Page      Page
}

// Cases lists cases, newest first, flagged against today.
func (db *DB) Cases(ctx context.Context, f CaseFilter) ([]review.Case, int, error) {
	today := db.today()
	var where, vis []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(f.Counties) > 0 {
		vis = append(vis, "county_code = ANY("+arg(pq.Array(f.Counties))+")")
	}
	if f.Self != "" {
		vis = append(vis, "(subject_type = 'staff' AND subject_code = "+arg(f.Self)+")")
	}
	if len(f.Institutions) > 0 {
		vis = append(vis, "(subject_type = 'institution' AND subject_code = ANY("+arg(pq.Array(f.Institutions))+"))")
	}
	if len(vis) == 0 {
		return []review.Case{}, 0, nil
	}
	where = append(where, "("+strings.Join(vis, " OR ")+")")
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = "+arg(v))
		}
	}
	eq("state", f.State)
	eq("source", f.Source)
	eq("subject_type", f.SubjectType)
	eq("subject_code", f.SubjectCode)
	eq("snapshot_id", f.SnapshotID)
	if f.Year != 0 {
		from, to := arg(civil.New(f.Year, 1, 1)), arg(civil.New(f.Year+1, 1, 1))
		where = append(where, fmt.Sprintf("((accepted_on >= %[1]s AND accepted_on < %[2]s) OR (decided_on >= %[1]s AND decided_on < %[2]s))", from, to))
	}
	if f.Overdue != nil {
		t := arg(today)
		cond := fmt.Sprintf("((state IN ('accepted', 'investigating') AND investigation_due < %[1]s) OR (state = 'decided' AND serving_due < %[1]s))", t)
		if !*f.Overdue {
			cond = "NOT " + cond
		}
		where = append(where, cond)
	}
	if f.Escalated != nil {
		where = append(where, "escalated = "+arg(*f.Escalated))
	}
	cond := strings.Join(where, " AND ")
	out := []review.Case{}
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM cases WHERE `+cond, args...); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, `SELECT `+caseColumns+` FROM cases WHERE `+cond+
			` ORDER BY id DESC LIMIT `+arg(f.Page.Limit())+` OFFSET `+arg(f.Page.Offset()), args...)
	})
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].Flag(today)
	}
	return out, total, nil
}

// ProposeFromWarnings proposes cases from a published snapshot's warnings:
// one accepted case per warned doctor or institution, naming the indicators
// and gaps and keeping the figures that triggered it. A case whose scope was
// in the bottom three of the same indicator in the county's previous
// published snapshot is escalated to the principal leader's talk.
//
// Call it once for every published snapshot, in publishing order, also when
// a snapshot has no warnings for doctors or institutions: the previous
// snapshot is the latest one proposed from before. It is idempotent per
// snapshot and scope: calling again (a retry after a failure) proposes only
// what is missing and returns every case of the snapshot. Township and county
// warnings are ignored. Invalid when a warning names an unknown doctor or
// institution.
func (db *DB) ProposeFromWarnings(ctx context.Context, snapshotID, county string, publishedAt time.Time, ws []review.Warning) ([]review.Case, error) {
	props, err := review.Propose(snapshotID, ws)
	if err != nil {
		return nil, err
	}
	err = db.inTx(ctx, func(tx *Tx) error {
		subjects := make([]*CaseSubject, len(props))
		for i, p := range props {
			s, err := caseSubject(ctx, tx, p.SubjectType, p.SubjectCode)
			if apperr.CodeOf(err) == apperr.Invalid {
				return apperr.InvalidField("scope_code", fmt.Sprintf("预警对象 %s（%s）不存在或不属于任何县", p.SubjectCode, p.SubjectType))
			}
			if err != nil {
				return err
			}
			if s.CountyCode != county {
				return apperr.InvalidField("scope_code", fmt.Sprintf("预警对象 %s 不属于快照所在县 %s", p.SubjectCode, county))
			}
			subjects[i] = s
		}
		now := db.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO review_snapshots (snapshot_id, published_at, county_code, proposed_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (snapshot_id) DO NOTHING`, snapshotID, publishedAt, county, now); err != nil {
			return err
		}
		// A replay compares with the snapshot before the first call's
		// publishing time, whatever time it is given now.
		if err := tx.GetContext(ctx, &publishedAt, `SELECT published_at FROM review_snapshots WHERE snapshot_id = $1`, snapshotID); err != nil {
			return err
		}
		cal, err := calendar(ctx, tx)
		if err != nil {
			return err
		}
		// The previous snapshot is the county's own: a snapshot of another
		// county, with warnings or without, never breaks a run.
		var prevID string
		err = tx.GetContext(ctx, &prevID, `SELECT snapshot_id FROM review_snapshots
			WHERE county_code = $3 AND published_at < $1 AND snapshot_id <> $2
			ORDER BY published_at DESC, snapshot_id DESC LIMIT 1`, publishedAt, snapshotID, county)
		if err != nil && apperr.CodeOf(translate(err)) != apperr.NotFound {
			return err
		}
		for i := range props {
			p, s := &props[i], subjects[i]
			if prevID != "" {
				var prevWarnings []review.Warnings
				if err := tx.SelectContext(ctx, &prevWarnings, `SELECT triggers FROM cases
					WHERE snapshot_id = $1 AND subject_type = $2 AND subject_code = $3`, prevID, p.SubjectType, p.SubjectCode); err != nil {
					return err
				}
				var flat []review.Warning
				for _, w := range prevWarnings {
					flat = append(flat, w...)
				}
				p.Escalate(prevID, flat)
			}
			c := review.NewCase(civil.Of(now), cal)
			c.Source, c.SnapshotID, c.Triggers = review.FromSnapshot, snapshotID, p.Triggers
			c.SubjectType, c.SubjectCode, c.SubjectName = p.SubjectType, p.SubjectCode, p.SubjectName
			if c.SubjectName == "" {
				c.SubjectName = s.Name
			}
			c.SubjectInstitution, c.CountyCode = s.InstitutionCode, s.CountyCode
			c.Facts = p.Facts()
			if p.Escalation != nil {
				c.Escalated, c.TalkBy, c.Escalation = true, review.TalkPrincipal, p.Escalation
			}
			if _, err := insertCase(ctx, tx, c, systemActor, now, "考核快照 "+snapshotID+" 预警，自动立案"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.snapshotCases(ctx, snapshotID)
}

// snapshotCases returns every case proposed from a snapshot, by subject.
func (db *DB) snapshotCases(ctx context.Context, snapshotID string) ([]review.Case, error) {
	out := []review.Case{}
	err := db.inTx(ctx, func(tx *Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT `+caseColumns+` FROM cases WHERE snapshot_id = $1
			ORDER BY subject_type, subject_code`, snapshotID)
	})
	if err != nil {
		return nil, err
	}
	today := db.today()
	for i := range out {
		out[i].Flag(today)
	}
	return out, nil
}

// Accountability returns a staff member's annual accountability summary.
// NotFound when there is no such staff member.
func (db *DB) Accountability(ctx context.Context, staffCode string, year int) (*review.Summary, error) {
	s := &review.Summary{StaffCode: staffCode, Year: year, Cases: []review.SummaryCase{}}
	err := db.inTx(ctx, func(tx *Tx) error {
		var who struct {
			Name        string `db:"name"`
			Institution string `db:"institution_code"`
		}
		if err := tx.GetContext(ctx, &who, `SELECT name, COALESCE(institution_code, '') AS institution_code FROM staff WHERE code = $1`,
			staffCode); err != nil {
			return notFound(err, "工号 %s 不存在", staffCode)
		}
		s.Name, s.InstitutionCode = who.Name, who.Institution
		from, to := civil.New(year, 1, 1), civil.New(year+1, 1, 1)
		return tx.SelectContext(ctx, &s.Cases, `SELECT id, source, state, accepted_on, decided_on, responsibility, severity, outcome
			FROM cases WHERE subject_type = 'staff' AND subject_code = $1
			  AND ((accepted_on >= $2 AND accepted_on < $3) OR (decided_on >= $2 AND decided_on < $3))
			ORDER BY id`, staffCode, from, to)
	})
	if err != nil {
		return nil, err
	}
	s.Judge()
	return s, nil
}
