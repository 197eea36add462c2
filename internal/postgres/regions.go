package postgres

import (
	"context"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/region"
)

// CreateInstitution stores a new institution. Its county must be registered.
func (db *DB) CreateInstitution(ctx context.Context, in *region.Institution) error {
	if err := in.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *Tx) error {
		if err := requireRegion(ctx, tx, in.CountyCode, "county_code"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO institutions (code, name, county_code) VALUES ($1, $2, $3)`,
			in.Code, in.Name, in.CountyCode)
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.Conflict {
			return apperr.Conflictf("机构代码 %s 已存在", in.Code)
		}
		return err
	})
}

// Institutions lists every institution.
func (db *DB) Institutions(ctx context.Context) ([]region.Institution, error) {
	out := []region.Institution{}
	err := db.SelectContext(ctx, &out, `SELECT code, name, county_code FROM institutions ORDER BY code`)
	return out, translate(err)
}

// Institution returns one institution. Returns NotFound if there is none.
func (db *DB) Institution(ctx context.Context, code string) (*region.Institution, error) {
	var in region.Institution
	err := db.GetContext(ctx, &in, `SELECT code, name, county_code FROM institutions WHERE code = $1`, code)
	if err != nil {
		return nil, notFound(err, "机构 %s 不存在", code)
	}
	return &in, nil
}

// CreateRegion registers a county, township or village. A township's county
// and a village's township must be registered first.
func (db *DB) CreateRegion(ctx context.Context, r *region.Region) error {
	if err := r.Normalize(); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *Tx) error {
		if r.ParentCode != "" {
			if err := requireRegion(ctx, tx, r.ParentCode, "code"); err != nil {
				return apperr.InvalidField("code", "上级区划 "+r.ParentCode+" 尚未登记")
			}
		}
		if r.InstitutionCode != "" {
			if _, err := db.institutionTx(ctx, tx, r.InstitutionCode); err != nil {
				return apperr.InvalidField("institution_code", "机构 "+r.InstitutionCode+" 不存在")
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO regions (code, level, parent_code, name, institution_code)
			VALUES ($1, $2, NULLIF($3, ''), $4, NULLIF($5, ''))`,
			r.Code, r.Level, r.ParentCode, r.Name, r.InstitutionCode)
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.Conflict {
			return apperr.Conflictf("区划代码 %s 已登记", r.Code)
		}
		if err != nil {
			return err
		}
		if r.Level == ident.LevelVillage {
			_, err = tx.ExecContext(ctx, `INSERT INTO village_serials (village_code) VALUES ($1)`, r.Code)
		}
		return err
	})
}

func (db *DB) institutionTx(ctx context.Context, tx *Tx, code string) (*region.Institution, error) {
	var in region.Institution
	err := tx.GetContext(ctx, &in, `SELECT code, name, county_code FROM institutions WHERE code = $1`, code)
	return &in, err
}

func requireRegion(ctx context.Context, tx *Tx, code, field string) error {
	var ok bool
	if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)`, code); err != nil {
		return err
	}
	if !ok {
		return apperr.InvalidField(field, "区划 "+code+" 尚未登记")
	}
	return nil
}

const regionColumns = `code, name, level, COALESCE(parent_code, '') AS parent_code, COALESCE(institution_code, '') AS institution_code`

// Region returns one region. Returns NotFound if it is not registered.
func (db *DB) Region(ctx context.Context, code string) (*region.Region, error) {
	var r region.Region
	if err := db.GetContext(ctx, &r, `SELECT `+regionColumns+` FROM regions WHERE code = $1`, code); err != nil {
		return nil, notFound(err, "区划 %s 未登记", code)
	}
	_ = r.Normalize()
	return &r, nil
}

// Regions lists the children of parent, or the counties when parent is empty.
func (db *DB) Regions(ctx context.Context, parent string) ([]region.Region, error) {
	out := []region.Region{}
	var err error
	if parent == "" {
		err = db.SelectContext(ctx, &out, `SELECT `+regionColumns+` FROM regions WHERE parent_code IS NULL ORDER BY code`)
	} else {
		err = db.SelectContext(ctx, &out, `SELECT `+regionColumns+` FROM regions WHERE parent_code = $1 ORDER BY code`, parent)
	}
	for i := range out {
		_ = out[i].Normalize()
	}
	return out, translate(err)
}

// Village returns a registered village. Returns NotFound for anything else.
func (db *DB) Village(ctx context.Context, code string) (*region.Region, error) {
	r, err := db.Region(ctx, code)
	if err != nil {
		return nil, err
	}
	if r.Level != ident.LevelVillage {
		return nil, apperr.NotFoundf("村居 %s 未登记", code)
	}
	return r, nil
}

// SetPopulation records a village's permanent population for a year.
func (db *DB) SetPopulation(ctx context.Context, actor string, p region.Population) error {
	if p.Year < 1900 || p.Year > 9999 {
		return apperr.InvalidField("year", "年份不合法")
	}
	if p.Population < 0 {
		return apperr.InvalidField("population", "人口数不能为负")
	}
	_, err := db.ExecContext(ctx, `INSERT INTO village_populations (village_code, year, population, updated_by)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (village_code, year) DO UPDATE SET population = EXCLUDED.population, updated_at = now(), updated_by = EXCLUDED.updated_by`,
		p.VillageCode, p.Year, p.Population, actor)
	return translate(err)
}

// Populations lists a village's populations by year.
func (db *DB) Populations(ctx context.Context, village string) ([]region.Population, error) {
	out := []region.Population{}
	err := db.SelectContext(ctx, &out, `SELECT village_code, year, population FROM village_populations WHERE village_code = $1 ORDER BY year`, village)
	return out, translate(err)
}

// AddResponsibility makes a doctor of the village's institution its responsible
// doctor from a date.
func (db *DB) AddResponsibility(ctx context.Context, actor string, r region.Responsibility) error {
	if r.FromDate.IsZero() {
		return apperr.InvalidField("from_date", "起始日期不能为空")
	}
	return db.inTx(ctx, func(tx *Tx) error {
		var ok bool
		err := tx.GetContext(ctx, &ok, `SELECT EXISTS (
			SELECT 1 FROM staff s JOIN regions v ON v.institution_code = s.institution_code
			JOIN staff_roles sr ON sr.staff_code = s.code AND sr.role = 'doctor'
			WHERE s.code = $1 AND v.code = $2)`, r.StaffCode, r.VillageCode)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.InvalidField("staff_code", "应为本村所属机构的责任医生")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO responsibilities (village_code, from_date, staff_code, created_by)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (village_code, from_date) DO UPDATE SET staff_code = EXCLUDED.staff_code, created_by = EXCLUDED.created_by, created_at = now()`,
			r.VillageCode, r.FromDate, r.StaffCode, actor)
		return err
	})
}

// Responsibilities lists a village's responsible doctors, latest first.
func (db *DB) Responsibilities(ctx context.Context, village string) ([]region.Responsibility, error) {
	out := []region.Responsibility{}
	err := db.SelectContext(ctx, &out, `SELECT r.village_code, r.staff_code, r.from_date, s.name AS staff_name
		FROM responsibilities r JOIN staff s ON s.code = r.staff_code
		WHERE r.village_code = $1 ORDER BY r.from_date DESC`, village)
	return out, translate(err)
}

// ResponsibleDoctor returns the village's responsible doctor on a date, or "".
func (db *DB) ResponsibleDoctor(ctx context.Context, village string, on civil.Date) (string, error) {
	var code string
	err := db.GetContext(ctx, &code, `SELECT staff_code FROM responsibilities
		WHERE village_code = $1 AND from_date <= $2 ORDER BY from_date DESC LIMIT 1`, village, on)
	if err != nil {
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
			return "", nil
		}
		return "", translate(err)
	}
	return code, nil
}

func notFound(err error, format string, args ...any) error {
	err = translate(err)
	if e, ok := apperr.As(err); ok && e.Code == apperr.NotFound {
		return apperr.NotFoundf(format, args...)
	}
	return err
}
