package postgres_test

import (
	"fmt"
	"testing"
)

// TestMigrateSnapshotSamples runs migration 00023 over snapshots frozen one
// row per record: every record comes back, through the view, with its
// village, draw group, rules and dynamic record, grouped one row per draw
// group and village.
func TestMigrateSnapshotSamples(t *testing.T) {
	old := migratedTo(t, "mig23", 21)
	db, must := old.DB, old.must
	must(`INSERT INTO regions (code, name, level) VALUES ('330127', '淳安县', 'county')`)
	must(`INSERT INTO staff (code, name) VALUES ('bur', '局')`)
	var id int64
	if err := db.Get(&id, `INSERT INTO rate_snapshots (county_code, kind, as_of, seed, report, published_at, published_by)
		VALUES ('330127', 'assessment', '2026-06-30', 1, '{"warnings":[]}', now(), 'bur') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	rows := `(%[1]d, '3301270011010002', '330127001101', 'docA', 0, true),
		(%[1]d, '3301270011010001', '330127001101', 'docA', 1536, false),
		(%[1]d, '3301270011020001', '330127001102', 'docA', 8, true),
		(%[1]d, '3301270011020002', '330127001102', '#330127001102', 0, false)`
	must(fmt.Sprintf(`INSERT INTO rate_snapshot_records (snapshot_id, record_id, village_code, stratum, failures, has_dynamic) VALUES `+rows, id))
	var before []string
	if err := db.Select(&before, `SELECT concat_ws(' ', snapshot_id, record_id, village_code, stratum, failures, has_dynamic)
		FROM rate_snapshot_records ORDER BY record_id`); err != nil {
		t.Fatal(err)
	}
	old.up()

	var after []string
	if err := db.Select(&after, `SELECT concat_ws(' ', snapshot_id, record_id, village_code, stratum, failures, has_dynamic)
		FROM rate_snapshot_records ORDER BY record_id`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) || len(after) != 4 {
		t.Fatalf("records after the migration:\n%v\nbefore:\n%v", after, before)
	}
	var groups []string
	if err := db.Select(&groups, `SELECT concat_ws(' ', stratum, village_code, records, record_ids::text)
		FROM rate_snapshot_samples ORDER BY stratum, village_code`); err != nil {
		t.Fatal(err)
	}
	want := "[#330127001102 330127001102 1 {3301270011020002} docA 330127001101 2 {3301270011010001,3301270011010002} docA 330127001102 1 {3301270011020001}]"
	if fmt.Sprint(groups) != want {
		t.Fatalf("groups after the migration: %v", groups)
	}
	if _, err := db.Exec(`DELETE FROM rate_snapshot_samples`); err == nil {
		t.Error("a snapshot's records could be deleted")
	}
}
