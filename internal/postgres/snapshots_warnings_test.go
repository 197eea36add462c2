package postgres_test

import (
	"encoding/json"
	"slices"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/rates"
	"healthrec/internal/record"
	"healthrec/internal/review"
	"healthrec/internal/staff"
)

// TestPublishWarnings: a published snapshot warns every warned doctor, and
// every records administrator of a warned institution, once each, in the
// order of the report's warnings; with SMS on, a delivery is queued for
// each message whose recipient has a phone; a warned doctor without an
// active account gets no message.
func TestPublishWarnings(t *testing.T) {
	e := newRateEnv(t)
	f := e.f
	e.db.SMS = true
	noPhone, inactive, empty := "docA2", "docA3", ""
	for _, code := range []string{noPhone, inactive} {
		e.must(e.db.CreateStaff(e.ctx, &staff.Staff{Code: code, Name: "医生" + code, InstitutionCode: f.InstA,
			Grants: []staff.Grant{{Role: staff.Doctor, Domain: staff.InstitutionDomain(f.InstA)}}}, ""))
	}
	// Every doctor's records break a rule, so each is below target.
	var ids []string
	for _, village := range []string{f.VillageA1, f.VillageA2, f.VillageB1, f.VillageA1, f.VillageA1} {
		ids = append(ids, e.file(village, "2025-03-01", func(r *record.Record) { r.Ethnicity = "" }))
	}
	for i, doctor := range []string{noPhone, inactive} {
		_, err := e.db.UpdateRecord(e.ctx, f.AdminA, ids[3+i], map[string]json.RawMessage{"responsible_doctor": json.RawMessage(`"` + doctor + `"`)})
		e.must(err)
	}
	off := false
	_, err := e.db.UpdateStaff(e.ctx, inactive, postgres.StaffUpdate{Active: &off})
	e.must(err)
	_, err = e.db.UpdateStaff(e.ctx, noPhone, postgres.StaffUpdate{Phone: &empty})
	e.must(err)
	p := rates.Params{AsOf: civil.MustParse("2026-06-30"), Sample: rates.All}
	snap, err := e.db.PublishSnapshot(e.ctx, f.Bureau, f.County, postgres.Publication{Kind: review.KindPreAssessment, Title: "预考核"}, p)
	e.must(err)

	// Who the report warns, in its order.
	var want []string
	for _, w := range snap.Report.Warnings {
		switch w.Level {
		case rates.Doctor:
			if w.ScopeCode != inactive && !slices.Contains(want, w.ScopeCode) {
				want = append(want, w.ScopeCode)
			}
		case rates.Institution:
			admin := map[string]string{f.InstA: f.AdminA, f.InstB: f.AdminB}[w.ScopeCode]
			if !slices.Contains(want, admin) {
				want = append(want, admin)
			}
		}
	}
	for _, must := range []string{f.DoctorA, f.DoctorB, noPhone, f.AdminA} {
		if !slices.Contains(want, must) {
			t.Fatalf("the report warns %v: the test needs %s among them (warnings %+v)", want, must, snap.Report.Warnings)
		}
	}
	type message struct {
		Recipient string  `db:"recipient"`
		SMS       *string `db:"sms"`
	}
	messages := func() []message {
		var out []message
		e.must(e.db.Select(&out, `SELECT m.recipient, d.address AS sms FROM messages m
			LEFT JOIN message_deliveries d ON d.message_id = m.id AND d.channel = 'sms'
			WHERE m.kind = 'warning' ORDER BY m.id`))
		return out
	}
	got := messages()
	var recipients []string
	for _, m := range got {
		recipients = append(recipients, m.Recipient)
		if hasPhone := m.Recipient != noPhone; hasPhone != (m.SMS != nil) {
			t.Errorf("%s: SMS %v", m.Recipient, m.SMS)
		}
	}
	if !slices.Equal(recipients, want) {
		t.Errorf("warnings went to %v, want %v (the report's order, no inactive account)", recipients, want)
	}

}
