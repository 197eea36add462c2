package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
)

// generator makes the synthetic county: one township and one institution per
// 15 villages, the doctors spread evenly over the institutions, each village
// with a responsible doctor, and the residents spread evenly over the
// villages, each record's responsible doctor one of its institution's.
type generator struct {
	o     options
	today civil.Date
	r     *rand.Rand

	county       string
	townships    []string
	institutions []string
	villages     []village
	doctorCodes  []string
	doctorsOf    map[string][]string

	// What the service pass needs of each record, in record ID order.
	recs []genRecord
	// birthOrders counts identity numbers handed out per birth date, so
	// active numbers are unique.
	birthOrders map[civil.Date]int
}

type village struct {
	code, township, inst, doctor string
	residents                    int
}

type genRecord struct {
	id, doctor, inst string
	status           byte // 'a' active, else moved out or deceased on statusOn
	statusOn         civil.Date
}

const villagesPerTownship = 15

func newGenerator(o options, today civil.Date) *generator {
	g := &generator{o: o, today: today, r: rand.New(rand.NewPCG(uint64(o.seed), 0x7261746573)), county: "330127",
		doctorsOf: map[string][]string{}, birthOrders: map[civil.Date]int{}}
	nTown := (o.villages + villagesPerTownship - 1) / villagesPerTownship
	for t := 0; t < nTown; t++ {
		code := fmt.Sprintf("%s%03d", g.county, t+1)
		g.townships = append(g.townships, code)
		g.institutions = append(g.institutions, "B"+code)
	}
	for d := 0; d < o.doctors; d++ {
		code := fmt.Sprintf("b%04d", d+1)
		inst := g.institutions[d%len(g.institutions)]
		g.doctorCodes = append(g.doctorCodes, code)
		g.doctorsOf[inst] = append(g.doctorsOf[inst], code)
	}
	per := o.residents / o.villages
	for v := 0; v < o.villages; v++ {
		t := v / villagesPerTownship
		inst := g.institutions[t]
		docs := g.doctorsOf[inst]
		n := per
		if v == o.villages-1 {
			n = o.residents - per*(o.villages-1)
		}
		g.villages = append(g.villages, village{code: fmt.Sprintf("%s%03d", g.townships[t], 101+v%villagesPerTownship),
			township: g.townships[t], inst: inst, doctor: docs[(v%villagesPerTownship)%len(docs)], residents: n})
	}
	return g
}

type step struct {
	name string
	d    time.Duration
}

func (g *generator) load(ctx context.Context, db *postgres.DB) ([]step, error) {
	var steps []step
	timed := func(name string, fn func() error) error {
		start := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		steps = append(steps, step{name, time.Since(start)})
		return nil
	}
	if err := timed("regions, staff, populations, responsibilities", func() error { return g.loadRegistry(ctx, db) }); err != nil {
		return nil, err
	}
	var hasEntries bool
	if err := db.GetContext(ctx, &hasEntries, `SELECT to_regclass('entries') IS NOT NULL`); err != nil {
		return nil, err
	}
	// One transaction, as an import's: the records, their services and
	// their facts are visible together at the commit, and the tables' own
	// indexes and foreign keys are built and checked once, after the COPY,
	// rather than row by row (postgres.DeferChecks: the tables are empty,
	// and the loader runs as the owner).
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	tables := []string{"records", "exams"}
	if hasEntries {
		tables = append(tables, "entries")
	}
	var restore func() error
	if err := timed("drop the empty tables' indexes and foreign keys", func() error {
		restore, err = postgres.DeferChecks(ctx, tx, tables...)
		return err
	}); err != nil {
		return nil, err
	}
	// The records wait in a temporary table while their exams and entries
	// load (their foreign keys are checked at the end), and are then filed
	// with their facts in one statement (postgres.InsertStagedRecords).
	if err := timed(fmt.Sprintf("COPY %d records into a temporary table", g.o.residents), func() error {
		if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE staged_records ON COMMIT DROP AS SELECT `+
			strings.Join(recordColumns, ", ")+` FROM records WITH NO DATA`); err != nil {
			return err
		}
		return g.loadRecords(ctx, tx)
	}); err != nil {
		return nil, err
	}
	var exams, entries int
	start := time.Now()
	// As `healthrec import` does (ImportTx.CopyEntries): the county's
	// services are a legacy load, queued for nobody's filing.
	if hasEntries {
		if _, err := tx.ExecContext(ctx, `SET LOCAL healthrec.legacy_import = 'on'`); err != nil {
			return nil, err
		}
	}
	if exams, entries, err = g.loadServices(ctx, tx, hasEntries); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("COPY %d exams", exams)
	if hasEntries {
		what += fmt.Sprintf(" + %d entries", entries)
	} else {
		what += " (no entries table in this tree: all are exams)"
	}
	steps = append(steps, step{what, time.Since(start)})
	if err := timed("file the records with their facts (INSERT … SELECT)", func() error {
		_, err := postgres.InsertStagedRecords(ctx, tx, "staged_records", recordColumns)
		return err
	}); err != nil {
		return nil, err
	}
	if err := timed("indexes and foreign keys, built and checked once", restore); err != nil {
		return nil, err
	}
	if err := timed("commit", func() error { return tx.Commit() }); err != nil {
		return nil, err
	}
	// As the import does after its commit (and a server every few seconds).
	if err := timed("fold the rate changes into the counters (rate_fold)", func() error {
		_, err := db.FoldRateChanges(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	for _, t := range []string{"records", "exams", "entries", "rate_counts"} {
		if t == "entries" && !hasEntries {
			continue
		}
		if err := timed("VACUUM ANALYZE "+t, func() error { _, err := db.ExecContext(ctx, `VACUUM ANALYZE `+t); return err }); err != nil {
			return nil, err
		}
	}
	// RefreshFacts rewrote every record once, so the report's covering
	// indexes are half dead entries; after a bulk load they are rebuilt
	// (docs/benchmarks.md), as an operator would after importing a county.
	if g.o.reindex {
		for _, ix := range reportIndexes(ctx, db) {
			if err := timed("REINDEX INDEX "+ix, func() error { _, err := db.ExecContext(ctx, `REINDEX INDEX `+ix); return err }); err != nil {
				return nil, err
			}
		}
	}
	var n int
	if err := timed("the quality rules alone over every record (CPU of the trigger)", func() error {
		return db.GetContext(ctx, &n, `SELECT count(*) FILTER (WHERE record_quality_failures(name, sex, birth_date, id_number, residence_type,
			ethnicity, phone, contact_phone, responsible_doctor) <> 0) FROM records`)
	}); err != nil {
		return nil, err
	}
	return steps, nil
}

// reportIndexes are the covering indexes the report reads, those of this
// tree's migrations.
func reportIndexes(ctx context.Context, db *postgres.DB) []string {
	var out []string
	_ = db.SelectContext(ctx, &out, `SELECT indexname FROM pg_indexes WHERE tablename = 'records' AND indexname IN ('records_active', 'records_draw') ORDER BY 1`)
	return out
}

func (g *generator) loadRegistry(ctx context.Context, db *postgres.DB) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		if err == nil {
			_, err = tx.ExecContext(ctx, q, args...)
		}
	}
	exec(`INSERT INTO regions (code, level, name) VALUES ($1, 'county', '基准县')`, g.county)
	for i, t := range g.townships {
		exec(`INSERT INTO regions (code, level, parent_code, name) VALUES ($1, 'township', $2, $3)`, t, g.county, fmt.Sprintf("第%d镇", i+1))
		exec(`INSERT INTO institutions (code, name, county_code) VALUES ($1, $2, $3)`, g.institutions[i], fmt.Sprintf("第%d镇卫生院", i+1), g.county)
	}
	for i, d := range g.doctorCodes {
		inst := g.institutions[i%len(g.institutions)]
		exec(`INSERT INTO staff (code, name, institution_code) VALUES ($1, $2, $3)`, d, "医生"+d, inst)
		exec(`INSERT INTO staff_roles (staff_code, role, domain) VALUES ($1, 'doctor', $2)`, d, "inst:"+inst)
	}
	for i, v := range g.villages {
		exec(`INSERT INTO regions (code, level, parent_code, name, institution_code) VALUES ($1, 'village', $2, $3, $4)`,
			v.code, v.township, fmt.Sprintf("第%d村", i+1), v.inst)
		exec(`INSERT INTO village_serials (village_code, last_serial) VALUES ($1, $2)`, v.code, v.residents)
		exec(`INSERT INTO responsibilities (village_code, from_date, staff_code) VALUES ($1, '2015-01-01', $2)`, v.code, v.doctor)
		if i%100 == 99 {
			continue // a few villages without a registered population
		}
		for y := g.today.Year() - 3; y <= g.today.Year(); y++ {
			exec(`INSERT INTO village_populations (village_code, year, population) VALUES ($1, $2, $3)`,
				v.code, y, v.residents*100/(80+g.r.IntN(19)))
		}
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

var (
	surnames    = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	givenChars  = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华红玉梅建国志文春生海云飞林鹏辉波宁")
	ethnicities = []string{"汉族", "汉族", "汉族", "汉族", "汉族", "汉族", "汉族", "汉族", "汉族", "畲族"}
)

func (g *generator) name() string {
	n := string(surnames[g.r.IntN(len(surnames))]) + string(givenChars[g.r.IntN(len(givenChars))])
	if g.r.IntN(3) > 0 {
		n += string(givenChars[g.r.IntN(len(givenChars))])
	}
	return n
}

func (g *generator) mobile() string {
	return fmt.Sprintf("1%d%09d", 3+g.r.IntN(7), g.r.IntN(1000000000))
}

// idNumber makes a valid number, unique per birth date and sex.
func (g *generator) idNumber(birth civil.Date, sex string) string {
	k := g.birthOrders[birth]
	g.birthOrders[birth] = k + 1
	order := 2 * (k % 500)
	if sex == "M" {
		order++
	}
	first := fmt.Sprintf("%06d%s%03d", 330127+k/500, birth.Time().Format("20060102"), order)
	return first + string(ident.CheckChar(first))
}

func (g *generator) age() int {
	switch p := g.r.IntN(100); {
	case p < 8:
		return g.r.IntN(7)
	case p < 20:
		return 7 + g.r.IntN(11)
	case p < 55:
		return 18 + g.r.IntN(37)
	case p < 78:
		return 55 + g.r.IntN(10)
	default:
		return 65 + g.r.IntN(30)
	}
}

// recordColumns are the columns of records the generator writes.
var recordColumns = []string{"record_id", "village_code", "name", "sex", "birth_date", "id_number",
	"residence_type", "ethnicity", "phone", "contact_name", "contact_phone", "responsible_doctor", "filed_on", "filed_by",
	"filing_institution", "status", "status_date", "destination"}

func (g *generator) loadRecords(ctx context.Context, tx *sqlx.Tx) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("staged_records", recordColumns...))
	if err != nil {
		return err
	}
	firstFiling := civil.New(2015, 1, 1)
	span := firstFiling.DaysUntil(g.today)
	g.recs = make([]genRecord, 0, g.o.residents)
	for _, v := range g.villages {
		docs := g.doctorsOf[v.inst]
		for k := 1; k <= v.residents; k++ {
			id, err := ident.NewRecordID(v.code, k)
			if err != nil {
				return err
			}
			sex := []string{"M", "F"}[g.r.IntN(2)]
			birth := g.today.AddDays(-g.age()*365 - g.r.IntN(365))
			filed := firstFiling.AddDays(g.r.IntN(span + 1))
			if birth.After(filed) {
				birth = filed.AddDays(-g.r.IntN(30))
			}
			idn := g.idNumber(birth, sex)
			if g.r.IntN(100) < 2 { // a bad identity number: the wrong check character
				c := byte('0' + (idn[17]-'0'+1)%10)
				if idn[17] == 'X' {
					c = '0'
				}
				idn = idn[:17] + string(c)
			}
			residence := "户籍"
			if g.r.IntN(10) == 0 {
				residence = "非户籍"
			}
			doctor := docs[g.r.IntN(len(docs))]
			row := []any{id.String(), v.code, g.name(), sex, birth.Time(), idn, residence, ethnicities[g.r.IntN(len(ethnicities))],
				g.mobile(), "", "", doctor, filed.Time(), doctor, v.inst, "active", nil, ""}
			if g.r.IntN(100) < 8 { // one field missing
				switch g.r.IntN(7) {
				case 0:
					row[2] = ""
				case 1:
					row[3] = nil
				case 2:
					row[4] = nil
				case 3:
					row[6] = ""
				case 4:
					row[7] = ""
				case 5:
					row[8] = ""
				case 6:
					row[11] = nil
				}
			}
			rec := genRecord{id: id.String(), doctor: doctor, inst: v.inst, status: 'a'}
			if p := g.r.IntN(100); p < 3 {
				on := filed.AddDays(g.r.IntN(filed.DaysUntil(g.today) + 1))
				row[15], row[16], row[17] = "moved_out", on.Time(), "外县"
				if p == 2 {
					row[15], row[17] = "deceased", ""
				}
				rec.status, rec.statusOn = 'x', on
			}
			if _, err := stmt.ExecContext(ctx, row...); err != nil {
				return err
			}
			g.recs = append(g.recs, rec)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	return nil
}

// loadServices spreads the dynamic records over the residents: three in ten
// get few (0–2), the others many, dated across the three years up to today,
// none after a record was closed. Without an entries table they are all
// health examinations; with one, one in five is.
func (g *generator) loadServices(ctx context.Context, tx interface {
	PrepareContext(context.Context, string) (*sql.Stmt, error)
}, hasEntries bool) (exams, entries int, err error) {
	examStmt, err := tx.PrepareContext(ctx, pq.CopyIn("exams", "record_id", "exam_date", "doctor", "institution_code",
		"systolic", "diastolic", "height_cm", "weight_kg", "created_by"))
	if err != nil {
		return 0, 0, err
	}
	defer examStmt.Close()
	type pending struct {
		rec  *genRecord
		date civil.Date
	}
	var entryRows []pending
	mean := float64(g.o.entries) / float64(g.o.residents)
	many := int((mean-0.3)/0.7*2) + 1 // uniform 0..many-1 has the mean the rest needs
	first := g.today.AddDays(-3*365 + 1)
	for i := range g.recs {
		rec := &g.recs[i]
		n := g.r.IntN(many)
		if g.r.IntN(10) < 3 {
			n = g.r.IntN(3)
		}
		last := g.today
		if rec.status != 'a' {
			last = rec.statusOn
		}
		days := first.DaysUntil(last) + 1
		if days <= 0 {
			continue
		}
		for k := 0; k < n; k++ {
			d := first.AddDays(g.r.IntN(days))
			if hasEntries && g.r.IntN(5) > 0 {
				entryRows = append(entryRows, pending{rec, d})
				continue
			}
			row := []any{rec.id, d.Time(), rec.doctor, rec.inst, 110 + g.r.IntN(60), 60 + g.r.IntN(30), 150 + g.r.IntN(35), 45 + g.r.IntN(40), rec.doctor}
			if g.r.IntN(100) < 8 {
				row[7] = nil // weight not taken: an incomplete exam (Q11)
			}
			if _, err := examStmt.ExecContext(ctx, row...); err != nil {
				return 0, 0, err
			}
			exams++
		}
	}
	if _, err := examStmt.ExecContext(ctx); err != nil {
		return 0, 0, err
	}
	if !hasEntries {
		return exams, 0, nil
	}
	entryStmt, err := tx.PrepareContext(ctx, pq.CopyIn("entries", "record_id", "kind", "service_date", "doctor", "institution_code",
		"programme", "created_by"))
	if err != nil {
		return 0, 0, err
	}
	defer entryStmt.Close()
	for _, p := range entryRows {
		kind, programme := "visit", any(nil)
		if g.r.IntN(10) < 3 {
			kind, programme = "followup", "hypertension"
		}
		if _, err := entryStmt.ExecContext(ctx, p.rec.id, kind, p.date.Time(), p.rec.doctor, p.rec.inst, programme, p.rec.doctor); err != nil {
			return 0, 0, err
		}
		entries++
	}
	if _, err := entryStmt.ExecContext(ctx); err != nil {
		return 0, 0, err
	}
	return exams, entries, nil
}
