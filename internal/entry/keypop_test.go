package entry_test

import (
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
)

func d(s string) civil.Date { return civil.MustParse(s) }

func itemOf(t *testing.T, items []entry.ScheduleItem, s entry.Service) entry.ScheduleItem {
	t.Helper()
	for _, it := range items {
		if it.Service == s {
			return it
		}
	}
	t.Fatalf("no %s in %+v", s, items)
	return entry.ScheduleItem{}
}

// TestScheduleChildren: the newborn visit counts from discharge, the checks
// from birth, each listed until the next window opens.
func TestScheduleChildren(t *testing.T) {
	birth := d("2024-01-10")
	items := entry.Schedule(entry.Children06, entry.Anchors{EnrolledOn: birth, Birth: birth, DischargedOn: d("2024-01-13")})
	if len(items) != 13 {
		t.Fatalf("%d items, want the newborn visit and 12 checks", len(items))
	}
	for _, c := range []struct {
		s                entry.Service
		from, to, listed string
	}{
		{entry.NewbornVisit, "2024-01-13", "2024-01-20", "2024-02-06"},
		{entry.Check1m, "2024-02-07", "2024-02-21", "2024-03-25"},
		{entry.Check3m, "2024-03-26", "2024-04-25", "2024-06-24"},
		{entry.Check8m, "2024-08-26", "2024-09-25", "2024-12-09"},
		{entry.Check12m, "2024-12-10", "2025-02-10", "2025-06-09"},
		{entry.Check36m, "2026-12-10", "2027-02-10", "2027-12-09"},
		{entry.Check72m, "2029-12-10", "2030-02-10", "2030-03-12"},
	} {
		it := itemOf(t, items, c.s)
		if it.WindowStart != d(c.from) || it.WindowEnd != d(c.to) || it.ListedUntil != d(c.listed) {
			t.Errorf("%s: %s–%s listed until %s; want %s–%s until %s", c.s, it.WindowStart, it.WindowEnd, it.ListedUntil, c.from, c.to, c.listed)
		}
	}
	// Enrolled at two: the checks whose listing ended before are left out.
	late := entry.Schedule(entry.Children06, entry.Anchors{EnrolledOn: d("2026-01-10"), Birth: birth})
	if late[0].Service != entry.Check24m {
		t.Fatalf("enrolled at 24 months, first item %s", late[0].Service)
	}
	if got := entry.Schedule(entry.Children06, entry.Anchors{EnrolledOn: birth}); got != nil {
		t.Fatalf("no birth date: %v", got)
	}
}

func TestScheduleMaternal(t *testing.T) {
	lmp := d("2024-01-01")
	items := entry.Schedule(entry.Maternal, entry.Anchors{EnrolledOn: d("2024-02-20"), LMP: lmp})
	if len(items) != 5 {
		t.Fatalf("%d items before delivery, want 5 antenatal", len(items))
	}
	first := itemOf(t, items, entry.Prenatal1)
	if first.WindowEnd != d("2024-03-31") { // 12 weeks 6 days
		t.Fatalf("first check by %s", first.WindowEnd)
	}
	p4 := itemOf(t, items, entry.Prenatal4)
	if p4.WindowStart != d("2024-07-15") || p4.WindowEnd != d("2024-09-15") {
		t.Fatalf("weeks 28–36: %s–%s", p4.WindowStart, p4.WindowEnd)
	}
	// Delivered in week 35: the fifth visit drops, the postpartum ones follow.
	delivered := d("2024-09-02")
	items = entry.Schedule(entry.Maternal, entry.Anchors{EnrolledOn: d("2024-02-20"), LMP: lmp, DeliveredOn: delivered})
	p5 := itemOf(t, items, entry.Prenatal5)
	if !p5.ListedUntil.Before(p5.WindowStart) {
		t.Fatalf("week 37–40 visit still listed after the delivery: %+v", p5)
	}
	if got := itemOf(t, items, entry.Prenatal4).ListedUntil; got != d("2024-09-01") {
		t.Fatalf("weeks 28–36 listed until %s, want the day before the delivery", got)
	}
	pp := itemOf(t, items, entry.Postpartum)
	if pp.WindowStart != d("2024-09-05") || pp.WindowEnd != d("2024-09-09") || pp.ListedUntil != d("2024-10-13") {
		t.Fatalf("postpartum %+v", pp)
	}
	p42 := itemOf(t, items, entry.Postpartum42)
	if p42.WindowStart != d("2024-10-14") || p42.WindowEnd != d("2024-10-28") {
		t.Fatalf("42-day %+v", p42)
	}
}

func TestScheduleElderly(t *testing.T) {
	items := entry.Schedule(entry.Elderly, entry.Anchors{EnrolledOn: d("2024-01-31")})
	if len(items) != 1 || items[0].WindowEnd != d("2024-02-29") || !items[0].ListedUntil.IsZero() {
		t.Fatalf("%+v", items)
	}
	from, to := entry.NextAnnual(d("2024-03-31"))
	if from != d("2025-02-28") || to != d("2025-03-31") {
		t.Fatalf("next annual %s–%s", from, to)
	}
	if entry.Schedule(entry.Hypertension, entry.Anchors{EnrolledOn: d("2024-01-01")}) != nil {
		t.Fatal("hypertension has follow-ups, not a schedule")
	}
}

func TestChildVisitValidate(t *testing.T) {
	newborn := func() *entry.ChildVisit {
		v := entry.New(entry.KindChildVisit).(*entry.ChildVisit)
		v.ServiceDate, v.Service = today, entry.NewbornVisit
		v.BirthWeightKG, v.WeightKG = ptr(3.2), ptr(3.5)
		v.Feeding, v.Jaundice, v.UmbilicalCord = "exclusive_breast", "none", "not_fallen"
		return v
	}
	if err := newborn().Validate(today); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field string
		edit  func(v *entry.ChildVisit)
	}{
		{"service", func(v *entry.ChildVisit) { v.Service = entry.Prenatal1 }},
		{"birth_weight_kg", func(v *entry.ChildVisit) { v.BirthWeightKG = nil }},
		{"birth_weight_kg", func(v *entry.ChildVisit) { v.BirthWeightKG = ptr(12.0) }},
		{"jaundice", func(v *entry.ChildVisit) { v.Jaundice = "" }},
		{"umbilical_cord", func(v *entry.ChildVisit) { v.UmbilicalCord = "gone" }},
		{"feeding", func(v *entry.ChildVisit) { v.Feeding = "" }},
		{"weight_kg", func(v *entry.ChildVisit) { v.WeightKG = nil }},
		{"length_cm", func(v *entry.ChildVisit) {
			v.Service, v.BirthWeightKG, v.Jaundice, v.UmbilicalCord = entry.Check3m, nil, "", ""
		}},
		{"jaundice", func(v *entry.ChildVisit) { v.Service, v.BirthWeightKG, v.LengthCM = entry.Check3m, nil, ptr(60.0) }},
	} {
		v := newborn()
		c.edit(v)
		if got := fieldOf(v.Validate(today)); got != c.field {
			t.Errorf("want error on %s, got %q (%v)", c.field, got, v.Validate(today))
		}
	}
}

func TestMaternalVisitValidate(t *testing.T) {
	antenatal := func() *entry.MaternalVisit {
		v := entry.New(entry.KindMaternalVisit).(*entry.MaternalVisit)
		v.ServiceDate, v.Service = today, entry.Prenatal2
		v.GestationalWeeks, v.WeightKG, v.FundalHeightCM, v.FetalHeartRate = ptr(18), ptr(58.0), ptr(17.0), ptr(145)
		v.Systolic, v.Diastolic, v.Classification = ptr(112), ptr(70), entry.Normal
		return v
	}
	if err := antenatal().Validate(today); err != nil {
		t.Fatal(err)
	}
	post := antenatal()
	post.Service, post.GestationalWeeks, post.FundalHeightCM, post.FetalHeartRate = entry.Postpartum, nil, nil, nil
	post.Breasts, post.Lochia, post.Uterus, post.Wound = entry.Normal, entry.Normal, entry.Normal, "none"
	if err := post.Validate(today); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field string
		edit  func(v *entry.MaternalVisit)
	}{
		{"fundal_height_cm", func(v *entry.MaternalVisit) { v.FundalHeightCM = nil }},
		{"fetal_heart_rate", func(v *entry.MaternalVisit) { v.FetalHeartRate = ptr(20) }},
		{"gestational_weeks", func(v *entry.MaternalVisit) { v.GestationalWeeks = nil }},
		{"systolic", func(v *entry.MaternalVisit) { v.Systolic = nil }},
		{"abnormality", func(v *entry.MaternalVisit) { v.Classification = entry.Abnormal }},
		{"lochia", func(v *entry.MaternalVisit) { v.Lochia = entry.Normal }},
		{"service", func(v *entry.MaternalVisit) { v.Service = entry.NewbornVisit }},
	} {
		v := antenatal()
		c.edit(v)
		if got := fieldOf(v.Validate(today)); got != c.field {
			t.Errorf("want error on %s, got %q (%v)", c.field, got, v.Validate(today))
		}
	}
	post.Wound = ""
	if got := fieldOf(post.Validate(today)); got != "wound" {
		t.Fatalf("postpartum without the wound: %q", got)
	}
}

// TestElderlySelfCare: the score is the standard's table, the level its bands.
func TestElderlySelfCare(t *testing.T) {
	v := entry.New(entry.KindElderlyCheck).(*entry.ElderlyCheck)
	v.ServiceDate, v.HealthSelfAssessment = today, ptr(2)
	v.SelfCare = entry.SelfCare{Eating: ptr(0), Grooming: ptr(1), Dressing: ptr(2), Toileting: ptr(1), Activity: ptr(3)}
	v.SelfCareScore = 99 // a client's value is never kept
	if err := v.Validate(today); err != nil {
		t.Fatal(err)
	}
	if v.Service != entry.Annual || v.SelfCareScore != 0+1+3+1+10 || v.SelfCareLevel != "moderate" {
		t.Fatalf("service %s score %d level %s", v.Service, v.SelfCareScore, v.SelfCareLevel)
	}
	for score, level := range map[int]string{0: "independent", 3: "independent", 4: "mild", 8: "mild", 9: "moderate", 18: "moderate", 19: "dependent", 37: "dependent"} {
		if got := entry.SelfCareLevel(score); got != level {
			t.Errorf("score %d: %s, want %s", score, got, level)
		}
	}
	v.SelfCare.Grooming = nil
	if got := fieldOf(v.Validate(today)); got != "self_care.grooming" {
		t.Fatalf("unanswered item: %q", got)
	}
	v.SelfCare.Grooming, v.HealthSelfAssessment = ptr(4), ptr(6)
	if err := v.Validate(today); err == nil {
		t.Fatal("level 4 and assessment 6 accepted")
	}
}

func TestEnrolmentAnchors(t *testing.T) {
	res := entry.Resident{Sex: "F", BirthDate: d("1995-05-05")}
	f := entry.EnrolmentForm{Programme: entry.Maternal, EnrolledOn: d("2024-03-01")}
	if got := fieldOf(f.Validate(today, res)); got != "lmp_date" {
		t.Fatalf("maternal without LMP: %q", got)
	}
	f.LMPDate, f.DeliveredOn = d("2024-01-01"), d("2024-03-01")
	if got := fieldOf(f.Validate(today, res)); got != "delivered_on" {
		t.Fatalf("delivery in week 8: %q", got)
	}
	f.DeliveredOn = civil.Date{}
	if err := f.Validate(today, res); err != nil {
		t.Fatal(err)
	}
	e := entry.EnrolmentForm{Programme: entry.Elderly, EnrolledOn: d("2024-03-01"), LMPDate: d("2024-01-01")}
	if got := fieldOf(e.Validate(today, entry.Resident{BirthDate: d("1950-01-01")})); got != "lmp_date" {
		t.Fatalf("LMP on an elderly enrolment: %q", got)
	}
	c := entry.EnrolmentForm{Programme: entry.Children06, EnrolledOn: d("2024-03-01")}
	if got := fieldOf(c.Validate(today, entry.Resident{})); got != "programme" {
		t.Fatalf("child without a birth date: %q", got)
	}
	// A legacy file's enrolment may lack what its schedule counts from.
	if err := c.ValidateLegacy(today, entry.Resident{}); err != nil {
		t.Fatalf("legacy child without a birth date: %v", err)
	}
	m := entry.EnrolmentForm{Programme: entry.Maternal, EnrolledOn: d("2024-03-01")}
	if err := m.ValidateLegacy(today, res); err != nil {
		t.Fatalf("legacy maternal without an LMP: %v", err)
	}
}
