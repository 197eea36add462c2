package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/staff"
)

// Load generates the county and writes it in one transaction, with COPY for
// the large tables. It refuses to load into a database that has the county.
func Load(ctx context.Context, db *postgres.DB, o Options) (*Result, error) {
	if o.Residents <= 0 {
		o.Residents = 20000
	}
	now := today(o)
	county, townships, villages, err := readRegions()
	if err != nil {
		return nil, fmt.Errorf("demo regions: %w", err)
	}
	nm, err := readNames()
	if err != nil {
		return nil, err
	}
	hash, err := staff.HashPassword(Password)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x6865616c7468))
	res := &Result{CountyCode: county.Code, CountyName: county.Name, Townships: len(townships), Villages: len(villages)}

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)`, county.Code); err != nil {
		return nil, err
	}
	if exists {
		return nil, fmt.Errorf("demo county %s %s is already loaded", county.Code, county.Name)
	}
	exec := func(q string, args ...any) {
		if err == nil {
			_, err = tx.ExecContext(ctx, q, args...)
		}
	}
	exec(`INSERT INTO regions (code, level, name) VALUES ($1, 'county', $2)`, county.Code, county.Name)

	// One institution per township: a street gets a community health service
	// centre, a town or township a health centre.
	instOf := map[string]string{}
	doctorsOf := map[string][]string{}
	addStaff := func(code, name, inst, phone string, grants []staff.Grant) {
		exec(`INSERT INTO staff (code, name, institution_code, phone, password_hash) VALUES ($1, $2, NULLIF($3, ''), $4, $5)`, code, name, inst, phone, hash)
		for _, g := range grants {
			exec(`INSERT INTO staff_roles (staff_code, role, domain) VALUES ($1, $2, $3)`, code, g.Role, g.Domain)
		}
		res.Staff++
	}
	for i, t := range townships {
		inst := t.Code + "01"
		suffix := "卫生院"
		if strings.HasSuffix(t.Name, "街道") {
			suffix = "社区卫生服务中心"
		}
		exec(`INSERT INTO regions (code, level, parent_code, name) VALUES ($1, 'township', $2, $3)`, t.Code, county.Code, t.Name)
		exec(`INSERT INTO institutions (code, name, county_code) VALUES ($1, $2, $3)`, inst, strings.TrimSuffix(t.Name, "街道")+suffix, county.Code)
		instOf[t.Code] = inst
		res.Institutions++
		n := i + 1
		addStaff(fmt.Sprintf("ra%02d", n), nm.name(r, "F"), inst, mobile(r), staffGrant(staff.RecordsAdmin, inst))
		for k := 1; k <= 3; k++ {
			code := fmt.Sprintf("d%02d%d", n, k)
			sex := []string{"M", "F"}[r.IntN(2)]
			addStaff(code, nm.name(r, sex), inst, mobile(r), staffGrant(staff.Doctor, inst))
			doctorsOf[inst] = append(doctorsOf[inst], code)
		}
		addStaff(fmt.Sprintf("hv%02d", n), nm.name(r, "F"), inst, mobile(r), staffGrant(staff.HomeVisit, inst))
	}
	addStaff("bureau", nm.name(r, "M"), "", mobile(r), []staff.Grant{{Role: staff.Bureau, Domain: staff.CountyDomain(county.Code)}})
	addStaff("reviewer", nm.name(r, "F"), "", mobile(r), []staff.Grant{{Role: staff.Reviewer, Domain: staff.CountyDomain(county.Code)}})
	// A second reviewer (investigation groups have two) and the leading
	// group (decision meetings, extensions).
	addStaff("reviewer2", nm.name(r, "M"), "", mobile(r), []staff.Grant{{Role: staff.Reviewer, Domain: staff.CountyDomain(county.Code)}})
	addStaff("lead1", nm.name(r, "M"), "", mobile(r), []staff.Grant{{Role: staff.ReviewLead, Domain: staff.CountyDomain(county.Code)}})
	addStaff("lead2", nm.name(r, "F"), "", mobile(r), []staff.Grant{{Role: staff.ReviewLead, Domain: staff.CountyDomain(county.Code)}})
	addStaff("requester", "县人民医院（外部申请）", "", mobile(r), []staff.Grant{{Role: staff.Requester, Domain: "external"}})

	// Villages, each with a responsible doctor and the home-visit worker of its institution.
	weights := make([]float64, len(villages))
	var total float64
	for i, v := range villages {
		inst := instOf[v.Code[:9]]
		exec(`INSERT INTO regions (code, level, parent_code, name, institution_code) VALUES ($1, 'village', $2, $3, $4)`, v.Code, v.Code[:9], v.Name, inst)
		docs := doctorsOf[inst]
		exec(`INSERT INTO responsibilities (village_code, from_date, staff_code, created_by) VALUES ($1, '2020-01-01', $2, 'admin')`, v.Code, docs[i%len(docs)])
		exec(`INSERT INTO staff_villages (staff_code, village_code) VALUES ($1, $2)`, "hv"+docs[0][1:3], v.Code)
		weights[i] = 0.5 + r.Float64()
		total += weights[i]
	}
	if err != nil {
		return nil, err
	}

	// Residents, filed village by village in filing-date order so serials follow filing.
	used := map[string]bool{}
	recordCols := []string{"record_id", "village_code", "name", "sex", "birth_date", "id_number", "residence_type", "ethnicity",
		"phone", "contact_name", "contact_phone", "responsible_doctor", "filed_on", "filed_by", "filing_institution",
		"status", "status_date", "destination", "basic_info"}
	// The personal basic information tables from a source of their own, so
	// that the rest of the demo stays as it was for a seed.
	tr := rand.New(rand.NewPCG(uint64(o.Seed), 24))
	var records [][]any
	var exams [][]any
	var enrolments [][]any
	var followups [][]any
	for i, v := range villages {
		inst := instOf[v.Code[:9]]
		docs := doctorsOf[inst]
		doctor := docs[i%len(docs)]
		count := int(float64(o.Residents) * weights[i] / total)
		if i == len(villages)-1 {
			count = o.Residents - res.Residents
		}
		coverage := 0.78 + r.Float64()*0.2
		for y := now.Year() - 2; y <= now.Year(); y++ {
			exec(`INSERT INTO village_populations (village_code, year, population, updated_by) VALUES ($1, $2, $3, 'admin')`,
				v.Code, y, int(float64(count)/coverage)+r.IntN(20))
		}
		filed := make([]civil.Date, count)
		for k := range filed {
			filed[k] = civil.New(2012, 1, 1).AddDays(r.IntN(civil.New(2012, 1, 1).DaysUntil(now)))
		}
		slices.SortFunc(filed, func(a, b civil.Date) int { return a.Time().Compare(b.Time()) })
		for k := 0; k < count; k++ {
			id, err := ident.NewRecordID(v.Code, k+1)
			if err != nil {
				return nil, fmt.Errorf("demo village %s: %w", v.Code, err)
			}
			sex := []string{"M", "F"}[r.IntN(2)]
			age := ageOf(r)
			birth := now.AddDays(-age*365 - r.IntN(365))
			if birth.After(filed[k]) {
				birth = filed[k].AddDays(-r.IntN(30))
			}
			rec := []any{id.String(), v.Code, nm.name(r, sex), sex, birth.Time(), nil, "户籍", ethnicities[r.IntN(len(ethnicities))],
				mobile(r), "", "", doctor, filed[k].Time(), doctor, inst, "active", nil, "", demoTable(tr, age, filed[k])}
			// Real data has gaps: some without an identity number or a phone.
			if r.IntN(100) >= 2 {
				rec[5] = idNumber(r, county.Code, birth, sex, used)
			}
			if r.IntN(100) < 10 {
				rec[6] = "非户籍"
			}
			if r.IntN(100) < 4 {
				rec[8] = ""
				if r.IntN(2) == 0 {
					rec[9], rec[10] = nm.name(r, "F"), mobile(r)
				}
			}
			if p := r.IntN(100); p < 2 {
				d := filed[k].AddDays(r.IntN(max(1, filed[k].DaysUntil(now))))
				rec[15], rec[16], rec[17] = "moved_out", d.Time(), "外县"
			} else if p < 3 {
				d := filed[k].AddDays(r.IntN(max(1, filed[k].DaysUntil(now))))
				rec[15], rec[16] = "deceased", d.Time()
			}
			records = append(records, rec)
			exams = append(exams, examsFor(r, id.String(), doctor, inst, filed[k], now, age)...)
			if rec[15] == "active" {
				e, f := programmesFor(r, id.String(), doctor, inst, filed[k], now, age)
				enrolments, followups = append(enrolments, e...), append(followups, f...)
			}
			res.Residents++
		}
		exec(`INSERT INTO village_serials (village_code, last_serial) VALUES ($1, $2)`, v.Code, count)
	}
	if err != nil {
		return nil, err
	}
	if err := copyRows(ctx, tx, "records", recordCols, records); err != nil {
		return nil, err
	}
	examCols := []string{"record_id", "exam_date", "doctor", "institution_code", "temperature", "pulse", "systolic", "diastolic",
		"height_cm", "weight_kg", "waist_cm", "fasting_glucose", "created_by"}
	if err := copyRows(ctx, tx, "exams", examCols, exams); err != nil {
		return nil, err
	}
	res.Exams = len(exams)
	if err := copyRows(ctx, tx, "enrolments", []string{"record_id", "programme", "enrolled_on", "created_by"}, enrolments); err != nil {
		return nil, err
	}
	if err := copyRows(ctx, tx, "entries", []string{"record_id", "kind", "service_date", "doctor", "institution_code", "programme",
		"next_date", "data", "created_by"}, followups); err != nil {
		return nil, err
	}
	res.Enrolments, res.Followups = len(enrolments), len(followups)
	if _, err := tx.ExecContext(ctx, `INSERT INTO record_history (record_id, changed_by, action, changes)
		SELECT record_id, filed_by, 'import', '{}' FROM records WHERE village_code LIKE $1 || '%'`, county.Code); err != nil {
		return nil, err
	}
	if err := postgres.RefreshFacts(ctx, tx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	res.Logins = []Login{
		{"admin", "admin", "系统管理员（密码见首次启动日志或 HEALTHREC_ADMIN_PASSWORD）"},
		{"d011", "doctor", "第一个乡镇的责任医生"},
		{"ra01", "records_admin", "第一个乡镇的档案管理员"},
		{"hv01", "home_visit", "第一个乡镇的入户随访人员"},
		{"bureau", "bureau", "县卫健局"},
		{"reviewer", "reviewer", "问责办公室"},
		{"lead1", "review_lead", "问责工作领导小组"},
		{"requester", "requester", "外部申请人"},
	}
	return res, nil
}

// ageOf draws an age with a rural county's shape: many elderly, fewer young adults.
func ageOf(r *rand.Rand) int {
	switch p := r.IntN(100); {
	case p < 8:
		return r.IntN(7)
	case p < 20:
		return 7 + r.IntN(11)
	case p < 55:
		return 18 + r.IntN(37)
	case p < 78:
		return 55 + r.IntN(10)
	default:
		return 65 + r.IntN(30)
	}
}

// examsFor makes 0–3 health examinations since filing; the elderly are
// examined yearly, others less often. A few miss a vital sign.
func examsFor(r *rand.Rand, recordID, doctor, inst string, filed, now civil.Date, age int) [][]any {
	n := r.IntN(3)
	if age >= 65 {
		n = 1 + r.IntN(3)
	}
	var out [][]any
	for i := 0; i < n; i++ {
		span := filed.DaysUntil(now)
		if span <= 0 {
			break
		}
		d := now.AddDays(-r.IntN(min(span, 3*365)))
		h := 150 + r.Float64()*30
		w := 45 + r.Float64()*35
		row := []any{recordID, d.Time(), doctor, inst, 36.2 + float64(r.IntN(8))/10, 60 + r.IntN(40),
			105 + r.IntN(60), 65 + r.IntN(30), round1(h), round1(w), round1(w*0.9 + 10), round1(4.5 + r.Float64()*3), doctor}
		if r.IntN(100) < 5 {
			row[9] = nil // weight not taken
		}
		out = append(out, row)
	}
	return out
}

// programmesFor enrols adults in the hypertension and type-2 diabetes
// programmes at a rural county's prevalence (more with age) and gives them
// the follow-ups of the past year: most on schedule, some late, so that the
// home-visit worklist has due and overdue residents.
func programmesFor(r *rand.Rand, recordID, doctor, inst string, filed, now civil.Date, age int) (enrolments, followups [][]any) {
	if age < 35 {
		return nil, nil
	}
	chance := map[string]int{"hypertension": 12 + age/3, "type2_diabetes": 4 + age/10}
	for _, prog := range []string{"hypertension", "type2_diabetes"} {
		if r.IntN(100) >= chance[prog] {
			continue
		}
		enrolled := filed.AddDays(r.IntN(max(1, filed.DaysUntil(now))))
		enrolments = append(enrolments, []any{recordID, prog, enrolled.Time(), doctor})
		// Follow-ups every three months from enrolment, within the last
		// year; a quarter of residents stop being followed some months ago.
		stop := now
		if r.IntN(4) == 0 {
			stop = now.AddDays(-90 - r.IntN(180))
		}
		for d := enrolled.AddMonths(3); !d.After(stop); d = d.AddMonths(3) {
			if d.Before(now.AddDays(-365)) {
				continue
			}
			next := d.AddMonths(3)
			// With the programme's vital sign: a follow-up without it does
			// not meet the specification and would not count for usage.
			data := fmt.Sprintf(`{"method":"home","adherence":"regular","classification":"satisfactory","systolic":%d,"diastolic":%d}`,
				120+r.IntN(40), 70+r.IntN(25))
			if prog == "type2_diabetes" {
				data = fmt.Sprintf(`{"method":"home","adherence":"regular","classification":"satisfactory","fasting_glucose":%.1f}`, 5+r.Float64()*4)
			}
			followups = append(followups, []any{recordID, "followup", d.Time(), doctor, inst, prog, next.Time(), data, doctor})
		}
	}
	return enrolments, followups
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// copyRows bulk-loads rows with COPY FROM STDIN.
func copyRows(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return err
	}
	for _, row := range rows {
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			stmt.Close()
			return fmt.Errorf("copy %s: %w", table, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return stmt.Close()
}
