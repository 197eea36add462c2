package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/importer"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
	"healthrec/internal/record"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// churn is the county of TestConcurrentChurn and what its workers share.
type churn struct {
	e        *rateEnv
	mu       sync.Mutex
	records  []string // every record filed, the seeds first
	enrolled []string // records enrolled in hypertension management
	order    atomic.Int64
	key      atomic.Int64
	// writes counts the writes attempted and refused (4xx), per kind.
	writes, refused sync.Map
	why             sync.Map    // the first refusal of each kind
	failed          chan string // errors a user would get as 5xx
}

// doctors are the responsible doctors of each institution.
func (c *churn) doctors(village string) []string {
	if strings.HasPrefix(village, "3301271000") || strings.HasPrefix(village, "3301271001") {
		return []string{c.e.f.DoctorA, "docA2"}
	}
	return []string{c.e.f.DoctorB, "docB2"}
}

func (c *churn) institution(id string) string {
	if id[:12] == c.e.f.VillageA1 || id[:12] == c.e.f.VillageA2 {
		return c.e.f.InstA
	}
	return c.e.f.InstB
}

// done notes the outcome of one write: a refusal with a 4xx code is an
// answer; anything else a user would see as a 5xx.
func (c *churn) done(kind string, err error) {
	n, _ := c.writes.LoadOrStore(kind, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	if err == nil {
		return
	}
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Conflict:
		r, _ := c.refused.LoadOrStore(kind, new(atomic.Int64))
		r.(*atomic.Int64).Add(1)
		c.why.LoadOrStore(kind, err.Error())
	default:
		c.failed <- fmt.Sprintf("%s: %v", kind, err)
	}
}

func (c *churn) pick(r *rand.Rand, from []string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return from[r.IntN(len(from))]
}

// anyRecord is a random record, half the time one of the seeds the imports
// add entries to (so that writes and imports meet on records).
func (c *churn) anyRecord(r *rand.Rand) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.IntN(2) == 0 {
		return c.records[r.IntN(churnImported)]
	}
	return c.records[r.IntN(len(c.records))]
}

// closable is a random record the imports do not reference.
func (c *churn) closable(r *rand.Rand) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.records[churnImported+r.IntN(len(c.records)-churnImported)]
}

// churnImported is how many seed records the imports add entries to.
const churnImported = 12

func randomDate(r *rand.Rand, from string, days int) civil.Date {
	return civil.MustParse(from).AddDays(r.IntN(days))
}

// file files a record with every static rule holding, or some broken.
func (c *churn) file(r *rand.Rand, village, filedOn string) (string, error) {
	n := int(c.order.Add(1)) % 1000
	birth := randomDate(r, "1950-01-01", 15000)
	sex := "F"
	if n%2 == 1 {
		sex = "M"
	}
	rec := &record.Record{VillageCode: village, Name: "居民", Sex: sex, BirthDate: birth, IDNumber: validID(birth.String(), n),
		ResidenceType: "户籍", Ethnicity: "汉族", Phone: "13912345678", FiledOn: civil.MustParse(filedOn)}
	if r.IntN(4) == 0 {
		rec.Phone = ""
	}
	err := c.e.db.FileRecord(c.e.ctx, c.e.f.AdminA, rec)
	if err == nil {
		c.mu.Lock()
		c.records = append(c.records, rec.RecordID)
		c.mu.Unlock()
	}
	return rec.RecordID, err
}

func (c *churn) patch(id string, fields map[string]any) error {
	p := map[string]json.RawMessage{}
	for k, v := range fields {
		b, _ := json.Marshal(v)
		p[k] = b
	}
	_, err := c.e.db.UpdateRecord(c.e.ctx, c.e.f.AdminA, id, p)
	return err
}

// entry records a service entry of a kind from its JSON form, under a key
// when key is set, and replays it once in a while.
func (c *churn) entry(r *rand.Rand, kind entry.Kind, id string, body map[string]any, key bool) error {
	doc := c.doctors(id[:12])[0]
	make := func() (entry.Entry, error) {
		e := entry.New(kind)
		b, _ := json.Marshal(body)
		if err := json.Unmarshal(b, e.Form()); err != nil {
			return nil, err
		}
		e.Head().RecordID = id
		return e, nil
	}
	var k postgres.Idempotency
	if key {
		k = postgres.NewIdempotency(doc, fmt.Sprintf("churn-%d", c.key.Add(1)), body)
	}
	e, err := make()
	if err != nil {
		return err
	}
	got, created, err := c.e.db.AddEntry(c.e.ctx, doc, c.institution(id), e, k, nil)
	if err != nil || !key || r.IntN(2) == 0 {
		if err == nil && kind == entry.KindReferral && r.IntN(2) == 0 {
			return c.moveReferral(r, got)
		}
		return err
	}
	// The tablet did not hear the answer and sends the same again.
	again, _ := make()
	replay, createdAgain, err := c.e.db.AddEntry(c.e.ctx, doc, c.institution(id), again, k, nil)
	if err != nil {
		return err
	}
	if !created || createdAgain || replay.Head().ID != got.Head().ID {
		c.failed <- fmt.Sprintf("%s replay: created %v then %v, entry %d then %d", kind, created, createdAgain, got.Head().ID, replay.Head().ID)
	}
	return nil
}

// moveReferral receives a referral, then returns or closes it.
func (c *churn) moveReferral(r *rand.Rand, e entry.Entry) error {
	id := fmt.Sprint(e.Head().ID)
	if _, err := c.e.db.MoveReferral(c.e.ctx, c.e.f.DoctorB, id, entry.Receive, entry.TransitionForm{}); err != nil {
		return err
	}
	if r.IntN(2) == 0 {
		_, err := c.e.db.MoveReferral(c.e.ctx, c.e.f.DoctorB, id, entry.Return, entry.TransitionForm{
			ReferralBack: entry.ReferralBack{Diagnosis: "高血压 2 级", Recommendations: "社区随访"}})
		return err
	}
	_, err := c.e.db.MoveReferral(c.e.ctx, c.e.f.DoctorA, id, entry.Close, entry.TransitionForm{Reason: "患者未前往"})
	return err
}

// write is one random write of a worker.
func (c *churn) write(r *rand.Rand) {
	e, f := c.e, c.e.f
	villages := []string{f.VillageA1, f.VillageA2, f.VillageB1, f.VillageB2}
	switch op := r.IntN(17); op {
	case 0:
		_, err := c.file(r, villages[r.IntN(4)], randomDate(r, "2023-01-01", 1200).String())
		c.done("file", err)
	case 1: // break or fix Q8
		phone := ""
		if r.IntN(2) == 0 {
			phone = "13812345678"
		}
		c.done("edit", c.patch(c.anyRecord(r), map[string]any{"phone": phone}))
	case 2: // a new birth date, with the identity number that agrees (or not)
		birth := randomDate(r, "1940-01-01", 20000).String()
		n := int(c.order.Add(2))%1000/2*2 + 1
		fields := map[string]any{"birth_date": birth, "id_number": validID(birth, n), "sex": "M"}
		if r.IntN(3) == 0 {
			fields = map[string]any{"birth_date": birth, "id_number": "", "sex": "F"}
		}
		c.done("birth date", c.patch(c.anyRecord(r), fields))
	case 3: // handover
		id := c.anyRecord(r)
		docs := append(c.doctors(id[:12]), "")
		c.done("responsible doctor", c.patch(id, map[string]any{"responsible_doctor": docs[r.IntN(3)]}))
	case 4:
		if r.IntN(2) == 0 { // fewer: a closed record takes no more services
			c.done("visit", c.entry(r, entry.KindVisit, c.anyRecord(r), map[string]any{"service_date": randomDate(r, "2024-01-01", 911),
				"subjective": "咳嗽", "assessment": "上呼吸道感染"}, false))
			return
		}
		st := record.MovedOut
		if r.IntN(3) == 0 {
			st = record.Deceased
		}
		_, err := e.db.ChangeStatus(e.ctx, f.AdminA, c.closable(r), postgres.StatusChange{Status: st,
			StatusDate: randomDate(r, "2025-01-01", 545), Destination: "杭州"})
		c.done("status", err)
	case 5:
		v := villages[r.IntN(4)]
		c.done("responsibility", e.db.AddResponsibility(e.ctx, f.Admin, region.Responsibility{VillageCode: v,
			StaffCode: c.doctors(v)[r.IntN(2)], FromDate: randomDate(r, "2024-01-01", 900)}))
	case 6:
		c.done("population", e.db.SetPopulation(e.ctx, f.Admin, region.Population{VillageCode: villages[r.IntN(4)],
			Year: 2025 + r.IntN(2), Population: 20 + r.IntN(40)}))
	case 7, 8:
		id := c.anyRecord(r)
		x := &record.Exam{RecordID: id, ExamDate: randomDate(r, "2024-01-01", 911), Doctor: c.doctors(id[:12])[0]}
		if r.IntN(3) > 0 {
			s, d, h, w := 130, 80, 160.0, 60.0
			x.Systolic, x.Diastolic, x.HeightCM, x.WeightKG = &s, &d, &h, &w
		}
		var k postgres.Idempotency
		if r.IntN(2) == 0 {
			k = postgres.NewIdempotency(x.Doctor, fmt.Sprintf("churn-exam-%d", c.key.Add(1)), x.ExamDate.String())
		}
		created, err := e.db.AddExam(e.ctx, x.Doctor, c.institution(id), x, k)
		if err == nil && k.Key != "" {
			y := *x
			again, err2 := e.db.AddExam(e.ctx, x.Doctor, c.institution(id), &y, k)
			if err2 == nil && (!created || again) {
				c.failed <- fmt.Sprintf("exam replay: created %v then %v", created, again)
			}
			err = err2
		}
		c.done("exam", err)
	case 9, 10:
		c.done("visit", c.entry(r, entry.KindVisit, c.anyRecord(r), map[string]any{"service_date": randomDate(r, "2024-01-01", 911),
			"subjective": "头晕三天", "assessment": "高血压"}, r.IntN(2) == 0))
	case 11, 12:
		c.done("followup", c.entry(r, entry.KindFollowup, c.pick(r, c.enrolled), map[string]any{
			"service_date": randomDate(r, "2025-01-01", 545), "programme": "hypertension", "method": "home",
			"systolic": 142, "diastolic": 88, "adherence": "regular", "classification": "unsatisfactory"}, true))
	case 13:
		id := c.anyRecord(r)
		body := map[string]any{"service_date": randomDate(r, "2025-06-01", 300), "to_institution_code": f.InstB,
			"impression": "高血压 3 级", "reason": "血压控制不佳"}
		if c.institution(id) == f.InstB {
			body["to_institution_code"] = f.InstA
		}
		c.done("referral", c.entry(r, entry.KindReferral, id, body, r.IntN(2) == 0))
	case 14:
		c.done("consultation", c.entry(r, entry.KindConsultation, c.anyRecord(r), map[string]any{
			"service_date": randomDate(r, "2024-01-01", 911), "reason": "血压难以控制",
			"consultants": []map[string]string{{"institution": "淳安县第一人民医院", "doctor": "王主任"}}, "opinion": "加用利尿剂"}, r.IntN(2) == 0))
	case 15:
		in := randomDate(r, "2024-01-01", 900)
		c.done("hospitalisation", c.entry(r, entry.KindHospitalisation, c.anyRecord(r), map[string]any{"hospital": "淳安县第一人民医院",
			"admitted_on": in, "discharged_on": in.AddDays(5), "diagnosis": "高血压急症"}, r.IntN(2) == 0))
	case 16:
		_, err := e.db.Report(e.ctx, f.County, rates.Params{AsOf: randomDate(r, "2025-01-01", 545), Sample: rates.Sample(1 + r.IntN(5)), Seed: r.Int64()})
		c.done("report", err)
	}
}

// importFiles are an import of new residents and of exams, visits and
// follow-ups for the first seeds, dated over two years.
func (c *churn) importFiles(t *testing.T, r *rand.Rand) importer.Dir {
	f := c.e.f
	var res, ent strings.Builder
	res.WriteString("record_id,village_code,name,sex,birth_date,id_number,residence_type,ethnicity,phone,contact_name,contact_phone,responsible_doctor,filed_on,status,status_date\n")
	for i, v := range []string{f.VillageA1, f.VillageA2, f.VillageB1, f.VillageB2, f.VillageA1, f.VillageB1} {
		fmt.Fprintf(&res, ",%s,导入%d,F,1961-02-03,,户籍,汉族,13912345678,,,%s,%s,,\n", v, i, c.doctors(v)[i%2], randomDate(r, "2023-01-01", 1000))
	}
	ent.WriteString("record_id,kind,service_date,staff_code,systolic,diastolic,height_cm,weight_kg,programme\n")
	c.mu.Lock()
	seeds := append([]string(nil), c.records[:churnImported]...)
	var enrolled []string // of those, no status change ends their enrolment
	for _, id := range c.enrolled {
		for _, s := range seeds {
			if s == id {
				enrolled = append(enrolled, id)
			}
		}
	}
	c.mu.Unlock()
	for i := 0; i < 40; i++ {
		id := seeds[r.IntN(len(seeds))]
		doc := c.doctors(id[:12])[0]
		on := randomDate(r, "2024-07-01", 700)
		switch r.IntN(3) {
		case 0:
			fmt.Fprintf(&ent, "%s,exam,%s,%s,128,82,158,%d,\n", id, on, doc, 50+r.IntN(30))
		case 1:
			fmt.Fprintf(&ent, "%s,visit,%s,%s,,,,,\n", id, on, doc)
		default:
			id = enrolled[r.IntN(len(enrolled))]
			fmt.Fprintf(&ent, "%s,followup,%s,%s,,,,,hypertension\n", id, randomDate(r, "2025-01-01", 500), c.doctors(id[:12])[0])
		}
	}
	return importDir(t, map[string]string{"residents.csv": res.String(), "entries.csv": ent.String()})
}

// TestConcurrentChurn runs every kind of write at once — filings, edits that
// break and fix rules, birth-date and responsible-doctor changes, status
// changes, responsibility and population changes, exams, visits, follow-ups
// replayed under their idempotency keys, referrals with their transitions,
// consultations, hospitalisations, reports — from several workers while two
// imports run; then the consistency check finds nothing to repair, the
// report equals a recomputation from the tables at three dates, and no write
// was answered with anything a user would see as a 5xx (a deadlock or a
// serialisation failure included).
func TestConcurrentChurn(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	c := &churn{e: e, failed: make(chan string, 1000)}
	for _, s := range []struct{ code, inst string }{{"docA2", f.InstA}, {"docB2", f.InstB}} {
		e.must(e.db.CreateStaff(e.ctx, &staff.Staff{Code: s.code, Name: "医生" + s.code, InstitutionCode: s.inst,
			Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(s.inst)}}}, ""))
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 23))
	seed := r.Uint64()
	t.Logf("seed %d", seed)
	r = rand.New(rand.NewPCG(seed, 23))
	villages := []string{f.VillageA1, f.VillageA2, f.VillageB1, f.VillageB2}
	for i := 0; i < 36; i++ {
		id, err := c.file(r, villages[i%4], randomDate(r, "2023-01-01", 700).String())
		e.must(err)
		if i%3 == 0 {
			_, _, err := e.db.AddEnrolment(e.ctx, f.AdminA, id, entry.EnrolmentForm{Programme: entry.Hypertension,
				EnrolledOn: civil.MustParse("2024-06-01")}, postgres.Idempotency{})
			e.must(err)
			c.enrolled = append(c.enrolled, id)
		}
	}

	var wg sync.WaitGroup
	imports := make(chan error, 3)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ir := rand.New(rand.NewPCG(seed, 1))
		for i := 0; i < 3; i++ {
			time.Sleep(time.Duration(ir.IntN(200)) * time.Millisecond)
			rep, err := importer.Run(context.Background(), e.db, c.importFiles(t, ir), importer.Options{Actor: "admin", Admin: true,
				Today: civil.MustParse("2026-06-30")})
			if err == nil && !rep.OK {
				b, _ := json.Marshal(rep)
				err = fmt.Errorf("import refused: %s", b)
			}
			imports <- err
		}
	}()
	const workers, writes = 6, 60
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wr := rand.New(rand.NewPCG(seed, uint64(100+w)))
			for i := 0; i < writes; i++ {
				c.write(wr)
			}
		}(w)
	}
	wg.Wait()
	close(imports)
	close(c.failed)
	for err := range imports {
		if err != nil {
			t.Errorf("import: %v", err)
		}
	}
	for msg := range c.failed {
		t.Errorf("a user would get a 5xx: %s", msg)
	}
	var summary []string
	c.writes.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		refused := int64(0)
		if x, ok := c.refused.Load(k); ok {
			refused = x.(*atomic.Int64).Load()
		}
		why, _ := c.why.Load(k)
		summary = append(summary, fmt.Sprintf("%s %d (%d refused: %v)", k, n, refused, why))
		return true
	})
	t.Logf("writes: %s", strings.Join(summary, ", "))

	checkRates(t, e.db)
	_, err := e.db.FoldRateChanges(e.ctx)
	e.must(err)
	checkRates(t, e.db)
	for _, d := range []string{"2026-06-30", "2025-12-31", "2026-03-31"} {
		compareReport(t, e.db, f.County, civil.MustParse(d))
	}
}
