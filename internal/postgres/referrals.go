package postgres

import (
	"context"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

// Referral returns one referral. Returns NotFound, also for an entry of
// another kind.
func (db *DB) Referral(ctx context.Context, id string) (*entry.Referral, error) {
	return referral(ctx, db.DB, id, "")
}

func referral(ctx context.Context, q sqlx.QueryerContext, id, lock string) (*entry.Referral, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, apperr.NotFoundf("转诊单 %s 不存在", id)
	}
	var r entryRow
	if err := sqlx.GetContext(ctx, q, &r, `SELECT `+entryColumns+` FROM entries WHERE id = $1 AND kind = 'referral' `+lock, n); err != nil {
		return nil, notFound(err, "转诊单 %s 不存在", id)
	}
	e, err := r.toEntry()
	if err != nil {
		return nil, err
	}
	return e.(*entry.Referral), nil
}

// MoveReferral applies a transition to a referral, done by actor. Returns
// NotFound, Conflict with state for a transition the current state does not
// allow, and Invalid for what the transition carries.
func (db *DB) MoveReferral(ctx context.Context, actor, id string, t entry.Transition, f entry.TransitionForm) (*entry.Referral, error) {
	var out *entry.Referral
	err := db.inWriteTx(ctx, func(tx *Tx) error {
		r, err := referral(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := r.Apply(t, f, actor, civil.Of(db.Today())); err != nil {
			return err
		}
		row, err := toRow(r)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE entries SET referral_status = $2, data = $3 WHERE id = $1`,
			r.ID, row.ReferralStatus, string(row.Data)); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// Referral directions for the open-referrals list.
const (
	ReferralsOut = "out" // issued by the caller's institutions
	ReferralsIn  = "in"  // addressed to them
)

// ReferralFilter selects open referrals of some institutions.
type ReferralFilter struct {
	Institutions []string
	Direction    string // ReferralsOut (default) or ReferralsIn
	// OpenOverDays keeps referrals open for more than this many days (issued
	// before today − OpenOverDays); a negative value keeps them all.
	OpenOverDays int
	Page         Page
}

// OpenReferral is a referral on the open list, with whom it is about and
// how long it has been open.
type OpenReferral struct {
	*entry.Referral
	Name        string `json:"name"`
	VillageCode string `json:"village_code"`
	OpenDays    int    `json:"open_days"`
	// InstitutionName names the issuing institution for the receiving
	// side, who reads names, not codes.
	InstitutionName string `json:"institution_name"`
}

// OpenReferrals lists referrals still issued or received, oldest first.
func (db *DB) OpenReferrals(ctx context.Context, f ReferralFilter) ([]OpenReferral, int, error) {
	col := "e.institution_code"
	if f.Direction == ReferralsIn {
		col = "e.to_institution_code"
	}
	today := civil.Of(db.Today())
	before := today.AddDays(-f.OpenOverDays)
	if f.OpenOverDays < 0 {
		before = civil.New(9999, 12, 31)
	}
	cond := col + ` = ANY($1) AND e.referral_status IN ('issued', 'received') AND e.service_date < $2`
	var rows []struct {
		entryRow
		Name            string `db:"name"`
		InstitutionName string `db:"institution_name"`
	}
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM entries e WHERE `+cond, pq.Array(f.Institutions), before); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, `SELECT e.id, e.record_id, e.kind, e.service_date, e.doctor,
			COALESCE(e.institution_code, '') AS institution_code, e.referral_status, e.to_institution_code, e.programme, e.next_date,
			e.data, e.created_at, e.created_by, r.name, COALESCE(i.name, e.institution_code, '') AS institution_name
			FROM entries e JOIN records r ON r.record_id = e.record_id
			LEFT JOIN institutions i ON i.code = e.institution_code WHERE `+cond+`
			ORDER BY e.service_date, e.id LIMIT $3 OFFSET $4`, pq.Array(f.Institutions), before, f.Page.Limit(), f.Page.Offset())
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]OpenReferral, len(rows))
	for i, r := range rows {
		e, err := r.entryRow.toEntry()
		if err != nil {
			return nil, 0, err
		}
		ref := e.(*entry.Referral)
		out[i] = OpenReferral{Referral: ref, Name: r.Name, VillageCode: ref.RecordID[:12], OpenDays: ref.ServiceDate.DaysUntil(today),
			InstitutionName: r.InstitutionName}
	}
	return out, total, nil
}
