package entry

import (
	"strconv"

	"healthrec/internal/civil"
)

// Service is one scheduled service of a key-population programme (国家基本
// 公共卫生服务规范): a newborn home visit, a child health check at an age,
// an antenatal or postpartum visit, the elderly's annual health management.
type Service string

// The scheduled services, in each programme's order.
const (
	NewbornVisit Service = "newborn_visit" // 新生儿家庭访视
	Check1m      Service = "check_1m"      // 满月健康检查
	Check3m      Service = "check_3m"
	Check6m      Service = "check_6m"
	Check8m      Service = "check_8m"
	Check12m     Service = "check_12m"
	Check18m     Service = "check_18m"
	Check24m     Service = "check_24m"
	Check30m     Service = "check_30m"
	Check36m     Service = "check_36m"
	Check48m     Service = "check_48m"
	Check60m     Service = "check_60m"
	Check72m     Service = "check_72m"
	Prenatal1    Service = "prenatal_1"    // 第1次产前检查（孕13周前）
	Prenatal2    Service = "prenatal_2"    // 孕16–20周
	Prenatal3    Service = "prenatal_3"    // 孕21–24周
	Prenatal4    Service = "prenatal_4"    // 孕28–36周
	Prenatal5    Service = "prenatal_5"    // 孕37–40周
	Postpartum   Service = "postpartum"    // 产后访视（产后3–7天）
	Postpartum42 Service = "postpartum_42" // 产后42天健康检查
	Annual       Service = "annual"        // 老年人年度健康管理
	// FollowupService names the quarterly follow-up of hypertension and
	// type-2 diabetes in the due list; it has no schedule item of its own.
	FollowupService Service = "followup"
)

// childChecks are the health checks of 0–6 year olds after the newborn
// visit, with the age in months each is for (满月 as month 1).
var childChecks = []struct {
	S      Service
	Months int
}{{Check1m, 1}, {Check3m, 3}, {Check6m, 6}, {Check8m, 8}, {Check12m, 12}, {Check18m, 18}, {Check24m, 24},
	{Check30m, 30}, {Check36m, 36}, {Check48m, 48}, {Check60m, 60}, {Check72m, 72}}

// prenatal are the antenatal visits by gestational week: the window's first
// and last completed week.
var prenatal = []struct {
	S        Service
	From, To int
}{{Prenatal1, 0, 12}, {Prenatal2, 16, 20}, {Prenatal3, 21, 24}, {Prenatal4, 28, 36}, {Prenatal5, 37, 40}}

// Chinese returns the service's name as the forms and the due list print it.
func (s Service) Chinese() string {
	switch s {
	case NewbornVisit:
		return "新生儿家庭访视"
	case Check1m:
		return "满月健康检查"
	case Prenatal1:
		return "第1次产前检查"
	case Prenatal2:
		return "第2次产前随访（孕16–20周）"
	case Prenatal3:
		return "第3次产前随访（孕21–24周）"
	case Prenatal4:
		return "第4次产前随访（孕28–36周）"
	case Prenatal5:
		return "第5次产前随访（孕37–40周）"
	case Postpartum:
		return "产后访视"
	case Postpartum42:
		return "产后42天健康检查"
	case Annual:
		return "老年人年度健康管理"
	case FollowupService:
		return "随访"
	}
	for _, c := range childChecks {
		if c.S == s {
			if c.Months%12 == 0 && c.Months >= 48 {
				return strconv.Itoa(c.Months/12) + "岁健康检查"
			}
			return strconv.Itoa(c.Months) + "月龄健康检查"
		}
	}
	return string(s)
}

// Programme returns the programme whose schedule has the service.
func (s Service) Programme() Programme {
	switch {
	case s == NewbornVisit || s.childMonths() > 0:
		return Children06
	case s.prenatal() || s == Postpartum || s == Postpartum42:
		return Maternal
	case s == Annual:
		return Elderly
	}
	return ""
}

// Kind returns the entry kind that records the service.
func (s Service) Kind() Kind {
	switch s.Programme() {
	case Children06:
		return KindChildVisit
	case Maternal:
		return KindMaternalVisit
	case Elderly:
		return KindElderlyCheck
	}
	return KindFollowup
}

func (s Service) childMonths() int {
	for _, c := range childChecks {
		if c.S == s {
			return c.Months
		}
	}
	return 0
}

func (s Service) prenatal() bool {
	for _, p := range prenatal {
		if p.S == s {
			return true
		}
	}
	return false
}

// Scheduled reports whether the programme has a schedule of services (the
// children, maternal and elderly programmes); hypertension and diabetes
// have their quarterly follow-ups instead (FollowedUp).
func (p Programme) Scheduled() bool { return p == Children06 || p == Maternal || p == Elderly }

// ScheduleItem is one service of an enrolment's schedule and its window:
// it is listed as due from WindowStart, overdue after WindowEnd, and drops
// off the list (missed, 漏访) after ListedUntil, the day before the next
// service's window opens. A zero ListedUntil stays listed until done.
type ScheduleItem struct {
	Service     Service    `json:"service"`
	Name        string     `json:"name"`
	WindowStart civil.Date `json:"window_start"`
	WindowEnd   civil.Date `json:"window_end"`
	ListedUntil civil.Date `json:"listed_until"`
	// DoneOn and EntryID are the entry that gave the service (empty while due).
	DoneOn  civil.Date `json:"done_on"`
	EntryID *int64     `json:"entry_id"`
}

// Anchors are the dates a programme's schedule is counted from.
type Anchors struct {
	EnrolledOn   civil.Date
	Birth        civil.Date // the child's
	DischargedOn civil.Date // the newborn's discharge from hospital, if known
	LMP          civil.Date // 末次月经
	DeliveredOn  civil.Date // 分娩日期, once known
}

// Slack is how long the last service of a chain stays listed after its
// window closes, when no later service takes over.
const Slack = 30

// Schedule returns the services an enrolment in programme p is due, with
// their windows (docs/spec-summary.md, "Key-population schedules"):
//   - children: the newborn home visit within 7 days of discharge (of birth
//     when not known), the 满月 check at 28–42 days, the 3, 6 and 8 month
//     checks within 15 days of the age, the 12–72 month checks within a
//     month of it;
//   - maternal: the first antenatal check before week 13, the visits at
//     weeks 16–20, 21–24, 28–36 and 37–40 (counted from the LMP); once the
//     delivery is known the antenatal visits not yet listed drop, and the
//     postpartum visit (days 3–7) and the 42-day check (days 42–56) follow;
//   - elderly: the annual health management, first within a month of
//     enrolment (NextAnnual moves it on after each).
//
// Services whose listing ended before the enrolment are left out: nobody
// could have given them.
func Schedule(p Programme, a Anchors) []ScheduleItem {
	var out []ScheduleItem
	add := func(s Service, from, to civil.Date) {
		out = append(out, ScheduleItem{Service: s, Name: s.Chinese(), WindowStart: from, WindowEnd: to})
	}
	switch p {
	case Children06:
		if a.Birth.IsZero() {
			return nil
		}
		from := a.Birth
		if !a.DischargedOn.IsZero() && a.DischargedOn.After(a.Birth) {
			from = a.DischargedOn
		}
		add(NewbornVisit, from, from.AddDays(7))
		for _, c := range childChecks {
			age := a.Birth.AddMonths(c.Months)
			switch {
			case c.Months == 1:
				add(c.S, a.Birth.AddDays(28), a.Birth.AddDays(42))
			case c.Months <= 8:
				add(c.S, age.AddDays(-15), age.AddDays(15))
			default:
				add(c.S, age.AddMonths(-1), age.AddMonths(1))
			}
		}
	case Maternal:
		if a.LMP.IsZero() {
			return nil
		}
		for _, w := range prenatal {
			add(w.S, a.LMP.AddDays(7*w.From), a.LMP.AddDays(7*w.To+6))
		}
		if !a.DeliveredOn.IsZero() {
			d := a.DeliveredOn
			add(Postpartum, d.AddDays(3), d.AddDays(7))
			add(Postpartum42, d.AddDays(42), d.AddDays(56))
		}
	case Elderly:
		add(Annual, a.EnrolledOn, a.EnrolledOn.AddMonths(1))
		out[0].ListedUntil = civil.Date{}
		return out
	default:
		return nil
	}
	for i := range out {
		it := &out[i]
		if i+1 < len(out) {
			it.ListedUntil = out[i+1].WindowStart.AddDays(-1)
		} else {
			it.ListedUntil = it.WindowEnd.AddDays(Slack)
		}
		if it.ListedUntil.Before(it.WindowEnd) {
			it.ListedUntil = it.WindowEnd
		}
		// The pregnancy ended: antenatal visits after the delivery are moot.
		if it.Service.prenatal() && !a.DeliveredOn.IsZero() && !it.ListedUntil.Before(a.DeliveredOn) {
			it.ListedUntil = a.DeliveredOn.AddDays(-1)
		}
	}
	kept := out[:0]
	for _, it := range out {
		if !it.ListedUntil.Before(a.EnrolledOn) {
			kept = append(kept, it)
		}
	}
	return kept
}

// NextAnnual returns the window of the elderly's next annual health
// management after one given on last: the month before its anniversary.
// The database moves the schedule the same way (addEntrySQL).
func NextAnnual(last civil.Date) (from, to civil.Date) {
	return last.AddMonths(11), last.AddMonths(12)
}

// Services lists the services of a programme's schedule, in order.
func Services(p Programme) []Service {
	switch p {
	case Children06:
		out := []Service{NewbornVisit}
		for _, c := range childChecks {
			out = append(out, c.S)
		}
		return out
	case Maternal:
		out := []Service{}
		for _, w := range prenatal {
			out = append(out, w.S)
		}
		return append(out, Postpartum, Postpartum42)
	case Elderly:
		return []Service{Annual}
	}
	return nil
}
