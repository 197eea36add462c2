package postgres

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/staff"
)

const staffColumns = `code, name, COALESCE(institution_code, '') AS institution_code, phone, active`

// CreateStaff stores a new staff member with roles and, when given, a
// password, which must pass the password policy.
func (db *DB) CreateStaff(ctx context.Context, s *staff.Staff, password string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if password != "" {
		if err := staff.CheckPasswordPolicy(password, s.Code, s.Name, s.Phone); err != nil {
			return err
		}
	}
	return db.createStaff(ctx, s, password)
}

// CreateDemoStaff is CreateStaff without the password policy, for the demo
// county only (make run, serve --demo, healthrec demo): its first admin
// account shares the demo accounts' published password.
func (db *DB) CreateDemoStaff(ctx context.Context, s *staff.Staff, password string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return db.createStaff(ctx, s, password)
}

func (db *DB) createStaff(ctx context.Context, s *staff.Staff, password string) error {
	hash := ""
	if password != "" {
		var err error
		if hash, err = staff.HashPassword(password); err != nil {
			return err
		}
	}
	return db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO staff (code, name, institution_code, phone, password_hash)
			VALUES ($1, $2, NULLIF($3, ''), $4, $5)`, s.Code, s.Name, s.InstitutionCode, s.Phone, hash)
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.Conflict {
			return apperr.Conflictf("工号 %s 已存在", s.Code)
		}
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.Invalid {
			return apperr.InvalidField("institution_code", "机构不存在")
		}
		if err != nil {
			return err
		}
		return setGrants(ctx, tx, s.Code, s.Grants)
	})
}

func setGrants(ctx context.Context, tx *Tx, code string, grants []staff.Grant) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_roles WHERE staff_code = $1`, code); err != nil {
		return err
	}
	for _, g := range grants {
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_roles (staff_code, role, domain) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, code, g.Role, g.Domain); err != nil {
			return err
		}
	}
	return nil
}

// StaffUpdate holds the fields PATCH may change; nil means unchanged.
type StaffUpdate struct {
	Name   *string        `json:"name"`
	Phone  *string        `json:"phone"`
	Active *bool          `json:"active"`
	Grants *[]staff.Grant `json:"roles"`
}

// UpdateStaff changes a staff member's name, phone, active flag or roles.
func (db *DB) UpdateStaff(ctx context.Context, code string, u StaffUpdate) (*staff.Staff, error) {
	err := db.inTx(ctx, func(tx *Tx) error {
		s, err := staffTx(ctx, tx, code)
		if err != nil {
			return err
		}
		if u.Name != nil {
			s.Name = *u.Name
		}
		if u.Phone != nil {
			s.Phone = *u.Phone
		}
		if u.Active != nil {
			s.Active = *u.Active
		}
		if u.Grants != nil {
			s.Grants = *u.Grants
		}
		if err := s.Validate(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET name = $2, phone = $3, active = $4 WHERE code = $1`,
			code, s.Name, s.Phone, s.Active); err != nil {
			return err
		}
		if u.Grants != nil {
			if err := setGrants(ctx, tx, code, s.Grants); err != nil {
				return err
			}
		}
		if !s.Active {
			_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE staff_code = $1`, code)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.Staff(ctx, code)
}

// SetPassword replaces a staff member's password, which must pass the
// password policy, and ends their sessions.
func (db *DB) SetPassword(ctx context.Context, code, password string) error {
	s, err := db.Staff(ctx, code)
	if err != nil {
		return err
	}
	if err := staff.CheckPasswordPolicy(password, s.Code, s.Name, s.Phone); err != nil {
		return err
	}
	hash, err := staff.HashPassword(password)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = $2 WHERE code = $1`, code, hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.NotFoundf("工号 %s 不存在", code)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE staff_code = $1`, code)
		return err
	})
}

// SetStaffVillages sets the villages a home-visit worker serves. Every village
// must belong to the worker's institution.
func (db *DB) SetStaffVillages(ctx context.Context, code string, villages []string) error {
	return db.inTx(ctx, func(tx *Tx) error {
		s, err := staffTx(ctx, tx, code)
		if err != nil {
			return err
		}
		var foreign []string
		err = tx.SelectContext(ctx, &foreign, `SELECT v FROM unnest($1::text[]) v
			WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = v AND r.level = 'village' AND r.institution_code = $2)`,
			pq.Array(villages), s.InstitutionCode)
		if err != nil {
			return err
		}
		if len(foreign) > 0 {
			return apperr.InvalidField("village_codes", "不属于本机构的村居: "+strings.Join(foreign, ", "))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_villages WHERE staff_code = $1`, code); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO staff_villages (staff_code, village_code)
			SELECT $1, v FROM unnest($2::text[]) v ON CONFLICT DO NOTHING`, code, pq.Array(villages))
		return err
	})
}

// Staff returns one staff member with roles and villages. Returns NotFound.
func (db *DB) Staff(ctx context.Context, code string) (*staff.Staff, error) {
	var s *staff.Staff
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		s, err = staffTx(ctx, tx, code)
		return err
	})
	return s, err
}

// staffQuery reads a staff member with roles and villages in one round trip:
// every authenticated request runs it.
const staffQuery = `SELECT s.code, s.name, COALESCE(s.institution_code, '') AS institution_code, s.phone, s.active,
	COALESCE((SELECT json_agg(json_build_object('role', r.role, 'domain', r.domain) ORDER BY r.domain, r.role)
		FROM staff_roles r WHERE r.staff_code = s.code), '[]') AS grants,
	ARRAY(SELECT v.village_code FROM staff_villages v WHERE v.staff_code = s.code ORDER BY v.village_code) AS villages
	FROM staff s`

type staffRow struct {
	staff.Staff
	GrantsJSON []byte         `db:"grants"`
	VillageArr pq.StringArray `db:"villages"`
}

func (r *staffRow) toStaff() (*staff.Staff, error) {
	st := r.Staff
	if err := json.Unmarshal(r.GrantsJSON, &st.Grants); err != nil {
		return nil, err
	}
	st.Villages = []string(r.VillageArr)
	if st.Villages == nil {
		st.Villages = []string{}
	}
	return &st, nil
}

func staffTx(ctx context.Context, q sqlx.QueryerContext, code string) (*staff.Staff, error) {
	var row staffRow
	if err := sqlx.GetContext(ctx, q, &row, staffQuery+` WHERE s.code = $1`, code); err != nil {
		return nil, notFound(err, "工号 %s 不存在", code)
	}
	return row.toStaff()
}

// StaffList lists staff, of one institution when inst is not empty.
func (db *DB) StaffList(ctx context.Context, inst string, page Page) ([]staff.Staff, int, error) {
	out := []staff.Staff{}
	var total int
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM staff WHERE $1 = '' OR institution_code = $1`, inst); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &out, `SELECT `+staffColumns+` FROM staff WHERE $1 = '' OR institution_code = $1
			ORDER BY code LIMIT $2 OFFSET $3`, inst, page.Limit(), page.Offset()); err != nil {
			return err
		}
		for i := range out {
			if err := tx.SelectContext(ctx, &out[i].Grants, `SELECT role, domain FROM staff_roles WHERE staff_code = $1 ORDER BY domain, role`, out[i].Code); err != nil {
				return err
			}
		}
		return nil
	})
	return out, total, err
}

// PasswordHash returns the stored hash of an active staff member, or "".
func (db *DB) PasswordHash(ctx context.Context, code string) (string, error) {
	var h string
	err := db.GetContext(ctx, &h, `SELECT password_hash FROM staff WHERE code = $1 AND active`, code)
	if err != nil {
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
			return "", nil
		}
		return "", translate(err)
	}
	return h, nil
}

// HasAdmin reports whether any admin account exists.
func (db *DB) HasAdmin(ctx context.Context) (bool, error) {
	var ok bool
	err := db.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM staff_roles WHERE role = 'admin')`)
	return ok, translate(err)
}
