package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/importer"
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
	// The CPU the import's PostgreSQL backend and this process spent since
	// the step before (on a shared machine the wall clock says little).
	pg, goCPU time.Duration
}

// cpuMeter reads the CPU time of the import's backend (/proc, when the
// cluster runs on this machine; its parallel workers are not counted) and
// of this process.
type cpuMeter struct {
	pid           int
	lastPG, lastG time.Duration
}

func (m *cpuMeter) find(ctx context.Context, owner *postgres.DB) {
	// The import's connection is the one idle in its transaction between
	// statements.
	_ = owner.GetContext(ctx, &m.pid, `SELECT pid FROM pg_stat_activity WHERE state = 'idle in transaction'
		AND datname = current_database() AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1`)
	m.lastPG, m.lastG = m.pgCPU(), goCPU()
}

func (m *cpuMeter) pgCPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.pid))
	if m.pid == 0 || err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
}

func goCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (m *cpuMeter) lap() (pg, g time.Duration) {
	p, c := m.pgCPU(), goCPU()
	pg, g = p-m.lastPG, c-m.lastG
	m.lastPG, m.lastG = p, c
	return pg, g
}

// loadResult is what the load measured: the files' generation (not part of
// the load), the import's steps and its whole time, and the maintenance
// after it.
type loadResult struct {
	generate       time.Duration
	files          string
	steps, after   []step
	total          time.Duration
	exams, entries int
	bulk           bool
	// floor is the same files' floor, measured after the load (floor.go).
	floor *floorResult
}

// load writes the county's CSV files into a temporary directory and loads
// them through the importer, the call `healthrec import` makes (as the
// owner: into this empty county it loads in bulk, docs/import.md).
func (g *generator) load(ctx context.Context, db, owner *postgres.DB) (*loadResult, error) {
	dir, err := os.MkdirTemp("", "healthrec-bench-files-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	res := &loadResult{}
	start := time.Now()
	if err := g.writeFiles(dir, res); err != nil {
		return nil, fmt.Errorf("write the county's files: %w", err)
	}
	res.generate = time.Since(start)
	var size int64
	if es, err := os.ReadDir(dir); err == nil {
		for _, e := range es {
			if fi, err := e.Info(); err == nil {
				size += fi.Size()
			}
		}
	}
	res.files = fmt.Sprintf("%.0f MB in %s", float64(size)/1e6, dir)

	opt := importer.CommandOptions(owner)
	opt.Today = g.today
	var meter cpuMeter
	opt.Timing = func(name string, d time.Duration) {
		if meter.pid == 0 {
			meter.find(ctx, owner) // from the first step on
		}
		pg, g := meter.lap()
		res.steps = append(res.steps, step{name, d, pg, g})
	}
	start = time.Now()
	rep, err := importer.Run(ctx, db, importer.Dir(dir), opt)
	if err != nil {
		return nil, err
	}
	res.total = time.Since(start)
	if !rep.OK {
		return nil, fmt.Errorf("the county's files have %d bad rows, e.g. %+v", rep.BadRows, rep.Errors[:min(len(rep.Errors), 5)])
	}
	res.bulk = rep.Bulk

	timed := func(name string, fn func() error) error {
		start := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		res.after = append(res.after, step{name: name, d: time.Since(start)})
		return nil
	}
	for _, t := range []string{"records", "exams", "entries", "enrolments", "access_log", "rate_counts"} {
		if err := timed("VACUUM ANALYZE "+t, func() error { _, err := owner.ExecContext(ctx, `VACUUM ANALYZE `+t); return err }); err != nil {
			return nil, err
		}
	}
	// After an ordinary import's RefreshFacts (an update of every record)
	// the report's covering indexes are half dead entries; the bulk path
	// builds them once, after the records are filed.
	if g.o.reindex {
		for _, ix := range reportIndexes(ctx, owner) {
			if err := timed("REINDEX INDEX "+ix, func() error { _, err := owner.ExecContext(ctx, `REINDEX INDEX `+ix); return err }); err != nil {
				return nil, err
			}
		}
	}
	var n int
	if err := timed("the quality rules alone over every record (CPU of the trigger)", func() error {
		return owner.GetContext(ctx, &n, `SELECT count(*) FILTER (WHERE record_quality_failures(name, sex, birth_date, id_number, residence_type,
			ethnicity, phone, contact_phone, responsible_doctor) <> 0) FROM records`)
	}); err != nil {
		return nil, err
	}
	if res.floor, err = measureFloor(ctx, owner, dir); err != nil {
		return nil, fmt.Errorf("the load's floor: %w", err)
	}
	return res, nil
}

// reportIndexes are the covering indexes the report reads, those of this
// tree's migrations.
func reportIndexes(ctx context.Context, db *postgres.DB) []string {
	var out []string
	_ = db.SelectContext(ctx, &out, `SELECT indexname FROM pg_indexes WHERE tablename = 'records' AND indexname IN ('records_active', 'records_draw') ORDER BY 1`)
	return out
}

// csvFile is one of the county's files being written.
type csvFile struct {
	f *os.File
	w *bufio.Writer
}

func createCSV(dir, name, header string) (*csvFile, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	c := &csvFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}
	c.w.WriteString(header + "\n")
	return c, nil
}

// row writes one line; the generator's values hold no comma, quote or line
// break.
func (c *csvFile) row(fields ...string) {
	for i, f := range fields {
		if i > 0 {
			c.w.WriteByte(',')
		}
		c.w.WriteString(f)
	}
	c.w.WriteByte('\n')
}

func (c *csvFile) close() error {
	err := c.w.Flush()
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeFiles writes the county as the importer's files (docs/import.md):
// the registry, the residents, the services (exams and service entries in
// one entries.csv) and, for the follow-ups, their hypertension enrolments.
// The random draws are those of the loader this replaces, in its order, so
// the county is the same.
func (g *generator) writeFiles(dir string, res *loadResult) error {
	if err := g.writeRegistry(dir); err != nil {
		return err
	}
	if err := g.writeResidents(dir); err != nil {
		return err
	}
	return g.writeServices(dir, res)
}

func (g *generator) writeRegistry(dir string) error {
	regions, err := createCSV(dir, importer.RegionsFile, "code,name,institution_code")
	if err != nil {
		return err
	}
	institutions, err := createCSV(dir, importer.InstitutionsFile, "code,name,county_code")
	if err != nil {
		return err
	}
	staffFile, err := createCSV(dir, importer.StaffFile, "staff_code,name,institution_code,roles,phone")
	if err != nil {
		return err
	}
	populations, err := createCSV(dir, importer.PopulationsFile, "village_code,year,population")
	if err != nil {
		return err
	}
	responsibilities, err := createCSV(dir, importer.ResponsibilitiesFile, "village_code,staff_code,from_date")
	if err != nil {
		return err
	}
	regions.row(g.county, "基准县", "")
	for i, t := range g.townships {
		regions.row(t, fmt.Sprintf("第%d镇", i+1), "")
		institutions.row(g.institutions[i], fmt.Sprintf("第%d镇卫生院", i+1), g.county)
	}
	for i, d := range g.doctorCodes {
		staffFile.row(d, "医生"+d, g.institutions[i%len(g.institutions)], "doctor", "")
	}
	for i, v := range g.villages {
		regions.row(v.code, fmt.Sprintf("第%d村", i+1), v.inst)
		responsibilities.row(v.code, v.doctor, "2015-01-01")
		if i%100 == 99 {
			continue // a few villages without a registered population
		}
		for y := g.today.Year() - 3; y <= g.today.Year(); y++ {
			populations.row(v.code, strconv.Itoa(y), strconv.Itoa(v.residents*100/(80+g.r.IntN(19))))
		}
	}
	for _, c := range []*csvFile{regions, institutions, staffFile, populations, responsibilities} {
		if err := c.close(); err != nil {
			return err
		}
	}
	return nil
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

func day(d civil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// writeResidents writes residents.csv, every record with its ID given
// (serials 1… of each village, as the counters then stand).
func (g *generator) writeResidents(dir string) error {
	out, err := createCSV(dir, importer.ResidentsFile, "record_id,village_code,name,sex,birth_date,id_number,residence_type,ethnicity,"+
		"phone,contact_name,contact_phone,responsible_doctor,filed_on,status,status_date")
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
			row := []string{id.String(), v.code, g.name(), sex, day(birth), idn, residence, ethnicities[g.r.IntN(len(ethnicities))],
				g.mobile(), "", "", doctor, day(filed), "active", ""}
			if g.r.IntN(100) < 8 { // one field missing
				switch g.r.IntN(7) {
				case 0:
					row[2] = ""
				case 1:
					row[3] = ""
				case 2:
					row[4] = ""
				case 3:
					row[6] = ""
				case 4:
					row[7] = ""
				case 5:
					row[8] = ""
				case 6:
					row[11] = ""
				}
			}
			rec := genRecord{id: id.String(), doctor: doctor, inst: v.inst, status: 'a'}
			if p := g.r.IntN(100); p < 3 {
				on := filed.AddDays(g.r.IntN(filed.DaysUntil(g.today) + 1))
				row[13], row[14] = "moved_out", day(on)
				if p == 2 {
					row[13] = "deceased"
				}
				rec.status, rec.statusOn = 'x', on
			}
			out.row(row...)
			g.recs = append(g.recs, rec)
		}
	}
	return out.close()
}

// writeServices spreads the dynamic records over the residents: three in
// ten get few (0–2), the others many, dated across the three years up to
// today, none after a record was closed. One in five is a health
// examination, the rest service entries, three in ten of those hypertension
// follow-ups; a record with follow-ups is enrolled in the programme from its
// first (programmes.csv), as the importer requires. entries.csv has the
// exams first, then the entries.
func (g *generator) writeServices(dir string, res *loadResult) error {
	out, err := createCSV(dir, importer.EntriesFile, "record_id,kind,service_date,staff_code,systolic,diastolic,height_cm,weight_kg,programme")
	if err != nil {
		return err
	}
	type pending struct {
		rec  int32
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
			if g.r.IntN(5) > 0 {
				entryRows = append(entryRows, pending{int32(i), d})
				continue
			}
			row := []string{rec.id, "exam", d.String(), rec.doctor, strconv.Itoa(110 + g.r.IntN(60)), strconv.Itoa(60 + g.r.IntN(30)),
				strconv.Itoa(150 + g.r.IntN(35)), strconv.Itoa(45 + g.r.IntN(40)), ""}
			if g.r.IntN(100) < 8 {
				row[7] = "" // weight not taken: an incomplete exam (Q11)
			}
			out.row(row...)
			res.exams++
		}
	}
	enrolled := map[int32]civil.Date{}
	for _, p := range entryRows {
		rec := &g.recs[p.rec]
		kind, programme := "visit", ""
		if g.r.IntN(10) < 3 {
			kind, programme = "followup", "hypertension"
			if on, ok := enrolled[p.rec]; !ok || p.date.Before(on) {
				enrolled[p.rec] = p.date
			}
		}
		out.row(rec.id, kind, p.date.String(), rec.doctor, "", "", "", "", programme)
		res.entries++
	}
	if err := out.close(); err != nil {
		return err
	}
	programmes, err := createCSV(dir, importer.ProgrammesFile, "record_id,programme,enrolled_on,status")
	if err != nil {
		return err
	}
	for i := range g.recs {
		if on, ok := enrolled[int32(i)]; ok {
			programmes.row(g.recs[i].id, "hypertension", on.String(), "active")
		}
	}
	return programmes.close()
}
