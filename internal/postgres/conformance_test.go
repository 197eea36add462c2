package postgres_test

import (
	"io/fs"
	"strings"
	"testing"

	"healthrec/internal/entry"
	"healthrec/internal/entry/entrytest"
	"healthrec/internal/postgres/pgtest"
	sqlfiles "healthrec/sql"
)

// TestEntryConformsMatchesGo holds the SQL definition of conformance (the
// generated column entries.conforming, entry_conforms) to the Go one
// (entry.Missing) on every kind, filled and with each required item left
// out — written unchecked, as a legacy import writes them.
func TestEntryConformsMatchesGo(t *testing.T) {
	e := newRateEnv(t)
	id := e.file(e.f.VillageA1, "2021-01-01", nil)
	for _, c := range entrytest.ConformanceCases() {
		t.Run(c.Name, func(t *testing.T) {
			c.Entry.Head().RecordID, c.Entry.Basics().StaffCode = id, e.f.DoctorA
			got, err := e.db.InsertEntryRaw(e.ctx, c.Entry)
			if err != nil {
				t.Fatal(err)
			}
			if want := entry.Conforms(c.Entry); got != want || want != (c.Missing == "") {
				t.Errorf("SQL conforming %v, Go %v (missing %q)", got, want, strings.TrimSpace(c.Missing))
			}
		})
	}
	// The facts of the record, written past the write path, are settled as
	// check-rates repairs them; then they agree with their definition.
	if _, err := e.db.RepairRates(e.ctx); err != nil {
		t.Fatal(err)
	}
	pgtest.CheckRateFacts(t, e.db)
}

// TestEntryConformsByKindIsTheCaseRule holds entry_conforms as migration
// 00035 rewrote it (one IF branch per kind) to 00027's single CASE, on
// every kind, programme and next date against thousands of payloads whose
// items are each missing, a number, blank or text: no entry's mark may
// differ, since 00035 marks none again.
func TestEntryConformsByKindIsTheCaseRule(t *testing.T) {
	db := pgtest.NewDB(t)
	su := pgtest.Superuser(t, db)
	up, err := fs.ReadFile(sqlfiles.Migrations, "migrations/00027_conforming_entries_and_filing.sql")
	if err != nil {
		t.Fatal(err)
	}
	text := string(up)
	_, def, found := strings.Cut(text, "CREATE FUNCTION entry_conforms(")
	body, _, closed := strings.Cut(def, "$$;")
	if !found || !closed {
		t.Fatal("migration 00027 defines no entry_conforms")
	}
	caseRule := "CREATE FUNCTION pg_temp.entry_conforms_00027(" + body + "$$;"
	tx := su.MustBegin()
	defer tx.Rollback()
	if _, err := tx.Exec(caseRule); err != nil {
		t.Fatal(err)
	}
	var checked, conforming, differ int
	err = tx.QueryRow(`WITH item(value) AS (VALUES (NULL::jsonb), ('1'), ('" "'), ('"x"')),
		keys(k) AS (SELECT unnest(ARRAY['subjective', 'assessment', 'to_institution', 'reason', 'impression', 'systolic',
			'diastolic', 'fasting_glucose', 'classification', 'opinion', 'admitted_on', 'hospital', 'diagnosis', 'weight_kg',
			'birth_weight_kg', 'feeding', 'jaundice', 'umbilical_cord', 'length_cm', 'gestational_weeks', 'fundal_height_cm',
			'fetal_heart_rate', 'breasts', 'lochia', 'uterus', 'wound', 'health_self_assessment'])),
		payload AS (
			SELECT n, jsonb_strip_nulls(jsonb_object_agg(k, (SELECT value FROM item OFFSET (hashint4(n * 97 + length(k) * 31 + ascii(k)) & 3) LIMIT 1))
				|| jsonb_build_object('service', (ARRAY['newborn_visit', 'health_check', 'prenatal_1', 'prenatal_2', 'postpartum',
					'postpartum_42', 'other', NULL])[1 + (hashint4(n) & 7)])
				|| CASE WHEN n % 3 = 0 THEN '{"self_care": {"eating": 1, "grooming": 1, "dressing": 1, "toileting": 1, "activity": 1}}'::jsonb
					WHEN n % 3 = 1 THEN '{"self_care": {"eating": 1, "grooming": "x"}}'::jsonb ELSE '{}'::jsonb END) AS data
			FROM generate_series(1, 1500) n CROSS JOIN keys GROUP BY n
		), cases AS (
			SELECT entry_conforms(kind, programme, next_date, data) AS got,
				pg_temp.entry_conforms_00027(kind, programme, next_date, data) AS want
			FROM payload
			CROSS JOIN unnest(ARRAY['visit', 'referral', 'followup', 'consultation', 'hospitalisation', 'child_visit',
				'maternal_visit', 'elderly_check', 'exam', NULL]) kind
			CROSS JOIN unnest(ARRAY['hypertension', 'type2_diabetes', 'children_0_6', 'maternal', 'elderly', NULL]) programme
			CROSS JOIN unnest(ARRAY[DATE '2026-01-01', NULL]) next_date
		)
		SELECT count(*), count(*) FILTER (WHERE got), count(*) FILTER (WHERE got IS DISTINCT FROM want) FROM cases`).
		Scan(&checked, &conforming, &differ)
	if err != nil {
		t.Fatal(err)
	}
	if differ != 0 || conforming == 0 || conforming == checked {
		t.Errorf("%d of %d cases differ from 00027's rule (%d conform)", differ, checked, conforming)
	}
}
