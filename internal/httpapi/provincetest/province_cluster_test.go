package provincetest_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"healthrec/internal/access"
	"healthrec/internal/civil"
	"healthrec/internal/httpapi"
	"healthrec/internal/httpapi/openapitest"
	"healthrec/internal/pgcluster"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/record"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// county is one county of the province test: its own cluster and
// database, and the loop that does what its server does every few seconds
// (fold the counters, beat the heartbeat).
type county struct {
	code    string
	cluster *pgcluster.Cluster
	db      *postgres.DB
	stop    context.CancelFunc
	done    chan struct{}
}

// startCluster starts a cluster in dir with a migrated healthrec database
// and returns it with an app-role connection.
func startCluster(ctx context.Context, t *testing.T, dir string, opts pgcluster.Options, log *slog.Logger) (*pgcluster.Cluster, *postgres.DB) {
	c, err := pgcluster.StartWith(ctx, dir, log, opts)
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	t.Cleanup(func() { _ = c.Stop() })
	if err := c.EnsureDatabase(ctx, "healthrec"); err != nil {
		t.Error(err)
		return nil, nil
	}
	if err := postgres.Provision(ctx, c.OwnerURL("healthrec"), c.URL("healthrec"), pgcluster.App); err != nil {
		t.Error(err)
		return nil, nil
	}
	db, err := postgres.Open(ctx, c.AppURL("healthrec"))
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	t.Cleanup(func() { db.Close() })
	return c, db
}

// seedCounty registers a county with one township, one institution, two
// villages of 10 residents each and a doctor, and files n records.
func seedCounty(ctx context.Context, t *testing.T, db *postgres.DB, code string, n int) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	inst := "INST" + code
	must(db.CreateRegion(ctx, &region.Region{Code: code, Name: "县" + code}))
	must(db.CreateInstitution(ctx, &region.Institution{Code: inst, Name: "卫生院" + code, CountyCode: code}))
	must(db.CreateRegion(ctx, &region.Region{Code: code + "100", Name: "镇" + code}))
	for _, v := range []string{code + "100101", code + "100102"} {
		must(db.CreateRegion(ctx, &region.Region{Code: v, Name: "村" + v[9:], InstitutionCode: inst}))
		must(db.SetPopulation(ctx, "admin", region.Population{VillageCode: v, Year: time.Now().Year(), Population: 10}))
	}
	must(db.CreateStaff(ctx, &staff.Staff{Code: "doc" + code, Name: "医生" + code, InstitutionCode: inst, Phone: "13800000000",
		Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(inst)}}}, ""))
	for i := 0; i < n; i++ {
		fileIn(ctx, t, db, code, i)
	}
}

func fileIn(ctx context.Context, t *testing.T, db *postgres.DB, code string, i int) {
	t.Helper()
	r := &record.Record{VillageCode: code + "100101", Name: fmt.Sprintf("居民%d", i), Sex: "F", BirthDate: civil.New(1960, 1, 1),
		ResponsibleDoctor: "doc" + code}
	if err := db.FileRecord(ctx, "doc"+code, r); err != nil {
		t.Fatal(err)
	}
}

// TestProvinceOverCounties runs three county clusters and a province
// cluster: each county publishes its counters, the province subscribes to
// all three, and the province role's report shows every county. A county's
// new filing shows in the province report within seconds; a county that
// goes offline stays in the report with its figures, marked with its
// data's age, while the others stay current.
func TestProvinceOverCounties(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four clusters")
	}
	if _, err := pgcluster.FindBinaries(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	root, err := os.MkdirTemp("", "healthrec-province-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(root, 0o755) // the clusters run as postgres when we are root
	t.Cleanup(func() { os.RemoveAll(root) })

	// Four clusters, started side by side.
	counties := []*county{{code: "330101"}, {code: "330102"}, {code: "330103"}}
	var prov *pgcluster.Cluster
	var provDB *postgres.DB
	var wg sync.WaitGroup
	for _, c := range counties {
		wg.Add(1)
		go func(c *county) {
			defer wg.Done()
			c.cluster, c.db = startCluster(ctx, t, filepath.Join(root, c.code), pgcluster.Options{Logical: true}, log)
		}(c)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		prov, provDB = startCluster(ctx, t, filepath.Join(root, "province"), pgcluster.Options{Settings: []string{
			"max_logical_replication_workers = 8", "max_worker_processes = 16", "wal_retrieve_retry_interval = '1s'"}}, log)
	}()
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	const reader, readerPW = "healthrec_province", "a-long-reader-password-1"
	for i, c := range counties {
		seedCounty(ctx, t, c.db, c.code, i+1) // 1, 2 and 3 records
		su, err := sql.Open("postgres", c.cluster.URL("healthrec"))
		if err != nil {
			t.Fatal(err)
		}
		if err := postgres.PublishCounters(ctx, su, c.code, reader, readerPW); err != nil {
			t.Fatal(err)
		}
		su.Close()
		c.beat(t)
	}
	provSU, err := sql.Open("postgres", prov.URL("healthrec"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { provSU.Close() })
	for _, c := range counties {
		conninfo := fmt.Sprintf("host=127.0.0.1 port=%d dbname=healthrec user=%s password=%s", c.cluster.Port, reader, readerPW)
		if err := postgres.SubscribeCounty(ctx, provSU, c.code, conninfo); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		// The subscriptions go first, so that no worker keeps
		// reconnecting to a county being stopped.
		for _, c := range counties {
			_, _ = provSU.Exec(`ALTER SUBSCRIPTION ` + postgres.SubscriptionName(c.code) + ` DISABLE`)
		}
	})

	// The province's server, and its province role.
	if err := provDB.CreateStaff(ctx, &staff.Staff{Code: "prov1", Name: "省卫健委一",
		Grants: []staff.Grant{{Role: staff.Province, Domain: staff.ProvinceDomain("33")}}}, ""); err != nil {
		t.Fatal(err)
	}
	pgtest.ResetPassword(t, provDB, "prov1")
	gate, err := access.NewGate(provDB, provDB.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(openapitest.Wrap(t, httpapi.New(provDB, gate, log, httpapi.Config{ProvinceStaleAfter: 3 * time.Second}).Handler()))
	t.Cleanup(srv.Close)
	province := login(t, srv.URL, "prov1")

	// report is the province report; before the first copy has brought
	// any county it is 404, which is "nothing yet" (an empty body).
	report := func() provinceReportBody {
		t.Helper()
		st, _, raw := province.get(t, "/api/v1/province/report")
		if st == 404 {
			return provinceReportBody{}
		}
		if st != 200 {
			t.Fatalf("province report: %d %s", st, raw)
		}
		var b provinceReportBody
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	filed := func(b provinceReportBody) map[string]int {
		out := map[string]int{}
		for _, row := range b.Rows {
			if row.Level == "county" && row.Indicator == "coverage" {
				out[row.ScopeCode] = row.Numerator
			}
		}
		return out
	}
	waitFor := func(what string, ok func(provinceReportBody) bool) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			b := report()
			if ok(b) {
				return time.Since(start)
			}
			if time.Since(start) > 60*time.Second {
				t.Fatalf("%s: never; last report %v, counties %+v", what, filed(b), b.Counties)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	took := waitFor("every county's first copy", func(b provinceReportBody) bool {
		f := filed(b)
		return f["330101"] == 1 && f["330102"] == 2 && f["330103"] == 3
	})
	t.Logf("first copies of three counties: %s", took)

	// A new filing in a county: in the province report within seconds (a
	// fold of the county's server, then replication).
	fileIn(ctx, t, counties[1].db, "330102", 99)
	took = waitFor("the new filing", func(b provinceReportBody) bool { return filed(b)["330102"] == 3 })
	t.Logf("a county's new filing reached the province report in %s", took)
	if took > 30*time.Second {
		t.Errorf("the new filing took %s", took)
	}
	// Every county current.
	for _, c := range report().Counties {
		if c.DataAsOf == nil || c.Stale {
			t.Errorf("county %s before any went offline: %+v", c.County, c)
		}
	}

	// County 330103 goes offline: its server and database stop. Its figures
	// stay, marked stale with their age; the others stay current.
	off := counties[2]
	off.stop()
	<-off.done
	if err := off.cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor("the offline county marked stale", func(b provinceReportBody) bool {
		for _, c := range b.Counties {
			if c.County == off.code {
				return c.Stale
			}
		}
		return false
	})
	b := report()
	if f := filed(b); f["330101"] != 1 || f["330102"] != 3 || f["330103"] != 3 {
		t.Errorf("figures with a county offline: %v", f)
	}
	for _, c := range b.Counties {
		if c.County == off.code && (c.DataAsOf == nil || c.Message == "") || c.County != off.code && c.Stale {
			t.Errorf("county %s with 330103 offline: %+v", c.County, c)
		}
	}
	t.Logf("offline county: %+v", b.Counties[2])
	st, hdr, raw := province.get(t, "/api/v1/province/counties")
	var feeds struct {
		Items []postgres.CountyFeed `json:"items"`
	}
	_ = json.Unmarshal(raw, &feeds)
	if st != 200 || len(feeds.Items) != 3 || !feeds.Items[2].Stale || feeds.Items[2].AgeSeconds == nil || *feeds.Items[2].AgeSeconds < 3 {
		t.Errorf("counties with one offline: %d %s", st, raw)
	}
	asOf, err := time.Parse(time.RFC3339Nano, hdr.Get(httpapi.HeaderDataAsOf))
	if err != nil || !asOf.Equal(*feeds.Items[2].DataAsOf) {
		t.Errorf("X-Data-As-Of %q: the oldest county's heartbeat is %v", hdr.Get(httpapi.HeaderDataAsOf), feeds.Items[2].DataAsOf)
	}

	// Back online: the subscription reconnects by itself and streams what
	// was written meanwhile.
	if err := off.cluster.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	fileIn(ctx, t, off.db, off.code, 100)
	off.beat(t)
	took = waitFor("the county back online", func(b provinceReportBody) bool {
		for _, c := range b.Counties {
			if c.County == off.code && c.Stale {
				return false
			}
		}
		return filed(b)[off.code] == 4
	})
	t.Logf("a county back online was current in the province report after %s", took)
}

// beat runs what the county's server does every few seconds (here every
// 300 ms): fold the counters, then beat the heartbeat.
func (c *county) beat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c.stop, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, err := c.db.FoldRateChanges(ctx); err == nil {
				_ = c.db.BeatCounters(ctx)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-c.done })
}

// provinceReportBody is what the test reads of GET /province/report.
type provinceReportBody struct {
	Rows []struct {
		Level     string `json:"level"`
		ScopeCode string `json:"scope_code"`
		Indicator string `json:"indicator"`
		Numerator int    `json:"numerator"`
	} `json:"rows"`
	Counties []struct {
		County   string  `json:"county_code"`
		DataAsOf *string `json:"data_as_of"`
		Stale    bool    `json:"stale"`
		Message  string  `json:"message"`
	} `json:"counties"`
}

// client is a signed-in API client with a bearer token.
type client struct{ base, token string }

func login(t *testing.T, base, code string) *client {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"staff_code": code, "password": pgtest.Password})
	resp, err := http.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("login %s: %d %v", code, resp.StatusCode, err)
	}
	return &client{base: base, token: out.Token}
}

func (c *client) get(t *testing.T, path string) (int, http.Header, []byte) {
	t.Helper()
	r, _ := http.NewRequest("GET", c.base+path, nil)
	r.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}
