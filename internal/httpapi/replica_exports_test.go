package httpapi_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"healthrec/internal/httpapi"
)

// checkTrendsAndExportsReadTheReplica is part of TestReportsReadTheReplica:
// a published snapshot's exports (CSV, PDF, JSON) and the trends read the
// replica and say how current they are; a snapshot published while the
// replica's replay is paused is not on the replica yet, and is read from
// the primary, which the answer says.
func checkTrendsAndExportsReadTheReplica(t *testing.T, bureau *client, standbySU *sql.DB, county string) {
	t.Helper()
	publish := func(asOf string) string {
		t.Helper()
		r := bureau.req("POST", "/api/v1/snapshots", map[string]any{"kind": "pre_assessment", "as_of": asOf, "sample": "all", "seed": 1})
		if r.Status != 201 {
			t.Fatalf("publish: %d %s", r.Status, r.Raw)
		}
		return fmt.Sprint(r.Body["id"])
	}
	id := publish("2024-04-30")
	paths := []string{"/api/v1/snapshots/" + id + "?format=csv", "/api/v1/snapshots/" + id + "?format=pdf", "/api/v1/snapshots/" + id,
		"/api/v1/trends?level=county&scope_code=" + county}
	deadline := time.Now().Add(60 * time.Second)
	for _, path := range paths {
		for {
			r := bureau.req("GET", path, nil)
			if r.Status != 200 && r.Status != 404 {
				t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
			}
			if r.Status == 200 && r.Header.Get(httpapi.HeaderDataSource) == "replica" && r.Header.Get(httpapi.HeaderDataAsOf) != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never read the replica: %d, source %q", path, r.Status, r.Header.Get(httpapi.HeaderDataSource))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	if _, err := standbySU.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := standbySU.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
			t.Fatal(err)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	fresh := publish("2024-08-31")
	r := bureau.req("GET", "/api/v1/snapshots/"+fresh+"?format=csv", nil)
	if r.Status != 200 || r.Header.Get(httpapi.HeaderDataSource) != "primary" {
		t.Fatalf("a snapshot the replica has not replayed: %d, source %q", r.Status, r.Header.Get(httpapi.HeaderDataSource))
	}
	// The older one still comes from the (paused) replica.
	if r := bureau.req("GET", "/api/v1/snapshots/"+id+"?format=csv", nil); r.Status != 200 || r.Header.Get(httpapi.HeaderDataSource) != "replica" {
		t.Fatalf("a replayed snapshot with replay paused: %d, source %q", r.Status, r.Header.Get(httpapi.HeaderDataSource))
	}
}
