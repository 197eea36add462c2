package quality_test

import (
	"encoding/json"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/ident"
	"healthrec/internal/quality"
	"healthrec/internal/record"
)

// idFor returns a valid identity number for a birth date and order code.
func idFor(birth string, order string) string {
	first := "330127" + birth[0:4] + birth[5:7] + birth[8:10] + order
	return first + string(ident.CheckChar(first))
}

// good is a record that passes every static rule: a woman born 1955-03-08.
func good() quality.Basic {
	return quality.Basic{
		Name: "王芳", Sex: "F", BirthDate: civil.MustParse("1955-03-08"), IDNumber: idFor("1955-03-08", "002"),
		ResidenceType: "户籍", Ethnicity: "汉族", Phone: "13912345678", ResponsibleDoctor: "docA",
		Info: record.AnsweredBasicInfo(),
	}
}

func TestStatic(t *testing.T) {
	wrongCheck := func() string {
		id := idFor("1955-03-08", "002")
		c := byte('0')
		if id[17] == '0' {
			c = '1'
		}
		return id[:17] + string(c)
	}()
	cases := []struct {
		name string
		edit func(b *quality.Basic)
		want quality.Set
	}{
		{"OK", func(b *quality.Basic) {}, 0},
		{"Q1 name empty", func(b *quality.Basic) { b.Name = "" }, quality.Of(quality.Q1)},
		{"Q1 name blank", func(b *quality.Basic) { b.Name = " \t" }, quality.Of(quality.Q1)},
		{"Q1 name ideographic space", func(b *quality.Basic) { b.Name = "\u3000" }, quality.Of(quality.Q1)},
		{"Q1 one character is enough", func(b *quality.Basic) { b.Name = "芳" }, 0},
		{"Q2 sex empty", func(b *quality.Basic) { b.Sex = "" }, quality.Of(quality.Q2)},
		{"Q2 sex unknown", func(b *quality.Basic) { b.Sex = "U" }, quality.Of(quality.Q2)},
		{"Q2 male with male number", func(b *quality.Basic) { b.Sex = "M"; b.IDNumber = idFor("1955-03-08", "001") }, 0},
		{"Q3 birth missing", func(b *quality.Basic) { b.BirthDate = civil.Date{} }, quality.Of(quality.Q3)},
		{"Q3 1900-01-01 ok", func(b *quality.Basic) {
			b.BirthDate = civil.MustParse("1900-01-01")
			b.IDNumber = idFor("1900-01-01", "002")
		}, 0},
		{"Q3 1899-12-31 fails", func(b *quality.Basic) { b.BirthDate = civil.MustParse("1899-12-31"); b.IDNumber = "" },
			quality.Of(quality.Q3, quality.Q4)},
		{"Q4 number missing", func(b *quality.Basic) { b.IDNumber = "" }, quality.Of(quality.Q4)},
		{"Q4 wrong check character", func(b *quality.Basic) { b.IDNumber = wrongCheck }, quality.Of(quality.Q4)},
		{"Q4 impossible date", func(b *quality.Basic) {
			first := "33012719550230002"
			b.IDNumber = first + string(ident.CheckChar(first))
		}, quality.Of(quality.Q4)},
		{"Q4 too short", func(b *quality.Basic) { b.IDNumber = b.IDNumber[:17] }, quality.Of(quality.Q4)},
		{"Q4 lowercase x is valid", func(b *quality.Basic) {
			// 1955-03-08 with order code 012 has check character X.
			for o := 0; o < 1000; o += 2 {
				id := idFor("1955-03-08", string([]byte{'0' + byte(o/100), '0' + byte(o/10%10), '0' + byte(o%10)}))
				if id[17] == 'X' {
					b.IDNumber = id[:17] + "x"
					return
				}
			}
			t.Fatal("no X check character found")
		}, 0},
		{"Q5 birth date disagrees", func(b *quality.Basic) { b.BirthDate = civil.MustParse("1955-03-09") }, quality.Of(quality.Q5)},
		{"Q5 sex disagrees", func(b *quality.Basic) { b.Sex = "M" }, quality.Of(quality.Q5)},
		{"Q5 not judged without a valid number", func(b *quality.Basic) { b.IDNumber = wrongCheck; b.Sex = "M" }, quality.Of(quality.Q4)},
		{"Q5 not judged on a missing sex", func(b *quality.Basic) { b.Sex = "" }, quality.Of(quality.Q2)},
		{"Q6 residence type missing", func(b *quality.Basic) { b.ResidenceType = " " }, quality.Of(quality.Q6)},
		{"Q7 ethnicity missing", func(b *quality.Basic) { b.Ethnicity = "" }, quality.Of(quality.Q7)},
		{"Q8 no phone at all", func(b *quality.Basic) { b.Phone = "" }, quality.Of(quality.Q8)},
		{"Q8 contact's mobile is enough", func(b *quality.Basic) { b.Phone = ""; b.ContactPhone = "13800000000" }, 0},
		{"Q8 landline with area code", func(b *quality.Basic) { b.Phone = "0571-87654321" }, 0},
		{"Q8 landline without dash", func(b *quality.Basic) { b.Phone = "057187654321" }, 0},
		{"Q8 landline without area code", func(b *quality.Basic) { b.Phone = "87654321" }, quality.Of(quality.Q8)},
		{"Q8 mobile 12 digits", func(b *quality.Basic) { b.Phone = "139123456789" }, quality.Of(quality.Q8)},
		{"Q8 mobile 10 digits", func(b *quality.Basic) { b.Phone = "1391234567" }, quality.Of(quality.Q8)},
		{"Q8 mobile second digit 2", func(b *quality.Basic) { b.Phone = "12912345678" }, quality.Of(quality.Q8)},
		{"Q8 mobile second digit 3", func(b *quality.Basic) { b.Phone = "13012345678" }, 0},
		{"Q8 mobile second digit 9", func(b *quality.Basic) { b.Phone = "19912345678" }, 0},
		{"Q8 invalid own, invalid contact", func(b *quality.Basic) { b.Phone = "110"; b.ContactPhone = "12345" }, quality.Of(quality.Q8)},
		{"Q9 responsible doctor missing", func(b *quality.Basic) { b.ResponsibleDoctor = "" }, quality.Of(quality.Q9)},
		{"everything missing", func(b *quality.Basic) { *b = quality.Basic{} }, quality.StaticRules &^ quality.Of(quality.Q5)},
		{"Q12 unknown blood type is an answer", func(b *quality.Basic) { b.Info.BloodABO, b.Info.BloodRh = "5", "3" }, 0},
		{"Q12 ABO missing", func(b *quality.Basic) { b.Info.BloodABO = "" }, quality.Of(quality.Q12)},
		{"Q12 Rh missing", func(b *quality.Basic) { b.Info.BloodRh = " " }, quality.Of(quality.Q12)},
		{"Q13 education missing", func(b *quality.Basic) { b.Info.Education = "" }, quality.Of(quality.Q13)},
		{"Q13 occupation missing", func(b *quality.Basic) { b.Info.Occupation = "" }, quality.Of(quality.Q13)},
		{"Q13 marital status missing", func(b *quality.Basic) { b.Info.MaritalStatus = "" }, quality.Of(quality.Q13)},
		{"Q13 payment types missing", func(b *quality.Basic) { b.Info.PaymentTypes = nil }, quality.Of(quality.Q13)},
		{"Q13 payment types empty", func(b *quality.Basic) { b.Info.PaymentTypes = []string{} }, quality.Of(quality.Q13)},
		{"Q14 allergies missing", func(b *quality.Basic) { b.Info.DrugAllergies = nil }, quality.Of(quality.Q14)},
		{"Q14 exposures missing", func(b *quality.Basic) { b.Info.Exposures = nil }, quality.Of(quality.Q14)},
		{"Q14 past diseases missing", func(b *quality.Basic) { b.Info.PastDiseases = nil }, quality.Of(quality.Q14)},
		{"Q14 operations missing", func(b *quality.Basic) { b.Info.Operations = nil }, quality.Of(quality.Q14)},
		{"Q14 trauma missing", func(b *quality.Basic) { b.Info.Traumas = nil }, quality.Of(quality.Q14)},
		{"Q14 transfusions missing", func(b *quality.Basic) { b.Info.Transfusions = nil }, quality.Of(quality.Q14)},
		{"Q14 father missing", func(b *quality.Basic) { b.Info.FamilyFather = nil }, quality.Of(quality.Q14)},
		{"Q14 mother missing", func(b *quality.Basic) { b.Info.FamilyMother = nil }, quality.Of(quality.Q14)},
		{"Q14 siblings missing", func(b *quality.Basic) { b.Info.FamilySiblings = nil }, quality.Of(quality.Q14)},
		{"Q14 children missing", func(b *quality.Basic) { b.Info.FamilyChildren = nil }, quality.Of(quality.Q14)},
		{"Q14 hereditary missing", func(b *quality.Basic) { b.Info.HereditaryDiseases = nil }, quality.Of(quality.Q14)},
		{"Q14 answers other than none", func(b *quality.Basic) {
			b.Info.PastDiseases = []record.PastDisease{{Code: "2", DiagnosedOn: "2015-06"}}
			b.Info.FamilyFather = []string{"2", "7"}
		}, 0},
		{"Q15 disabilities missing", func(b *quality.Basic) { b.Info.Disabilities = nil }, quality.Of(quality.Q15)},
		{"Q15 kitchen missing", func(b *quality.Basic) { b.Info.KitchenExhaust = "" }, quality.Of(quality.Q15)},
		{"Q15 fuel missing", func(b *quality.Basic) { b.Info.Fuel = "" }, quality.Of(quality.Q15)},
		{"Q15 water missing", func(b *quality.Basic) { b.Info.Water = "" }, quality.Of(quality.Q15)},
		{"Q15 toilet missing", func(b *quality.Basic) { b.Info.Toilet = "" }, quality.Of(quality.Q15)},
		{"Q15 livestock pen missing", func(b *quality.Basic) { b.Info.LivestockPen = "" }, quality.Of(quality.Q15)},
		{"table not recorded at all", func(b *quality.Basic) { b.Info = record.BasicInfo{} },
			quality.Of(quality.Q12, quality.Q13, quality.Q14, quality.Q15)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := good()
			tc.edit(&b)
			if got := quality.Static(b); got != tc.want {
				t.Errorf("Static = %v, want %v", got.IDs(), tc.want.IDs())
			}
		})
	}
}

func TestDynamic(t *testing.T) {
	asOf := civil.MustParse("2025-12-31")
	birth := civil.MustParse("1955-03-08")
	complete := func(d string) quality.LatestExam { return quality.LatestExam{Date: civil.MustParse(d), Complete: true} }
	cases := []struct {
		name  string
		birth civil.Date
		exam  quality.LatestExam
		want  quality.Set
	}{
		{"OK", birth, complete("2025-06-01"), 0},
		{"Q3 born on the as-of date", asOf, complete("2025-12-31"), 0},
		{"Q3 born the day after the as-of date", asOf.AddDays(1), complete("2025-12-31"), quality.Of(quality.Q3)},
		{"Q3 missing birth is static, not dynamic", civil.Date{}, complete("2025-06-01"), 0},
		{"Q10 no exam", birth, quality.LatestExam{}, quality.Of(quality.Q10)},
		{"Q10 exam on the as-of date", birth, complete("2025-12-31"), 0},
		{"Q10 exam after the as-of date", birth, complete("2026-01-01"), quality.Of(quality.Q10)},
		{"Q10 years-old exam still counts", birth, complete("2001-01-01"), 0},
		{"Q11 incomplete exam", birth, quality.LatestExam{Date: civil.MustParse("2025-06-01")}, quality.Of(quality.Q11)},
		{"Q11 not judged without an exam", birth, quality.LatestExam{Complete: false}, quality.Of(quality.Q10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := quality.Dynamic(tc.birth, tc.exam, asOf); got != tc.want {
				t.Errorf("Dynamic = %v, want %v", got.IDs(), tc.want.IDs())
			}
		})
	}
}

func TestCheckCombines(t *testing.T) {
	b := good()
	b.Phone = ""
	got := quality.Check(b, quality.LatestExam{Date: civil.MustParse("2025-01-01")}, civil.MustParse("2025-12-31"))
	if want := quality.Of(quality.Q8, quality.Q11); got != want {
		t.Fatalf("Check = %v, want %v", got.IDs(), want.IDs())
	}
	j, _ := json.Marshal(got)
	if string(j) != `["Q8","Q11"]` {
		t.Errorf("JSON = %s", j)
	}
}

func TestRuleNames(t *testing.T) {
	for i, r := range quality.Rules {
		if r.String() != "Q"+itoa(i+1) || r.Chinese() == "" {
			t.Errorf("rule %d: %q %q", i+1, r.String(), r.Chinese())
		}
		if p, ok := quality.ParseRule(r.String()); !ok || p != r {
			t.Errorf("ParseRule(%q) = %v, %v", r.String(), p, ok)
		}
	}
	if _, ok := quality.ParseRule("Q16"); ok {
		t.Error("ParseRule accepted Q16")
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return "1" + string(rune('0'+n-10))
}
