package webtest

import (
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"healthrec/internal/civil"
)

// seeded is what seed filed.
type seeded struct {
	// Wang is a hypertension patient in VillageA1 (the home-visit worker's
	// village) whose follow-up is overdue, when programmes exist.
	Wang string
	// Li is a diabetes patient in VillageA1, due soon.
	Li string
	// Zhao is in VillageA2 (not the home-visit worker's).
	Zhao string
}

// seed files a few residents of institution A with exams and, when the
// programmes API is there, enrolments that make follow-ups due.
func (s *site) seed() seeded {
	s.t.Helper()
	doc := s.login(s.f.DoctorA)
	out := seeded{
		Wang: doc.fileRecord(s.f.VillageA1, "王秀英", "1955-03-08", "F", map[string]any{"id_number": "330127195503080028",
			"blood_abo": "1", "drug_allergies": []string{"2"}}),
		Li:   doc.fileRecord(s.f.VillageA1, "李建国", "1948-11-20", "M", nil),
		Zhao: doc.fileRecord(s.f.VillageA2, "赵美兰", "1962-07-15", "F", nil),
	}
	for _, n := range []string{"王小明", "王建华"} {
		doc.fileRecord(s.f.VillageA1, n, "1980-01-01", "M", nil)
	}
	today := civil.Of(s.db.Today())
	doc.must("POST", "/api/v1/records/"+out.Wang+"/exams", map[string]any{"service_date": today.AddDays(-40).String(),
		"systolic": 146, "diastolic": 92, "height_cm": 158, "weight_kg": 63}, nil)
	if doc.hasRoute("GET", "/api/v1/records/"+out.Wang+"/programmes") {
		doc.must("POST", "/api/v1/records/"+out.Wang+"/programmes", map[string]any{"programme": "hypertension",
			"enrolled_on": today.AddMonths(-4).String()}, nil)
		doc.must("POST", "/api/v1/records/"+out.Li+"/programmes", map[string]any{"programme": "type2_diabetes",
			"enrolled_on": today.AddMonths(-3).String()}, nil)
		doc.must("POST", "/api/v1/records/"+out.Zhao+"/programmes", map[string]any{"programme": "hypertension",
			"enrolled_on": today.AddMonths(-5).String()}, nil)
	}
	return out
}

// TestDevServer serves the fixture county with seeded data at
// $HEALTHREC_WEB_DEV (e.g. localhost:8090) for a person to look at the pages
// (accounts docA, raA, hvA, bureau1, rev1; password pgtest.Password) until
// the test's -timeout. It does nothing otherwise.
func TestDevServer(t *testing.T) {
	addr := os.Getenv("HEALTHREC_WEB_DEV")
	if addr == "" {
		t.Skip("set HEALTHREC_WEB_DEV=localhost:8090 to serve the pages for a look")
	}
	s := newSite(t)
	s.seed()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("serving http://%s (password %q)", addr, "secret-pass")
	srv := &http.Server{Handler: s.srv.Config.Handler, ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(l)
}
