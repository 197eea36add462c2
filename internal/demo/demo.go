// Package demo generates and loads a realistic synthetic county: the real
// region codes and names of one county (data/), institutions, staff, village
// populations, responsible doctors, residents with valid identity numbers, and
// health examinations. The same seed and reference date give the same county.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/demo/data"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
	"healthrec/internal/staff"
)

// Password is every demo account's password.
const Password = "demo1234"

// Options control the generated county.
type Options struct {
	Seed      int64
	Residents int        // default 20,000
	Today     civil.Date // reference date; default today
}

// Login is a demo account worth trying.
type Login struct {
	StaffCode, Role, Note string
}

// Result tells what was loaded.
type Result struct {
	CountyCode, CountyName                                     string
	Townships, Villages, Institutions, Staff, Residents, Exams int
	Enrolments, Followups                                      int
	Logins                                                     []Login
}

// Summary is the text printed after loading.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "演示县 %s %s：%d 个乡镇，%d 个村居，%d 个机构，%d 名工作人员，%d 份档案，%d 次体检，%d 个慢病管理，%d 次随访\n",
		r.CountyCode, r.CountyName, r.Townships, r.Villages, r.Institutions, r.Staff, r.Residents, r.Exams, r.Enrolments, r.Followups)
	fmt.Fprintf(&b, "演示账号（密码均为 %s）：\n", Password)
	for _, l := range r.Logins {
		fmt.Fprintf(&b, "  %-12s %-14s %s\n", l.StaffCode, l.Role, l.Note)
	}
	return b.String()
}

// Empty reports whether the database has no regions yet.
func Empty(ctx context.Context, db *postgres.DB) (bool, error) {
	var n int
	err := db.GetContext(ctx, &n, `SELECT count(*) FROM regions`)
	return n == 0, err
}

// regionRow is one line of data/regions.csv.
type regionRow struct{ Code, Name string }

func readRegions() (county regionRow, townships, villages []regionRow, err error) {
	f, err := data.FS.Open("regions.csv")
	if err != nil {
		return county, nil, nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return county, nil, nil, err
	}
	for _, r := range rows[1:] {
		row := regionRow{Code: r[0], Name: r[1]}
		switch len(row.Code) {
		case 6:
			county = row
		case 9:
			townships = append(townships, row)
		case 12:
			villages = append(villages, row)
		}
	}
	return county, townships, villages, nil
}

// names holds the syllables of synthetic names.
type names struct{ surnames, male, female []string }

func readNames() (names, error) {
	b, err := data.FS.ReadFile("names.txt")
	if err != nil {
		return names{}, err
	}
	var n names
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		switch strings.TrimSpace(key) {
		case "surnames":
			n.surnames = f
		case "given_male":
			n.male = f
		case "given_female":
			n.female = f
		}
	}
	if len(n.surnames) == 0 || len(n.male) == 0 || len(n.female) == 0 {
		return n, fmt.Errorf("names.txt: missing a line")
	}
	return n, nil
}

// pick returns one element, the commoner ones (listed first) more often.
func pick(r *rand.Rand, xs []string) string {
	i := int(float64(len(xs)) * r.Float64() * r.Float64())
	return xs[i]
}

func (n names) name(r *rand.Rand, sex string) string {
	given := n.male
	if sex == "F" {
		given = n.female
	}
	s := pick(r, n.surnames) + pick(r, given)
	if r.IntN(10) < 7 {
		s += pick(r, given)
	}
	return s
}

// idNumber makes a valid identity number for a birth date and sex, unique
// within used.
func idNumber(r *rand.Rand, county string, birth civil.Date, sex string, used map[string]bool) string {
	for {
		order := r.IntN(500) * 2 // even: female
		if sex == "M" {
			order++
		}
		first17 := county + birth.Time().Format("20060102") + fmt.Sprintf("%03d", order)
		n := first17 + string(ident.CheckChar(first17))
		if !used[n] {
			used[n] = true
			return n
		}
	}
}

func mobile(r *rand.Rand) string {
	prefixes := []string{"130", "133", "135", "136", "138", "139", "150", "151", "152", "158", "159", "177", "180", "186", "187", "188", "199"}
	return prefixes[r.IntN(len(prefixes))] + fmt.Sprintf("%08d", r.IntN(100000000))
}

var ethnicities = []string{"汉族", "汉族", "汉族", "汉族", "汉族", "汉族", "汉族", "汉族", "畲族", "回族"}

func today(o Options) civil.Date {
	if !o.Today.IsZero() {
		return o.Today
	}
	return civil.Of(time.Now())
}

// staffRoles is what demo staff hold in their institution.
func staffGrant(role staff.Role, inst string) []staff.Grant {
	return []staff.Grant{{Role: role, Domain: staff.InstitutionDomain(inst)}}
}

// demoTable is a resident's personal basic information table: most answer
// every item (most of them "none"), with the conditions of their age; about
// one in twelve has an item never recorded, as real records do.
func demoTable(r *rand.Rand, age int, filed civil.Date) string {
	b := record.AnsweredBasicInfo()
	b.BloodABO = []string{"1", "2", "3", "4", "5", "5"}[r.IntN(6)]
	b.BloodRh = []string{"2", "2", "2", "3"}[r.IntN(4)]
	switch {
	case age < 7:
		b.Education, b.Occupation, b.MaritalStatus = "10", "8", "1"
	case age < 18:
		b.Education, b.Occupation, b.MaritalStatus = []string{"7", "8"}[r.IntN(2)], "8", "1"
	default:
		b.Education = []string{"2", "3", "6", "7", "7", "8", "8", "9"}[r.IntN(8)]
		b.Occupation = []string{"1", "3", "4", "4", "4", "5", "8"}[r.IntN(7)]
		b.MaritalStatus = []string{"2", "2", "2", "2", "1", "3", "4"}[r.IntN(7)]
	}
	b.PaymentTypes = [][]string{{"3"}, {"3"}, {"2"}, {"1"}, {"2", "5"}}[r.IntN(5)]
	if r.IntN(10) == 0 {
		b.DrugAllergies = [][]string{{"2"}, {"3"}, {"4"}}[r.IntN(3)]
	}
	if age >= 45 && r.IntN(4) == 0 {
		y := max(filed.Year()-1-r.IntN(10), 1950)
		b.PastDiseases = []record.PastDisease{{Code: []string{"2", "2", "3", "4", "5"}[r.IntN(5)], DiagnosedOn: fmt.Sprintf("%d-%02d", y, 1+r.IntN(12))}}
	}
	if r.IntN(15) == 0 {
		b.Operations = []record.Event{{Name: "阑尾切除术", Date: fmt.Sprintf("%d-%02d", max(filed.Year()-1-r.IntN(20), 1960), 1+r.IntN(12))}}
	}
	if r.IntN(3) == 0 {
		b.FamilyFather = []string{"2"}
	}
	if r.IntN(5) == 0 {
		b.FamilyMother = []string{"3"}
	}
	b.KitchenExhaust = []string{"1", "2", "2", "3", "4"}[r.IntN(5)]
	b.Fuel = []string{"1", "1", "3", "5"}[r.IntN(4)]
	b.Water = []string{"1", "1", "1", "3"}[r.IntN(4)]
	b.Toilet = []string{"1", "1", "2", "3", "5"}[r.IntN(5)]
	b.LivestockPen = []string{"1", "1", "2", "4"}[r.IntN(4)]
	if r.IntN(12) == 0 {
		switch r.IntN(4) {
		case 0:
			b.BloodRh = ""
		case 1:
			b.FamilySiblings = nil
		case 2:
			b.Transfusions = nil
		default:
			b.Toilet = ""
		}
	}
	v, _ := record.StoredBasicInfo(b).Value()
	return v.(string)
}
