package postgres_test

import (
	"testing"
)

// TestMigrateDueProcess runs migration 00021 over cases as the service left
// them: a case determined, extended and decided by one reviewer, an
// institution's case decided, and a closed item. They keep their state,
// dates and outcome; the decision's author comes from its event; the
// 第八条 facts and the later check are filled in.
func TestMigrateDueProcess(t *testing.T) {
	old := migratedTo(t, "mig21", 16)
	db, must := old.DB, old.must
	must(`INSERT INTO regions (code, name, level) VALUES ('330127', '淳安县', 'county')`)
	must(`INSERT INTO institutions (code, name, county_code) VALUES ('INSTA', '千岛湖', '330127')`)
	must(`INSERT INTO staff (code, name, institution_code) VALUES ('docA', '张', 'INSTA'), ('rev', '审', NULL)`)
	must(`INSERT INTO cases (county_code, source, subject_type, subject_code, subject_name, facts, state, accepted_on, investigation_due,
			extended, extension_reason, responsibility, severity, outcome, decided_on, serving_due, created_at, created_by, updated_at)
		VALUES ('330127', 'complaint', 'staff', 'docA', '张', '投诉', 'decided', '2026-07-01', '2026-08-12', true, '调取资料',
			'direct', 'light', 'circulated_criticism', '2026-08-20', '2026-09-03', now(), 'rev', now()),
		       ('330127', 'inspection', 'institution', 'INSTA', '千岛湖', '检查', 'archived', '2026-07-01', '2026-07-29', false, '',
			'direct', 'serious', 'written_self_examination', '2026-07-20', '2026-08-03', now(), 'rev', now())`)
	must(`INSERT INTO case_events (case_id, from_state, to_state, reason, actor, at)
		VALUES (1, 'determined', 'decided', '决定', 'rev', now()), (2, 'determined', 'decided', '决定', 'rev', now())`)
	must(`INSERT INTO case_items (case_id, owner, due_date, description, state, evidence, closed_at, created_on, created_at, created_by)
		VALUES (1, 'docA', '2026-09-30', '整改', 'closed', '已补', '2026-09-15T09:00:00Z', '2026-08-21', now(), 'rev')`)
	old.up()
	var cases []string
	if err := db.Select(&cases, `SELECT concat_ws(' ', state, outcome, decided_on, extended, extension_approved_by = '', decided_by,
		group_members::text, meeting IS NULL) FROM cases ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []string{"decided circulated_criticism 2026-08-20 t t rev [] t", "archived written_self_examination 2026-07-20 f t rev [] t"}
	if len(cases) != 2 || cases[0] != want[0] || cases[1] != want[1] {
		t.Fatalf("cases after the migration: %q", cases)
	}
	var facts []string
	if err := db.Select(&facts, `SELECT concat_ws(' ', case_id, period, cap) FROM case_consequences ORDER BY case_id`); err != nil {
		t.Fatal(err)
	}
	if len(facts) != 2 || facts[0] != "1 2026-08 basically_competent" || facts[1] != "2 2026 not_excellent" {
		t.Fatalf("第八条 facts: %q", facts)
	}
	var followup string
	if err := db.Get(&followup, `SELECT followup_due::text FROM case_items`); err != nil || followup != "2026-12-15" {
		t.Fatalf("回头看 of the closed item: %q %v", followup, err)
	}
}
