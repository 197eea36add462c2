package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/review"
)

// casePanel finds who may sit on a case (review.Panel): the active
// reviewers and leads of its county, its leads, the county's quorum, and
// why each who must stand aside does (§7.4).
func casePanel(ctx context.Context, tx *Tx, c *review.Case) (*review.Panel, error) {
	var rows []struct {
		Code        string         `db:"code"`
		Institution string         `db:"institution_code"`
		Lead        bool           `db:"lead"`
		Domains     pq.StringArray `db:"domains"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT s.code, COALESCE(s.institution_code, '') AS institution_code,
			bool_or(r.role = 'review_lead' AND r.domain = $1) AS lead,
			(SELECT array_agg(DISTINCT a.domain) FROM staff_roles a WHERE a.staff_code = s.code) AS domains
		FROM staff s JOIN staff_roles r ON r.staff_code = s.code
		WHERE s.active AND r.domain = $1 AND r.role IN ('reviewer', 'review_lead')
		GROUP BY s.code ORDER BY s.code`, "county:"+c.CountyCode); err != nil {
		return nil, err
	}
	p := &review.Panel{QuorumPercent: review.DefaultQuorumPercent, Recused: map[string]string{}}
	var q []int
	if err := tx.SelectContext(ctx, &q, `SELECT quorum_percent FROM review_counties WHERE county_code = $1`, c.CountyCode); err != nil {
		return nil, err
	}
	if len(q) == 1 {
		p.QuorumPercent = q[0]
	}
	var complainant string
	if err := tx.GetContext(ctx, &complainant, `SELECT complainant_staff FROM cases WHERE id = $1`, c.ID); err != nil {
		complainant = ""
	}
	codes := make([]string, len(rows))
	for i, r := range rows {
		codes[i] = r.Code
	}
	var conflicts []review.Conflict
	if err := tx.SelectContext(ctx, &conflicts, `SELECT staff_code, subject_type, subject_code, relation, note, declared_at
		FROM reviewer_conflicts WHERE staff_code = ANY($1) AND subject_type = $2 AND subject_code = $3`,
		pq.Array(codes), c.SubjectType, c.SubjectCode); err != nil {
		return nil, err
	}
	for _, r := range rows {
		p.Reviewers = append(p.Reviewers, r.Code)
		if r.Lead {
			p.Leads = append(p.Leads, r.Code)
		}
		s := review.Sitter{Code: r.Code, Institution: r.Institution, Domains: r.Domains}
		for _, k := range conflicts {
			if k.StaffCode == r.Code {
				s.Conflicts = append(s.Conflicts, k)
			}
		}
		if why := c.RecusalOf(s, complainant); why != "" {
			p.Recused[r.Code] = why
		}
	}
	return p, nil
}

// CasePanel returns who may sit on the case.
func (db *DB) CasePanel(ctx context.Context, id int64) (*review.Panel, error) {
	var p *review.Panel
	err := db.inTx(ctx, func(tx *Tx) error {
		c, err := caseTx(ctx, tx, id, false)
		if err != nil {
			return err
		}
		p, err = casePanel(ctx, tx, c)
		return err
	})
	return p, err
}

// SitterRecusal says why code must stand aside from the case, or "" —
// for anyone, not only the county's reviewers (the panel holds those).
func (db *DB) SitterRecusal(ctx context.Context, id int64, code string) (string, error) {
	var why string
	err := db.inTx(ctx, func(tx *Tx) error {
		c, err := caseTx(ctx, tx, id, false)
		if err != nil {
			return err
		}
		var s review.Sitter
		s.Code = code
		if err := tx.GetContext(ctx, &s.Institution, `SELECT COALESCE(institution_code, '') FROM staff WHERE code = $1`, code); err != nil {
			return notFound(err, "工号 %s 不存在", code)
		}
		if err := tx.SelectContext(ctx, &s.Domains, `SELECT domain FROM staff_roles WHERE staff_code = $1`, code); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &s.Conflicts, `SELECT staff_code, subject_type, subject_code, relation, note, declared_at
			FROM reviewer_conflicts WHERE staff_code = $1`, code); err != nil {
			return err
		}
		var complainant string
		if err := tx.GetContext(ctx, &complainant, `SELECT complainant_staff FROM cases WHERE id = $1`, id); err != nil {
			return err
		}
		why = c.RecusalOf(s, complainant)
		return nil
	})
	return why, err
}

// caseAction runs one due-process action on a locked case and records its
// event.
func (db *DB) caseAction(ctx context.Context, id int64, act func(c *review.Case, p *review.Panel, now time.Time) (*review.Event, error)) (*review.Case, error) {
	err := db.inTx(ctx, func(tx *Tx) error {
		c, err := caseTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		p, err := casePanel(ctx, tx, c)
		if err != nil {
			return err
		}
		now := db.Now()
		ev, err := act(c, p, now)
		if err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := updateCase(ctx, tx, c); err != nil {
			return err
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

// SetCaseGroup forms the case's investigation group.
func (db *DB) SetCaseGroup(ctx context.Context, id int64, members []string, actor string) (*review.Case, error) {
	return db.caseAction(ctx, id, func(c *review.Case, p *review.Panel, now time.Time) (*review.Event, error) {
		return c.SetGroup(members, actor, now, p)
	})
}

// DecideExtension approves or refuses the pending extension request.
func (db *DB) DecideExtension(ctx context.Context, id int64, d review.ExtensionDecision, actor string) (*review.Case, error) {
	return db.caseAction(ctx, id, func(c *review.Case, p *review.Panel, now time.Time) (*review.Event, error) {
		cal, err := calendar(ctx, db.DB)
		if err != nil {
			return nil, err
		}
		return c.DecideExtension(d, actor, now, cal)
	})
}

// writeConsequences replaces the case's 第八条 facts with those of its
// outcome in force.
func writeConsequences(ctx context.Context, tx *Tx, c *review.Case) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM case_consequences WHERE case_id = $1`, c.ID); err != nil {
		return err
	}
	for _, k := range c.DeriveConsequences() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_consequences (case_id, subject_type, subject_code, subject_name, period, cap, outcome, decided_on)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, k.CaseID, k.SubjectType, k.SubjectCode, k.SubjectName, k.Period, k.Cap, k.Outcome, c.DecidedOn); err != nil {
			return err
		}
	}
	return nil
}

// Consequences lists the 第八条 facts: of one subject (subjectType and code
// set), or of a county's subjects in a year (for the 备案 export).
func (db *DB) Consequences(ctx context.Context, county string, subjectType review.SubjectType, code string, year int) ([]review.Consequence, error) {
	out := []review.Consequence{}
	q := `SELECT k.case_id, k.subject_type, k.subject_code, k.subject_name, k.period, k.cap, k.outcome, k.decided_on::text AS decided_on
		FROM case_consequences k JOIN cases c ON c.id = k.case_id WHERE true`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + cond + " $" + strconv.Itoa(len(args))
	}
	if county != "" {
		add("c.county_code =", county)
	}
	if code != "" {
		add("k.subject_type =", subjectType)
		add("k.subject_code =", code)
	}
	if year != 0 {
		add("left(k.period, 4) =", strconv.Itoa(year))
	}
	q += " ORDER BY k.period, k.subject_type, k.subject_code, k.case_id"
	if err := db.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, translate(err)
	}
	for i := range out {
		out[i].CapName = review.CapChinese(out[i].Cap)
	}
	return out, nil
}

// SetQuorum sets the county's quorum for decision meetings.
func (db *DB) SetQuorum(ctx context.Context, county string, percent int, actor string) error {
	if percent < 0 || percent > 99 {
		return apperr.InvalidField("quorum_percent", "法定人数比例应为 0–99：出席的领导小组成员须超过该比例")
	}
	_, err := db.ExecContext(ctx, `INSERT INTO review_counties (county_code, quorum_percent, updated_at, updated_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (county_code) DO UPDATE SET quorum_percent = $2, updated_at = $3, updated_by = $4`, county, percent, db.Now(), actor)
	return translate(err)
}

// DeclareConflict keeps a conflict on the reviewer's profile.
func (db *DB) DeclareConflict(ctx context.Context, k review.Conflict) error {
	if err := k.Validate(); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `INSERT INTO reviewer_conflicts (staff_code, subject_type, subject_code, relation, note, declared_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (staff_code, subject_type, subject_code) DO UPDATE SET relation = $4, note = $5, declared_at = $6`,
		k.StaffCode, k.SubjectType, k.SubjectCode, k.Relation, k.Note, db.Now())
	return translate(err)
}

// Conflicts lists a reviewer's declared conflicts.
func (db *DB) Conflicts(ctx context.Context, code string) ([]review.Conflict, error) {
	out := []review.Conflict{}
	err := db.SelectContext(ctx, &out, `SELECT staff_code, subject_type, subject_code, relation, note, declared_at
		FROM reviewer_conflicts WHERE staff_code = $1 ORDER BY declared_at`, code)
	return out, translate(err)
}
