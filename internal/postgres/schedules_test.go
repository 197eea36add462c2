package postgres_test

import (
	"context"
	"testing"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
)

// scheduleEnv is a database at a fixed today with helpers to file,
// enrol, record and read the due list of village A1.
type scheduleEnv struct {
	t   *testing.T
	ctx context.Context
	db  *postgres.DB
	f   *pgtest.Fixture
}

func newScheduleEnv(t *testing.T, today string) *scheduleEnv {
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	now := civil.MustParse(today).Time().Add(12 * time.Hour)
	db.Now = func() time.Time { return now }
	return &scheduleEnv{t, context.Background(), db, f}
}

func (s *scheduleEnv) file(name, sex, birth string) string {
	s.t.Helper()
	r := &record.Record{VillageCode: s.f.VillageA1, Name: name, Sex: sex, BirthDate: civil.MustParse(birth),
		ResidenceType: record.ResidenceRegistered, Ethnicity: "汉族", Phone: "13912345678"}
	if err := s.db.FileRecord(s.ctx, s.f.DoctorA, r); err != nil {
		s.t.Fatal(err)
	}
	return r.RecordID
}

func (s *scheduleEnv) enrol(rid string, f entry.EnrolmentForm) *entry.Enrolment {
	s.t.Helper()
	e, _, err := s.db.AddEnrolment(s.ctx, s.f.DoctorA, rid, f, postgres.Idempotency{})
	if err != nil {
		s.t.Fatal(err)
	}
	return e
}

func (s *scheduleEnv) add(e entry.Entry) (entry.Entry, error) {
	got, _, err := s.db.AddEntry(s.ctx, s.f.HomeVisitA, s.f.InstA, e, postgres.Idempotency{}, nil)
	return got, err
}

// due returns the rid's listed services as of a date: service → item.
func (s *scheduleEnv) due(rid, asOf string) map[entry.Service]postgres.DueFollowup {
	s.t.Helper()
	items, total, err := s.db.DueFollowups(s.ctx, postgres.DueFilter{Villages: []string{s.f.VillageA1}, AsOf: civil.MustParse(asOf),
		Page: postgres.Page{Page: 1, PerPage: 100}})
	if err != nil {
		s.t.Fatal(err)
	}
	if total != len(items) {
		s.t.Fatalf("as of %s: total %d, %d items", asOf, total, len(items))
	}
	out := map[entry.Service]postgres.DueFollowup{}
	for _, it := range items {
		if it.RecordID == rid {
			out[it.Service] = it
		}
	}
	return out
}

// edge is what the due list says of one service on one day: not listed,
// listed and on time, or overdue by days.
type edge struct {
	asOf    string
	listed  bool
	overdue int
}

func (s *scheduleEnv) edges(rid string, svc entry.Service, want []edge) {
	s.t.Helper()
	for _, w := range want {
		got, listed := s.due(rid, w.asOf)[svc]
		if listed != w.listed {
			s.t.Errorf("%s as of %s: listed %v, want %v", svc, w.asOf, listed, w.listed)
			continue
		}
		if listed && (got.Overdue != (w.overdue > 0) || got.DaysOverdue != w.overdue) {
			s.t.Errorf("%s as of %s: overdue %v by %d, want by %d", svc, w.asOf, got.Overdue, got.DaysOverdue, w.overdue)
		}
		if listed && (got.Kind != svc.Kind() || got.ServiceName == "") {
			s.t.Errorf("%s: kind %s name %q", svc, got.Kind, got.ServiceName)
		}
	}
}

func newbornVisit(rid, on string) *entry.ChildVisit {
	v := entry.New(entry.KindChildVisit).(*entry.ChildVisit)
	v.RecordID, v.ServiceDate, v.Service = rid, civil.MustParse(on), entry.NewbornVisit
	w, bw := 3.6, 3.3
	v.WeightKG, v.BirthWeightKG, v.Feeding, v.Jaundice, v.UmbilicalCord = &w, &bw, "exclusive_breast", "face", "not_fallen"
	return v
}

// TestScheduleChildrenDue: a newborn discharged on 06-03 is due its home
// visit 06-03…06-10, overdue from 06-11, listed until the 满月 check's
// window opens on 06-29; the visit, once recorded, leaves the list.
func TestScheduleChildrenDue(t *testing.T) {
	s := newScheduleEnv(t, "2024-06-20")
	baby := s.file("小宝", "M", "2024-06-01")
	s.enrol(baby, entry.EnrolmentForm{Programme: entry.Children06, EnrolledOn: civil.MustParse("2024-06-02"),
		DischargedOn: civil.MustParse("2024-06-03")})
	s.edges(baby, entry.NewbornVisit, []edge{
		{"2024-06-02", false, 0}, {"2024-06-03", true, 0}, {"2024-06-10", true, 0}, {"2024-06-11", true, 1},
		{"2024-06-28", true, 18}, {"2024-06-29", false, 0},
	})
	s.edges(baby, entry.Check1m, []edge{{"2024-06-28", false, 0}, {"2024-06-29", true, 0}, {"2024-07-13", true, 0}, {"2024-07-14", true, 1}})
	// A look-ahead lists what falls due in the next days.
	items, _, err := s.db.DueFollowups(s.ctx, postgres.DueFilter{Villages: []string{s.f.VillageA1}, AsOf: civil.MustParse("2024-06-01"),
		WithinDays: 2, Page: postgres.Page{Page: 1, PerPage: 10}})
	if err != nil || len(items) != 1 || items[0].DaysUntilDue != 2 {
		t.Fatalf("look-ahead: %+v %v", items, err)
	}

	got, err := s.add(newbornVisit(baby, "2024-06-12"))
	if err != nil {
		t.Fatal(err)
	}
	if _, listed := s.due(baby, "2024-06-20")[entry.NewbornVisit]; listed {
		t.Fatal("the newborn visit is still due after it was recorded")
	}
	e, err := s.db.Enrolment(s.ctx, baby, "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Schedule) != 13 || e.Schedule[0].DoneOn.String() != "2024-06-12" || *e.Schedule[0].EntryID != got.Head().ID {
		t.Fatalf("schedule after the visit: %+v", e.Schedule[0])
	}
	// A second newborn visit is recorded, the first stays the one that gave it.
	if _, err := s.add(newbornVisit(baby, "2024-06-15")); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.db.Enrolment(s.ctx, baby, "1"); e.Schedule[0].DoneOn.String() != "2024-06-12" {
		t.Fatalf("second visit moved the first: %+v", e.Schedule[0])
	}
	// Ending the enrolment takes its pending services off the list.
	if _, err := s.db.EndEnrolment(s.ctx, baby, "1", entry.EndForm{Reason: "迁往外地"}); err != nil {
		t.Fatal(err)
	}
	if got := s.due(baby, "2024-07-01"); len(got) != 0 {
		t.Fatalf("ended enrolment still due: %v", got)
	}
}

// TestScheduleKindsNeedEnrolment: a key population's entry needs an active
// enrolment in its programme, as a follow-up does, and stores it as the
// entry's programme.
func TestScheduleKindsNeedEnrolment(t *testing.T) {
	s := newScheduleEnv(t, "2024-06-20")
	baby := s.file("小宝", "F", "2024-06-01")
	_, err := s.add(newbornVisit(baby, "2024-06-10"))
	if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Fields[0].Field != "service" {
		t.Fatalf("without enrolment: %v", err)
	}
	s.enrol(baby, entry.EnrolmentForm{Programme: entry.Children06, EnrolledOn: civil.MustParse("2024-06-12")})
	_, err = s.add(newbornVisit(baby, "2024-06-10"))
	if e, ok := apperr.As(err); !ok || e.Fields[0].Field != "service_date" {
		t.Fatalf("before enrolment: %v", err)
	}
	if _, err := s.add(newbornVisit(baby, "2024-06-13")); err != nil {
		t.Fatal(err)
	}
	var programme string
	if err := s.db.Get(&programme, `SELECT programme FROM entries WHERE kind = 'child_visit'`); err != nil || programme != "children_0_6" {
		t.Fatalf("stored programme %q, %v", programme, err)
	}
	// The entry counts as a dynamic record like any other.
	var last civil.Date
	if err := s.db.Get(&last, `SELECT last_service_date FROM records WHERE record_id = $1`, baby); err != nil || last.String() != "2024-06-13" {
		t.Fatalf("last service %s, %v", last, err)
	}
}

// TestScheduleMaternalDue: the first antenatal check before week 13, the
// visits by week, and after the delivery the postpartum visit (days 3–7)
// and the 42-day check (days 42–56).
func TestScheduleMaternalDue(t *testing.T) {
	s := newScheduleEnv(t, "2024-12-31")
	mum := s.file("孕妇", "F", "1995-05-05")
	e := s.enrol(mum, entry.EnrolmentForm{Programme: entry.Maternal, EnrolledOn: civil.MustParse("2024-02-10"),
		LMPDate: civil.MustParse("2024-01-01")})
	if len(e.Schedule) != 5 {
		t.Fatalf("antenatal schedule %+v", e.Schedule)
	}
	// LMP 01-01: week 13 starts 04-01; weeks 16–20 are 04-22…05-26.
	s.edges(mum, entry.Prenatal1, []edge{{"2024-02-10", true, 0}, {"2024-03-31", true, 0}, {"2024-04-01", true, 1}, {"2024-04-21", true, 21}, {"2024-04-22", false, 0}})
	// Weeks 21–24 follow at once: a visit not given by week 20 is missed.
	s.edges(mum, entry.Prenatal2, []edge{{"2024-04-21", false, 0}, {"2024-04-22", true, 0}, {"2024-05-26", true, 0}, {"2024-05-27", false, 0}})
	s.edges(mum, entry.Prenatal3, []edge{{"2024-05-27", true, 0}, {"2024-06-23", true, 0}, {"2024-06-24", true, 1}, {"2024-07-14", true, 21}, {"2024-07-15", false, 0}})
	// Weeks 37–40 (09-16…10-13), before the delivery is known.
	s.edges(mum, entry.Prenatal5, []edge{{"2024-09-16", true, 0}})

	if _, err := s.db.RecordDelivery(s.ctx, mum, "1", postgres.DeliveryForm{DeliveredOn: civil.MustParse("2024-09-10")}); err != nil {
		t.Fatal(err)
	}
	s.edges(mum, entry.Prenatal5, []edge{{"2024-09-16", false, 0}})
	s.edges(mum, entry.Postpartum, []edge{{"2024-09-12", false, 0}, {"2024-09-13", true, 0}, {"2024-09-17", true, 0}, {"2024-09-18", true, 1}, {"2024-10-22", false, 0}})
	s.edges(mum, entry.Postpartum42, []edge{{"2024-10-21", false, 0}, {"2024-10-22", true, 0}, {"2024-11-05", true, 0}, {"2024-11-06", true, 1}})

	v := entry.New(entry.KindMaternalVisit).(*entry.MaternalVisit)
	sys, dia := 118, 76
	v.RecordID, v.ServiceDate, v.Service, v.Systolic, v.Diastolic = mum, civil.MustParse("2024-09-15"), entry.Postpartum, &sys, &dia
	v.Breasts, v.Lochia, v.Uterus, v.Wound, v.Classification = entry.Normal, entry.Normal, entry.Normal, "none", entry.Normal
	if _, err := s.add(v); err != nil {
		t.Fatal(err)
	}
	if _, listed := s.due(mum, "2024-09-16")[entry.Postpartum]; listed {
		t.Fatal("the postpartum visit is still due after it was recorded")
	}

	_, err := s.db.RecordDelivery(s.ctx, mum, "1", postgres.DeliveryForm{DeliveredOn: civil.MustParse("2024-09-11")})
	if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict {
		t.Fatalf("second delivery: %v", err)
	}
	other := s.file("另一孕妇", "F", "1996-01-01")
	s.enrol(other, entry.EnrolmentForm{Programme: entry.Maternal, EnrolledOn: civil.MustParse("2024-10-01"), LMPDate: civil.MustParse("2024-08-01")})
	_, err = s.db.RecordDelivery(s.ctx, other, "2", postgres.DeliveryForm{DeliveredOn: civil.MustParse("2024-10-01")})
	if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Fields[0].Field != "delivered_on" {
		t.Fatalf("delivery in week 8: %v", err)
	}
}

// TestScheduleElderlyDue: the annual health management is due within a
// month of enrolment and stays listed until given; then a year on, listed
// a month ahead of the anniversary. A late entry of an older one does not
// move it back.
func TestScheduleElderlyDue(t *testing.T) {
	s := newScheduleEnv(t, "2025-12-31")
	old := s.file("老人", "M", "1950-01-01")
	s.enrol(old, entry.EnrolmentForm{Programme: entry.Elderly, EnrolledOn: civil.MustParse("2024-01-31")})
	s.edges(old, entry.Annual, []edge{{"2024-01-30", false, 0}, {"2024-01-31", true, 0}, {"2024-02-29", true, 0}, {"2024-03-01", true, 1}, {"2025-03-01", true, 366}})

	check := func(on string) {
		v := entry.New(entry.KindElderlyCheck).(*entry.ElderlyCheck)
		a, z := 2, 0
		v.RecordID, v.ServiceDate, v.HealthSelfAssessment = old, civil.MustParse(on), &a
		v.SelfCare = entry.SelfCare{Eating: &z, Grooming: &z, Dressing: &z, Toileting: &z, Activity: &z}
		if _, err := s.add(v); err != nil {
			t.Fatal(err)
		}
	}
	check("2024-03-31")
	s.edges(old, entry.Annual, []edge{{"2024-04-01", false, 0}, {"2025-02-27", false, 0}, {"2025-02-28", true, 0}, {"2025-03-31", true, 0}, {"2025-04-01", true, 1}})
	check("2024-02-15") // a backlog entry of an earlier one
	s.edges(old, entry.Annual, []edge{{"2025-02-27", false, 0}, {"2025-02-28", true, 0}})
}

// TestDueListMixed: follow-ups keep their rule (overdue the day after the
// due date) beside scheduled services, in one list ordered by due date.
func TestDueListMixed(t *testing.T) {
	s := newScheduleEnv(t, "2024-06-20")
	p := s.file("高血压", "M", "1960-01-01")
	s.enrol(p, entry.EnrolmentForm{Programme: entry.Hypertension, EnrolledOn: civil.MustParse("2024-01-10")})
	baby := s.file("小宝", "F", "2024-06-01")
	s.enrol(baby, entry.EnrolmentForm{Programme: entry.Children06, EnrolledOn: civil.MustParse("2024-06-02")})
	items, total, err := s.db.DueFollowups(s.ctx, postgres.DueFilter{Villages: []string{s.f.VillageA1}, AsOf: civil.MustParse("2024-04-11"),
		Page: postgres.Page{Page: 1, PerPage: 10}})
	if err != nil || total != 1 || items[0].Service != entry.FollowupService || items[0].Kind != entry.KindFollowup ||
		items[0].DueBy.String() != "2024-04-10" || items[0].DaysOverdue != 1 {
		t.Fatalf("follow-up: %+v %d %v", items, total, err)
	}
	items, total, err = s.db.DueFollowups(s.ctx, postgres.DueFilter{Villages: []string{s.f.VillageA1}, AsOf: civil.MustParse("2024-06-05"),
		Page: postgres.Page{Page: 1, PerPage: 1}})
	if err != nil || total != 2 || len(items) != 1 || items[0].RecordID != p {
		t.Fatalf("page 1 of 2: %+v %d %v", items, total, err)
	}
	items, _, err = s.db.DueFollowups(s.ctx, postgres.DueFilter{Villages: []string{s.f.VillageA1}, AsOf: civil.MustParse("2024-06-05"),
		Page: postgres.Page{Page: 2, PerPage: 1}})
	if err != nil || len(items) != 1 || items[0].Service != entry.NewbornVisit || items[0].EnrolledOn.String() != "2024-06-02" {
		t.Fatalf("page 2: %+v %v", items, err)
	}
}

// A delivery recorded at the desk changes what the record page shows of
// the enrolment, so the tablets' delta sync must see the enrolment changed.
func TestDeliveryMarksTheEnrolmentChanged(t *testing.T) {
	s := newScheduleEnv(t, "2024-12-31")
	mum := s.file("孕妇", "F", "1995-05-05")
	s.enrol(mum, entry.EnrolmentForm{Programme: entry.Maternal, EnrolledOn: civil.MustParse("2024-02-10"),
		LMPDate: civil.MustParse("2024-01-01")})
	marker := func() string {
		var x string
		if err := s.db.GetContext(s.ctx, &x, `SELECT changed_xid::text FROM enrolments WHERE record_id = $1`, mum); err != nil {
			t.Fatal(err)
		}
		return x
	}
	before := marker()
	if _, err := s.db.RecordDelivery(s.ctx, mum, "1", postgres.DeliveryForm{DeliveredOn: civil.MustParse("2024-09-10")}); err != nil {
		t.Fatal(err)
	}
	if after := marker(); after == before {
		t.Fatalf("a delivery left the enrolment's change marker at %s", before)
	}
}
