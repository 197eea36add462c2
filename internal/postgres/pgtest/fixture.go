package pgtest

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// Password is the password of every fixture account.
const Password = "secret-pass"

// passwordHash is Password hashed at bcrypt's minimum cost, so that the many
// logins of the API tests stay fast; the service itself hashes at the default cost.
var passwordHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// ResetPassword gives a fixture account its fixture password back.
func ResetPassword(t testing.TB, db *postgres.DB, code string) {
	t.Helper()
	if _, err := db.Exec(`UPDATE staff SET password_hash = $2, active = true WHERE code = $1`, code, passwordHash); err != nil {
		t.Fatal(err)
	}
}

// Fixture is a small county: two institutions, each with one township and
// two villages, a doctor, a records administrator and a home-visit worker
// (serving the first village only), plus bureau, reviewer, admin and an
// outside requester.
type Fixture struct {
	County                      string
	InstA, InstB                string
	VillageA1, VillageA2        string
	VillageB1, VillageB2        string
	DoctorA, AdminA, HomeVisitA string
	DoctorB, AdminB             string
	Bureau, Reviewer, Admin     string
	Requester                   string
}

// NewFixture loads the fixture into db.
func NewFixture(t testing.TB, db *postgres.DB) *Fixture {
	t.Helper()
	ctx := context.Background()
	f := &Fixture{
		County: "330127", InstA: "INSTA", InstB: "INSTB",
		VillageA1: "330127100101", VillageA2: "330127100001",
		VillageB1: "330127101101", VillageB2: "330127101102",
		DoctorA: "docA", AdminA: "raA", HomeVisitA: "hvA", DoctorB: "docB", AdminB: "raB",
		Bureau: "bureau1", Reviewer: "rev1", Admin: "admin", Requester: "req1",
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateRegion(ctx, &region.Region{Code: f.County, Name: "淳安县"}))
	must(db.CreateInstitution(ctx, &region.Institution{Code: f.InstA, Name: "千岛湖镇社区卫生服务中心", CountyCode: f.County}))
	must(db.CreateInstitution(ctx, &region.Institution{Code: f.InstB, Name: "文昌镇卫生院", CountyCode: f.County}))
	must(db.CreateRegion(ctx, &region.Region{Code: "330127100", Name: "千岛湖镇"}))
	must(db.CreateRegion(ctx, &region.Region{Code: "330127101", Name: "文昌镇"}))
	for code, inst := range map[string]string{f.VillageA1: f.InstA, f.VillageA2: f.InstA, f.VillageB1: f.InstB, f.VillageB2: f.InstB} {
		must(db.CreateRegion(ctx, &region.Region{Code: code, Name: "村" + code[9:], InstitutionCode: inst}))
	}
	add := func(code, inst string, grants ...staff.Grant) {
		must(db.CreateStaff(ctx, &staff.Staff{Code: code, Name: "人员" + code, InstitutionCode: inst, Phone: "13800000000", Grants: grants}, ""))
		ResetPassword(t, db, code)
	}
	in := staff.InstitutionDomain
	add(f.DoctorA, f.InstA, staff.Grant{Role: staff.Doctor, Domain: in(f.InstA)})
	add(f.AdminA, f.InstA, staff.Grant{Role: staff.RecordsAdmin, Domain: in(f.InstA)})
	add(f.HomeVisitA, f.InstA, staff.Grant{Role: staff.HomeVisit, Domain: in(f.InstA)})
	add(f.DoctorB, f.InstB, staff.Grant{Role: staff.Doctor, Domain: in(f.InstB)})
	add(f.AdminB, f.InstB, staff.Grant{Role: staff.RecordsAdmin, Domain: in(f.InstB)})
	add(f.Bureau, "", staff.Grant{Role: staff.Bureau, Domain: staff.CountyDomain(f.County)})
	add(f.Reviewer, "", staff.Grant{Role: staff.Reviewer, Domain: staff.CountyDomain(f.County)})
	add(f.Admin, "", staff.Grant{Role: staff.Admin, Domain: staff.SystemDomain})
	add(f.Requester, "", staff.Grant{Role: staff.Requester, Domain: "external"})
	must(db.SetStaffVillages(ctx, f.HomeVisitA, []string{f.VillageA1}))
	must(db.AddResponsibility(ctx, "admin", region.Responsibility{VillageCode: f.VillageA1, StaffCode: f.DoctorA, FromDate: civil.New(2020, 1, 1)}))
	must(db.AddResponsibility(ctx, "admin", region.Responsibility{VillageCode: f.VillageB1, StaffCode: f.DoctorB, FromDate: civil.New(2020, 1, 1)}))
	return f
}
