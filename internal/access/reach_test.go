package access_test

import (
	"errors"
	"slices"
	"testing"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/rates"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

func person(code, inst string, villages []string, grants ...staff.Grant) *access.Principal {
	return access.NewPrincipal(&staff.Staff{Code: code, InstitutionCode: inst, Active: true, Villages: villages, Grants: grants})
}

var (
	in       = staff.InstitutionDomain
	docA     = person("docA", "A", nil, staff.Grant{Role: staff.Doctor, Domain: in("A")})
	raA      = person("raA", "A", nil, staff.Grant{Role: staff.RecordsAdmin, Domain: in("A")})
	hvA      = person("hvA", "A", []string{"v1"}, staff.Grant{Role: staff.HomeVisit, Domain: in("A")})
	bureau   = person("bur", "", nil, staff.Grant{Role: staff.Bureau, Domain: staff.CountyDomain("c1")})
	twoBur   = person("bur2", "", nil, staff.Grant{Role: staff.Bureau, Domain: staff.CountyDomain("c2")}, staff.Grant{Role: staff.Bureau, Domain: staff.CountyDomain("c1")})
	reviewer = person("rev", "", nil, staff.Grant{Role: staff.Reviewer, Domain: staff.CountyDomain("c1")})
	admin    = person("admin", "", nil, staff.Grant{Role: staff.Admin, Domain: staff.SystemDomain})
)

func code(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func TestListReach(t *testing.T) {
	for _, tc := range []struct {
		p            *access.Principal
		insts, vills []string
	}{
		{docA, []string{"A"}, nil}, {raA, []string{"A"}, nil}, {hvA, nil, []string{"v1"}}, {bureau, nil, nil}, {admin, nil, nil},
	} {
		r := access.ListReachOf(tc.p)
		if !slices.Equal(r.Institutions, tc.insts) || !slices.Equal(r.Villages, tc.vills) {
			t.Errorf("%s: %+v", tc.p.Staff.Code, r)
		}
	}
}

func TestCountiesAndPick(t *testing.T) {
	if got := twoBur.Counties(staff.Bureau); !slices.Equal(got, []string{"c1", "c2"}) {
		t.Errorf("counties %v", got)
	}
	if got := reviewer.Counties(staff.Bureau, staff.Reviewer); !slices.Equal(got, []string{"c1"}) {
		t.Errorf("reviewer counties %v", got)
	}
	for _, tc := range []struct {
		want     string
		counties []string
		got      string
		code     apperr.Code
	}{
		{"", []string{"c1"}, "c1", ""},
		{"", []string{"c1", "c2"}, "", apperr.Invalid},
		{"c2", []string{"c1", "c2"}, "c2", ""},
		{"c3", []string{"c1", "c2"}, "", apperr.Forbidden},
		{"", nil, "", apperr.Invalid},
	} {
		got, err := access.PickCounty(tc.want, tc.counties)
		if got != tc.got || code(err) != tc.code {
			t.Errorf("PickCounty(%q, %v) = %q, %v", tc.want, tc.counties, got, err)
		}
	}
}

func TestReportReach(t *testing.T) {
	countyOf := func(inst string) (string, error) { return "c1", nil }
	r, err := access.ReportReachOf(bureau, "", countyOf)
	if err != nil || !r.Whole || r.County != "c1" {
		t.Fatalf("bureau: %+v %v", r, err)
	}
	r, err = access.ReportReachOf(raA, "", countyOf)
	if err != nil || r.Whole || r.County != "c1" || !r.Institutions["A"] {
		t.Fatalf("records admin: %+v %v", r, err)
	}
	for _, tc := range []struct {
		row  rates.Row
		sees bool
	}{
		{rates.Row{Level: rates.County, ScopeCode: "c1"}, false},
		{rates.Row{Level: rates.Township, ScopeCode: "t1"}, false},
		{rates.Row{Level: rates.Institution, ScopeCode: "A"}, true},
		{rates.Row{Level: rates.Institution, ScopeCode: "B"}, false},
		{rates.Row{Level: rates.Doctor, ScopeCode: "docA", Parent: "A"}, true},
		{rates.Row{Level: rates.Doctor, ScopeCode: "docB", Parent: "B"}, false},
	} {
		if r.Sees(tc.row) != tc.sees {
			t.Errorf("records admin sees %+v: %v", tc.row, !tc.sees)
		}
	}
	for _, p := range []*access.Principal{docA, hvA, reviewer, admin} {
		if _, err := access.ReportReachOf(p, "", countyOf); code(err) != apperr.Forbidden {
			t.Errorf("%s: %v, want forbidden", p.Staff.Code, err)
		}
	}
	boom := errors.New("db down")
	if _, err := access.ReportReachOf(raA, "", func(string) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("lookup error lost: %v", err)
	}
}

func TestMayDrill(t *testing.T) {
	for _, tc := range []struct {
		p                  *access.Principal
		level              rates.Level
		code, county, inst string
		ok                 bool
	}{
		{bureau, rates.County, "c1", "c1", "", true},
		{bureau, rates.Doctor, "docB", "c1", "B", true},
		{bureau, rates.County, "c2", "c2", "", false},
		{raA, rates.Institution, "A", "c1", "A", true},
		{raA, rates.Doctor, "docA", "c1", "A", true},
		{raA, rates.Doctor, "docB", "c1", "B", false},
		{raA, rates.County, "c1", "c1", "", false},
		{docA, rates.Doctor, "docA", "c1", "A", true},
		{docA, rates.Doctor, "docB", "c1", "B", false},
		{docA, rates.Institution, "A", "c1", "A", false},
		{hvA, rates.Doctor, "hvA", "c1", "A", false},
		{reviewer, rates.County, "c1", "c1", "", false},
		{admin, rates.County, "c1", "c1", "", false},
	} {
		err := access.MayDrill(tc.p, tc.level, tc.code, tc.county, tc.inst)
		if (err == nil) != tc.ok || (err != nil && code(err) != apperr.Forbidden) {
			t.Errorf("%s drills %s %s: %v", tc.p.Staff.Code, tc.level, tc.code, err)
		}
	}
}

func TestRecusalAndGrants(t *testing.T) {
	about := func(kind review.SubjectType, code string) *review.Case {
		return &review.Case{SubjectType: kind, SubjectCode: code, CountyCode: "c1"}
	}
	revA := person("revA", "A", nil, staff.Grant{Role: staff.Reviewer, Domain: staff.CountyDomain("c1")})
	revRoleInB := person("revB", "", nil, staff.Grant{Role: staff.Reviewer, Domain: staff.CountyDomain("c1")}, staff.Grant{Role: staff.Doctor, Domain: in("B")})
	for _, tc := range []struct {
		p      *access.Principal
		cs     *review.Case
		recuse bool
	}{
		{reviewer, about(review.SubjectStaff, "docA"), false},
		{reviewer, about(review.SubjectStaff, "rev"), true},
		{revA, about(review.SubjectInstitution, "A"), true},
		{revRoleInB, about(review.SubjectInstitution, "B"), true},
		{revRoleInB, about(review.SubjectInstitution, "A"), false},
	} {
		if got := access.Recusal(tc.p, tc.cs) != ""; got != tc.recuse {
			t.Errorf("%s on %s %s: recusal %v", tc.p.Staff.Code, tc.cs.SubjectType, tc.cs.SubjectCode, got)
		}
	}
	doctorA := []staff.Grant{{Role: staff.Doctor, Domain: in("A")}}
	for _, tc := range []struct {
		p      *access.Principal
		inst   string
		grants []staff.Grant
		ok     bool
	}{
		{admin, "A", []staff.Grant{{Role: staff.Bureau, Domain: staff.CountyDomain("c1")}}, true},
		{raA, "A", doctorA, true},
		{raA, "A", []staff.Grant{{Role: staff.Doctor, Domain: in("B")}}, false},
		{raA, "A", []staff.Grant{{Role: staff.Bureau, Domain: staff.CountyDomain("c1")}}, false},
	} {
		if err := access.MayGrant(tc.p, tc.inst, tc.grants); (err == nil) != tc.ok {
			t.Errorf("%s grants %v in %s: %v", tc.p.Staff.Code, tc.grants, tc.inst, err)
		}
	}
}

func TestMayAuthorAndRead(t *testing.T) {
	inactive := person("gone", "A", nil, staff.Grant{Role: staff.Doctor, Domain: in("A")})
	inactive.Staff.Active = false
	for _, tc := range []struct {
		p       *access.Principal
		village string
		section string
		ok      bool
	}{
		{docA, "v2", "entries.referrals", true},
		{docA, "v2", "exams", true},
		{raA, "v2", "entries.visits", true},
		{hvA, "v1", "entries.visits", true},
		{hvA, "v1", "entries.followups", true},
		{hvA, "v2", "entries.visits", false},
		{hvA, "v1", "entries.referrals", false},
		{hvA, "v1", "exams", false},
		{bureau, "v1", "entries.visits", false},
		{admin, "v1", "entries.visits", false},
		{inactive, "v1", "entries.visits", false},
	} {
		if why := access.MayAuthor(tc.p.Staff, "A", tc.village, tc.section); (why == "") != tc.ok {
			t.Errorf("%s authors %s in %s: %q", tc.p.Staff.Code, tc.section, tc.village, why)
		}
	}
	if access.MayAuthor(docA.Staff, "B", "v9", "entries.visits") == "" {
		t.Error("a doctor of A authors in B")
	}
	for _, tc := range []struct {
		p       *access.Principal
		village string
		ok      bool
	}{{docA, "v2", true}, {raA, "v2", true}, {hvA, "v1", true}, {hvA, "v2", false}, {bureau, "v1", false}, {admin, "v1", false}} {
		if access.MayRead(tc.p.Staff, "A", tc.village, "basic") != tc.ok {
			t.Errorf("%s reads in %s: %v", tc.p.Staff.Code, tc.village, !tc.ok)
		}
	}
}
