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
	"healthrec/internal/notify"
	"healthrec/internal/review"
)

const caseColumns = `id, county_code, source, subject_type, subject_code, subject_name, subject_institution, facts,
	COALESCE(snapshot_id, '') AS snapshot_id, triggers, escalated, talk_by, escalation, state, proposed_on, accepted_on,
	acceptance_note, investigation_due, extended, extension_reason, responsibility, severity, findings, determined_on, defence_due, defence, defended_on,
	outcome, original_outcome,
	decided_on, serving_due, served_on, appeal_due, appealed_on, review_result, closed_on, created_at, created_by, updated_at,
	group_members, extension_requested_by, extension_requested_on, extension_approved_by, extension_refused, meeting, decided_by, reviewed_by`

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
		if o.Source == review.FromComplaint {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET complainant_name = $2, complainant_contact = $3, complainant_staff = $4
				WHERE id = $1`, c.ID, o.Complainant.Name, o.Complainant.Contact, o.Complainant.StaffCode); err != nil {
				return "", err
			}
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
			subject_institution, facts, snapshot_id, triggers, escalated, talk_by, escalation, state, proposed_on, accepted_on,
			investigation_due, created_at, created_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		ON CONFLICT (snapshot_id, subject_type, subject_code) WHERE snapshot_id IS NOT NULL DO NOTHING
		RETURNING id`,
		c.CountyCode, c.Source, c.SubjectType, c.SubjectCode, c.SubjectName, c.SubjectInstitution, c.Facts, snap,
		c.Triggers, c.Escalated, c.TalkBy, c.Escalation, c.State, c.ProposedOn, c.AcceptedOn, c.InvestigationDue, now, actor, now)
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
	ev := &review.Event{CaseID: c.ID, To: string(c.State), Reason: reason, Actor: actor, At: now,
		Details: review.Details{"source": c.Source}}
	if c.State == review.Proposed {
		ev.Details["proposed_on"] = c.ProposedOn
	} else {
		ev.Details["investigation_due"] = c.InvestigationDue
	}
	if err := insertEvent(ctx, tx, ev); err != nil {
		return false, err
	}
	c.Events = []review.Event{*ev}
	return true, nil
}

// insertEvent records a step and sets its ID.
func insertEvent(ctx context.Context, tx *Tx, ev *review.Event) error {
	return tx.GetContext(ctx, &ev.ID, `INSERT INTO case_events (case_id, item_id, from_state, to_state, reason, details, actor, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, ev.CaseID, ev.ItemID, ev.From, ev.To, ev.Reason, ev.Details, ev.Actor, ev.At)
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
		if err := tx.SelectContext(ctx, &c.Events, `SELECT id, case_id, item_id, from_state, to_state, reason, details, actor, at
			FROM case_events WHERE case_id = $1 ORDER BY id`, id); err != nil {
			return err
		}
		if c.Source == review.FromComplaint {
			c.Complainant = &review.Complainant{}
			if err := tx.GetContext(ctx, c.Complainant, `SELECT complainant_name, complainant_contact, complainant_staff
				FROM cases WHERE id = $1`, id); err != nil {
				return err
			}
		}
		c.Consequences = []review.Consequence{}
		return tx.SelectContext(ctx, &c.Consequences, `SELECT case_id, subject_type, subject_code, subject_name, period, cap,
			outcome, decided_on::text AS decided_on FROM case_consequences WHERE case_id = $1 ORDER BY period`, id)
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
		if step.Panel, err = casePanel(ctx, tx, c); err != nil {
			return err
		}
		ev, err := c.Apply(step, actor, now, cal)
		if err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := updateCase(ctx, tx, c); err != nil {
			return err
		}
		if c.State == review.Served && c.Source == review.FromComplaint {
			if err := tellComplainant(ctx, tx, db.SMS, now, c, ev); err != nil {
				return err
			}
		}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		return notifyCase(ctx, tx, db.SMS, now, c, ev)
	})
	if err != nil {
		return nil, err
	}
	return db.Case(ctx, id)
}

// tellComplainant feeds the result back to a complaint's author once the
// decision is served (§7.1): the day is kept on the case and the serving
// event says so; a complainant who works in the service also gets it in
// their inbox. The subject never learns who complained.
func tellComplainant(ctx context.Context, tx *Tx, sms bool, now time.Time, c *review.Case, ev *review.Event) error {
	var k review.Complainant
	if err := tx.GetContext(ctx, &k, `SELECT complainant_name, complainant_contact, complainant_staff FROM cases WHERE id = $1`, c.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET complainant_told_on = $2 WHERE id = $1`, c.ID, civil.Of(now)); err != nil {
		return err
	}
	ev.Details["complainant_informed"] = true
	if k.StaffCode == "" {
		return nil
	}
	m := notify.Message{Kind: notify.KindCase, Key: fmt.Sprintf("case:%d:complainant", c.ID), Title: fmt.Sprintf("您投诉的问题已处理（案件 %d）", c.ID),
		Body: "处理结果：" + c.Outcome.Chinese() + "。如有疑问请联系问责办公室。", Details: notify.Details{"case_id": c.ID}}
	return notifyAll(ctx, tx, sms, now, m, k.StaffCode)
}

func updateCase(ctx context.Context, tx *Tx, c *review.Case) error {
	_, err := tx.NamedExecContext(ctx, `UPDATE cases SET state = :state, accepted_on = :accepted_on,
		acceptance_note = :acceptance_note, investigation_due = :investigation_due,
		extended = :extended, extension_reason = :extension_reason, responsibility = :responsibility, severity = :severity,
		findings = :findings, determined_on = :determined_on, defence_due = :defence_due, defence = :defence,
		defended_on = :defended_on, outcome = :outcome, original_outcome = :original_outcome, decided_on = :decided_on,
		serving_due = :serving_due, served_on = :served_on, appeal_due = :appeal_due, appealed_on = :appealed_on,
		review_result = :review_result, closed_on = :closed_on, updated_at = :updated_at,
		group_members = :group_members, extension_requested_by = :extension_requested_by,
		extension_requested_on = :extension_requested_on, extension_approved_by = :extension_approved_by,
		extension_refused = :extension_refused, meeting = :meeting, decided_by = :decided_by, reviewed_by = :reviewed_by
		WHERE id = :id`, c)
	if err != nil {
		return err
	}
	return writeConsequences(ctx, tx, c)
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
	if f.SnapshotID != "" {
		// A case gets the figures of later snapshots too (one open case
		// per subject): each trigger names its snapshot.
		v := arg(f.SnapshotID)
		where = append(where, fmt.Sprintf("(snapshot_id = %[1]s OR triggers @> jsonb_build_array(jsonb_build_object('snapshot_id', %[1]s::text)))", v))
	}
	if f.Year != 0 {
		from, to := arg(civil.New(f.Year, 1, 1)), arg(civil.New(f.Year+1, 1, 1))
		where = append(where, fmt.Sprintf("((accepted_on >= %[1]s AND accepted_on < %[2]s) OR (decided_on >= %[1]s AND decided_on < %[2]s))", from, to))
	}
	if f.Overdue != nil {
		t := arg(today)
		cond := fmt.Sprintf("COALESCE((state IN ('accepted', 'investigating') AND investigation_due < %[1]s) OR (state = 'decided' AND serving_due < %[1]s), false)", t)
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

// ProposeFromAssessment registers a published snapshot with the review and
// proposes its cases (DESIGN §7.1, review.Assessment.Propose): for an
// assessment, one case in proposed per doctor or institution below target,
// with a deputy leader's talk for a last place and the principal leader's
// for last place in the county's previous assessment too; a pre-assessment
// proposes nothing. A subject with an open assessment case gets the new
// figures added to that case instead of a second one.
//
// The publisher does this inside the publishing transaction; this entry is
// for tests and for replaying a snapshot. It is idempotent per snapshot: a
// snapshot registered before returns its cases and proposes nothing more.
// Invalid when a figure names an unknown doctor or institution, or one of
// another county.
func (db *DB) ProposeFromAssessment(ctx context.Context, a review.Assessment) ([]review.Case, error) {
	var out []review.Case
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		out, err = proposeTx(ctx, tx, db.SMS, db.Now(), a)
		return err
	})
	return out, err
}

func proposeTx(ctx context.Context, tx *Tx, sms bool, now time.Time, a review.Assessment) ([]review.Case, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	// One proposer per county at a time: "the previous assessment" and "the
	// open case of a subject" must not race.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('review-county'), hashtext($1))`, a.County); err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO review_snapshots (snapshot_id, published_at, county_code, kind, last_places, proposed_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (snapshot_id) DO NOTHING`,
		a.SnapshotID, a.PublishedAt, a.County, a.Kind, a.LastPlaces(), now)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return snapshotCasesTx(ctx, tx, a.SnapshotID)
	}
	// The previous assessment is the county's own latest earlier one in
	// force: another county's snapshot, or a pre-assessment, never breaks
	// or makes a run.
	var prev struct {
		ID     string        `db:"snapshot_id"`
		Places review.Places `db:"last_places"`
	}
	err = tx.GetContext(ctx, &prev, `SELECT snapshot_id, last_places FROM review_snapshots
		WHERE county_code = $1 AND kind = 'assessment' AND NOT superseded AND published_at < $2 AND snapshot_id <> $3
		ORDER BY published_at DESC, snapshot_id DESC LIMIT 1`, a.County, a.PublishedAt, a.SnapshotID)
	if err != nil && apperr.CodeOf(translate(err)) != apperr.NotFound {
		return nil, err
	}
	props := a.Propose(prev.ID, prev.Places)
	var ids []int64
	for i := range props {
		p := &props[i]
		s, err := caseSubject(ctx, tx, p.SubjectType, p.SubjectCode)
		if apperr.CodeOf(err) == apperr.Invalid || (err == nil && s.CountyCode != a.County) {
			return nil, apperr.InvalidField("scope_code", fmt.Sprintf("考核对象 %s（%s）不存在或不属于快照所在县 %s", p.SubjectCode, p.SubjectType, a.County))
		}
		if err != nil {
			return nil, err
		}
		id, err := proposeOne(ctx, tx, sms, now, a.SnapshotID, p, s)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return casesByID(ctx, tx, ids)
}

// proposeOne proposes a case for one subject, or adds the proposal's figures
// to the subject's open assessment case (the newest, where an older database
// holds several), and returns the case's ID.
func proposeOne(ctx context.Context, tx *Tx, sms bool, now time.Time, snapshotID string, p *review.Proposal, s *CaseSubject) (int64, error) {
	var open []review.Case
	if err := tx.SelectContext(ctx, &open, `SELECT `+caseColumns+` FROM cases
		WHERE source = 'snapshot' AND subject_type = $1 AND subject_code = $2 AND NOT (state = ANY($3))
		ORDER BY id DESC LIMIT 1 FOR UPDATE`, p.SubjectType, p.SubjectCode, pq.Array(review.FinalStates)); err != nil {
		return 0, err
	}
	if len(open) == 1 {
		c := &open[0]
		c.Triggers = append(c.Triggers, p.Triggers...)
		c.Facts += "\n" + p.Facts()
		if review.TalkRank(p.TalkBy) > review.TalkRank(c.TalkBy) {
			c.TalkBy = p.TalkBy
		}
		if p.Escalation != nil {
			c.Escalated, c.Escalation = true, p.Escalation
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET triggers = $2, facts = $3, talk_by = $4, escalated = $5, escalation = $6,
			updated_at = $7 WHERE id = $1`, c.ID, c.Triggers, c.Facts, c.TalkBy, c.Escalated, c.Escalation, now); err != nil {
			return 0, err
		}
		inds := make([]string, len(p.Triggers))
		for i, w := range p.Triggers {
			inds[i] = w.Indicator
		}
		ev := &review.Event{CaseID: c.ID, From: string(c.State), To: string(c.State), Actor: systemActor, At: now,
			Reason:  "考核快照 " + snapshotID + " 补充数据：" + p.Facts(),
			Details: review.Details{"snapshot_id": snapshotID, "indicators": inds, "talk_by": c.TalkBy}}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return 0, err
		}
		return c.ID, notifyCase(ctx, tx, sms, now, c, ev)
	}
	c := review.NewProposal(civil.Of(now))
	c.Source, c.SnapshotID, c.Triggers = review.FromSnapshot, snapshotID, p.Triggers
	c.SubjectType, c.SubjectCode, c.SubjectName = p.SubjectType, p.SubjectCode, p.SubjectName
	if c.SubjectName == "" {
		c.SubjectName = s.Name
	}
	c.SubjectInstitution, c.CountyCode = s.InstitutionCode, s.CountyCode
	c.Facts, c.TalkBy = p.Facts(), p.TalkBy
	if p.Escalation != nil {
		c.Escalated, c.Escalation = true, p.Escalation
	}
	if _, err := insertCase(ctx, tx, c, systemActor, now, "考核快照 "+snapshotID+" 提出问责建议，待受理"); err != nil {
		return 0, err
	}
	return c.ID, notifyCase(ctx, tx, sms, now, c, &c.Events[0])
}

// caseParties are the people a case's events concern: its subject, or for
// an institution its records administrators.
func caseParties(ctx context.Context, tx *Tx, c *review.Case) ([]string, error) {
	if c.SubjectType == review.SubjectStaff {
		return []string{c.SubjectCode}, nil
	}
	return recordsAdmins(ctx, tx, c.SubjectCode)
}

// caseNews says what a step means to the case's subject, or "" for a step
// they need not hear of.
func caseNews(c *review.Case, ev *review.Event) string {
	switch {
	case ev.Details["action"] == "group", ev.Details["action"] == "extension_request":
		return ""
	case ev.Details["action"] == "extension_decision":
		if ev.Details["approve"] == true {
			return "调查期限延长至 " + c.InvestigationDue.String()
		}
		return ""
	case ev.From == ev.To && ev.From != "":
		switch ev.To {
		case string(review.Determined):
			return "书面申辩已记录，处理决定将予以考虑"
		}
		return "新的考核数据已并入本案"
	case ev.To == string(review.Proposed):
		return "考核结果低于目标，已提出问责建议，待问责办公室初步核实"
	case ev.To == string(review.Accepted):
		return "问责办公室已受理，调查期限至 " + c.InvestigationDue.String()
	case ev.To == string(review.Investigating):
		return "问责办公室已立案调查，调查期限至 " + c.InvestigationDue.String()
	case ev.To == string(review.Dismissed):
		return "问责建议经初步核实不予受理：" + ev.Reason
	case ev.To == string(review.Determined):
		return "调查已认定责任，请查看认定事实；可于 " + c.DefenceDue.String() + " 前提交书面申辩"
	case ev.To == string(review.Decided):
		return "已作出处理决定：" + c.Outcome.Chinese()
	case ev.To == string(review.Served):
		return "处理决定已送达；如不服，可于 " + c.AppealDue.String() + " 前申请复核"
	case ev.To == string(review.Reviewed):
		return "复核结果：" + c.ReviewResult.Chinese()
	case ev.To == string(review.ClosedNoFault), ev.To == string(review.Exempted), ev.To == string(review.Archived):
		return "案件" + review.State(ev.To).Chinese()
	}
	return ""
}

// notifyCase tells the case's subject what a step means for them.
func notifyCase(ctx context.Context, tx *Tx, sms bool, now time.Time, c *review.Case, ev *review.Event) error {
	news := caseNews(c, ev)
	if news == "" {
		return nil
	}
	to, err := caseParties(ctx, tx, c)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("case:%d:event:%d", c.ID, ev.ID)
	m := notify.Message{Kind: notify.KindCase, Key: key, Title: fmt.Sprintf("问责案件 %d：%s", c.ID, review.State(ev.To).Chinese()),
		Body: news, Link: fmt.Sprintf("/#/my-cases/%d", c.ID), Details: notify.Details{"case_id": c.ID, "state": ev.To}}
	return notifyAll(ctx, tx, sms, now, m, to...)
}

// casesByID returns cases in the order of ids, flagged against now's date.
func casesByID(ctx context.Context, tx *Tx, ids []int64) ([]review.Case, error) {
	out := []review.Case{}
	if len(ids) == 0 {
		return out, nil
	}
	if err := tx.SelectContext(ctx, &out, `SELECT `+caseColumns+` FROM cases WHERE id = ANY($1) ORDER BY subject_type, subject_code`,
		pq.Array(ids)); err != nil {
		return nil, err
	}
	return out, nil
}

// snapshotCasesTx returns every case a snapshot proposed or added its
// figures to, by subject.
func snapshotCasesTx(ctx context.Context, tx *Tx, snapshotID string) ([]review.Case, error) {
	out := []review.Case{}
	err := tx.SelectContext(ctx, &out, `SELECT `+caseColumns+` FROM cases
		WHERE snapshot_id = $1 OR triggers @> jsonb_build_array(jsonb_build_object('snapshot_id', $1::text))
		ORDER BY subject_type, subject_code`, snapshotID)
	return out, err
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
	if s.Consequences, err = db.Consequences(ctx, "", review.SubjectStaff, staffCode, year); err != nil {
		return nil, err
	}
	return s, nil
}
