package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/consent"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

func yes() *consent.Answer {
	given := true
	return &consent.Answer{Given: &given, GivenBy: "张三", Relationship: "本人", Method: consent.SignedForm, Reference: "ZQ-1"}
}

func TestAccessRequestWorkflow(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	r := newRecord(f.VillageA1, "张三")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	sub := consent.Submission{RecordID: r.RecordID, Purpose: "转诊后续治疗", Sections: []string{"exams", "basic"}, Days: 7}

	req, err := db.SubmitAccessRequest(ctx, f.Requester, sub)
	if err != nil {
		t.Fatal(err)
	}
	if req.State != consent.Submitted || req.InstitutionCode != f.InstA || req.Sections[0] != "basic" || len(req.Transitions) != 1 {
		t.Fatalf("submitted = %+v", req)
	}

	t.Run("ErrSecondOpenRequest", func(t *testing.T) {
		_, err := db.SubmitAccessRequest(ctx, f.Requester, sub)
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.Conflict || e.Extra["state"] != "submitted" || e.Extra["existing_request_id"] != req.ID {
			t.Fatalf("err = %v, want conflict naming request %d", err, req.ID)
		}
	})
	t.Run("ErrRecordMissing", func(t *testing.T) {
		s := sub
		s.RecordID = f.VillageA1 + "0999"
		_, err := db.SubmitAccessRequest(ctx, f.Requester, s)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid || e.Fields[0].Field != "record_id" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrConsentBeforeApproval", func(t *testing.T) {
		_, err := db.DecideAccessRequest(ctx, req.ID, f.AdminA, postgres.Decision{Action: consent.Consent, Answer: yes()})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Extra["state"] != "submitted" {
			t.Fatalf("err = %v, want conflict in state submitted", err)
		}
	})

	grant := func(at time.Time) *int64 {
		t.Helper()
		g, err := db.ActiveGrant(ctx, f.Requester, r.RecordID, at)
		if err != nil {
			t.Fatal(err)
		}
		if g == nil {
			return nil
		}
		return &g.ID
	}
	if grant(now) != nil {
		t.Fatal("grant before approval")
	}
	if _, err := db.DecideAccessRequest(ctx, req.ID, f.AdminA, postgres.Decision{Action: consent.Approve, Reason: "转诊需要"}); err != nil {
		t.Fatal(err)
	}
	if grant(now) != nil {
		t.Fatal("grant after approval alone")
	}
	activated := now.Add(time.Hour)
	now = activated
	got, err := db.DecideAccessRequest(ctx, req.ID, f.AdminA, postgres.Decision{Action: consent.Consent, Answer: yes()})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != consent.Active || !got.ExpiresAt.Equal(activated.Add(7*24*time.Hour)) || got.Consent == nil || got.Consent.GivenBy != "张三" {
		t.Fatalf("after consent: %+v", got)
	}
	if len(got.Transitions) != 3 || got.Transitions[2].From != consent.Approved || got.Transitions[2].By != f.AdminA {
		t.Fatalf("transitions = %+v", got.Transitions)
	}

	t.Run("GrantWindow", func(t *testing.T) {
		exp := *got.ExpiresAt
		cases := []struct {
			name string
			at   time.Time
			want bool
		}{
			{"AtActivation", activated, true},
			{"JustBeforeExpiry", exp.Add(-time.Microsecond), true},
			{"AtExpiry", exp, false},
			{"AfterExpiry", exp.Add(24 * time.Hour), false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if g := grant(tc.at); (g != nil) != tc.want {
					t.Fatalf("grant at %v: %v, want %v", tc.at, g, tc.want)
				}
			})
		}
		// Another requester, or another record, has nothing.
		if g, _ := db.ActiveGrant(ctx, f.DoctorB, r.RecordID, activated); g != nil {
			t.Fatal("grant leaked to another staff member")
		}
		if g, _ := db.ActiveGrant(ctx, f.Requester, f.VillageA1+"0002", activated); g != nil {
			t.Fatal("grant leaked to another record")
		}
	})

	t.Run("ExpiredIsDerived", func(t *testing.T) {
		defer func(old time.Time) { now = old }(now)
		now = got.ExpiresAt.Add(time.Second)
		r, err := db.AccessRequest(ctx, req.ID)
		if err != nil || r.State != consent.Expired {
			t.Fatalf("state %v, %v; want expired", r.State, err)
		}
		items, total, err := db.AccessRequests(ctx, postgres.AccessRequestFilter{RequestedBy: f.Requester, State: consent.Expired})
		if err != nil || total != 1 || items[0].ID != req.ID {
			t.Fatalf("expired filter: %d %v", total, err)
		}
		if _, total, _ := db.AccessRequests(ctx, postgres.AccessRequestFilter{RequestedBy: f.Requester, State: consent.Active}); total != 0 {
			t.Fatalf("expired grant listed as active")
		}
		_, err = db.DecideAccessRequest(ctx, req.ID, f.AdminA, postgres.Decision{Action: consent.Revoke, Reason: "x"})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Extra["state"] != "expired" {
			t.Fatalf("revoke expired: err = %v", err)
		}
		// A new request may follow once the grant ran out.
		again, err := db.SubmitAccessRequest(ctx, f.Requester, sub)
		if err != nil || again.State != consent.Submitted {
			t.Fatalf("resubmit after expiry: %v", err)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		out, err := db.DecideAccessRequest(ctx, req.ID, f.AdminA, postgres.Decision{Action: consent.Revoke, Reason: "居民要求撤回"})
		if err != nil || out.State != consent.Revoked {
			t.Fatalf("revoke: %v %v", out, err)
		}
		if g := grant(now); g != nil {
			t.Fatal("grant after revocation")
		}
		last := out.Transitions[len(out.Transitions)-1]
		if last.Action != consent.Revoke || last.Reason != "居民要求撤回" || last.By != f.AdminA {
			t.Fatalf("last transition %+v", last)
		}
	})

	t.Run("ListScope", func(t *testing.T) {
		cases := []struct {
			name string
			f    postgres.AccessRequestFilter
			want int
		}{
			{"Requester", postgres.AccessRequestFilter{RequestedBy: f.Requester}, 2},
			{"KeeperInstitution", postgres.AccessRequestFilter{RequestedBy: f.AdminA, Institutions: []string{f.InstA}}, 2},
			{"OtherInstitution", postgres.AccessRequestFilter{RequestedBy: f.AdminB, Institutions: []string{f.InstB}}, 0},
			{"StateFilter", postgres.AccessRequestFilter{Institutions: []string{f.InstA}, State: consent.Revoked}, 1},
			{"RecordFilter", postgres.AccessRequestFilter{Institutions: []string{f.InstA}, RecordID: f.VillageA1 + "0002"}, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, total, err := db.AccessRequests(ctx, tc.f); err != nil || total != tc.want {
					t.Fatalf("total %d, %v; want %d", total, err, tc.want)
				}
			})
		}
	})
}

func TestAccessRequestRefused(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageB1, "李四")
	if err := db.FileRecord(ctx, f.DoctorB, r); err != nil {
		t.Fatal(err)
	}
	req, err := db.SubmitAccessRequest(ctx, f.Requester, consent.Submission{RecordID: r.RecordID, Purpose: "商业保险理赔", Sections: []string{"basic"}, Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DecideAccessRequest(ctx, req.ID, f.AdminB, postgres.Decision{Action: consent.Approve, Reason: "材料齐全"}); err != nil {
		t.Fatal(err)
	}
	no := false
	out, err := db.DecideAccessRequest(ctx, req.ID, f.AdminB, postgres.Decision{Action: consent.Refuse,
		Answer: &consent.Answer{Given: &no, GivenBy: "李四", Relationship: "本人", Method: consent.Phone}})
	if err != nil || out.State != consent.Refused || out.ActivatedAt != nil || out.Consent == nil || out.Consent.Given {
		t.Fatalf("refused = %+v, %v", out, err)
	}
	if g, _ := db.ActiveGrant(ctx, f.Requester, r.RecordID, db.Now()); g != nil {
		t.Fatal("grant after refusal")
	}
	for _, act := range []consent.Action{consent.Approve, consent.Revoke} {
		_, err := db.DecideAccessRequest(ctx, req.ID, f.AdminB, postgres.Decision{Action: act, Reason: "x"})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Extra["state"] != "refused" {
			t.Fatalf("%s after refusal: %v", act, err)
		}
	}
	if _, err := db.DecideAccessRequest(ctx, 9999, f.AdminB, postgres.Decision{Action: consent.Approve, Reason: "x"}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("missing request: %v", err)
	}
}

// TestAuditTablesAppendOnlyForOwner gives the audit tables and their trigger
// functions to an ordinary (non-superuser) role, as a deployment whose
// application role owns its schema would, and shows that this owner can
// neither change nor remove the history: not with DML, and not by first
// disabling, dropping or replacing what enforces it.
func TestAuditTablesAppendOnlyForOwner(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "张三")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	req, err := db.SubmitAccessRequest(ctx, f.Requester, consent.Submission{RecordID: r.RecordID, Purpose: "p", Sections: []string{"basic"}, Days: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO access_log (staff_code, roles, record_id, section, action, outcome) VALUES ('a', '', $1, 'basic', 'read', 'allowed')`, r.RecordID); err != nil {
		t.Fatal(err)
	}

	// The tests' own handle is the app role's, which may do none of this.
	admin := pgtest.Superuser(t, db)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	role := "app_" + hex.EncodeToString(b)
	owned := []string{"TABLE access_log", "TABLE access_requests", "TABLE access_request_transitions",
		"FUNCTION access_log_append_only()", "FUNCTION append_only()"}
	setOwner := func(to string) {
		t.Helper()
		// Changing the owner is itself DDL on a guarded table: even the
		// superuser has to switch the guard off for it.
		q := `ALTER EVENT TRIGGER append_only_guard DISABLE;`
		for _, o := range owned {
			q += fmt.Sprintf(`ALTER %s OWNER TO %s;`, o, to)
		}
		if _, err := admin.Exec(q + `ALTER EVENT TRIGGER append_only_guard ENABLE;`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.Exec(fmt.Sprintf(`CREATE ROLE %s NOSUPERUSER; GRANT CREATE, USAGE ON SCHEMA public TO %[1]s`, role)); err != nil {
		t.Fatal(err)
	}
	var super string
	if err := admin.Get(&super, `SELECT current_user`); err != nil {
		t.Fatal(err)
	}
	setOwner(role)
	t.Cleanup(func() {
		setOwner(super)
		_, _ = admin.Exec(fmt.Sprintf(`REVOKE ALL ON SCHEMA public FROM %s; DROP ROLE %[1]s`, role))
	})

	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET ROLE `+role); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `RESET ROLE`)
	attempts := []string{
		`UPDATE access_log SET outcome = 'denied'`,
		`DELETE FROM access_log`,
		`TRUNCATE access_log`,
		`UPDATE access_request_transitions SET reason = 'x'`,
		`DELETE FROM access_request_transitions`,
		`TRUNCATE access_request_transitions`,
		`DELETE FROM access_requests`,
		`TRUNCATE access_requests CASCADE`,
		`SET session_replication_role = replica`,
		`ALTER TABLE access_log DISABLE TRIGGER access_log_no_update`,
		`ALTER TABLE access_log DISABLE TRIGGER ALL`,
		`ALTER TABLE access_log ENABLE REPLICA TRIGGER access_log_no_update`,
		`DROP TRIGGER access_log_no_update ON access_log`,
		`DROP TRIGGER access_request_transitions_no_update ON access_request_transitions`,
		`CREATE OR REPLACE TRIGGER access_log_no_update BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION access_log_append_only()`,
		`CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN OLD; END'`,
		`CREATE OR REPLACE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN OLD; END'`,
		`ALTER FUNCTION access_log_append_only() RENAME TO harmless`,
		`ALTER TABLE access_log RENAME TO access_log_old`,
		`ALTER TABLE access_log DROP COLUMN reason`,
		`CREATE RULE forget AS ON INSERT TO access_log DO INSTEAD NOTHING`,
		`DROP TABLE access_log`,
		`DROP TABLE access_request_transitions CASCADE`,
	}
	for _, q := range attempts {
		t.Run(q, func(t *testing.T) {
			// 42501 insufficient_privilege: refused by a trigger, the guard
			// or the server, not failing for some unrelated reason.
			_, err := conn.ExecContext(ctx, q)
			if pe, ok := err.(*pq.Error); !ok || pe.Code != "42501" {
				t.Fatalf("%s: err = %v, want insufficient_privilege", q, err)
			}
		})
	}
	// Appending still works for the owner.
	if _, err := conn.ExecContext(ctx, `INSERT INTO access_log (staff_code, roles, record_id, section, action, outcome) VALUES ('b', '', $1, 'basic', 'read', 'denied')`, r.RecordID); err != nil {
		t.Fatalf("append as owner: %v", err)
	}
	var n, enabled int
	if err := db.Get(&n, `SELECT count(*) FROM access_log WHERE outcome = 'allowed'`); err != nil || n != 1 {
		t.Fatalf("allowed rows = %d, %v", n, err)
	}
	if err := db.Get(&n, `SELECT count(*) FROM access_request_transitions WHERE request_id = $1`, req.ID); err != nil || n != 1 {
		t.Fatalf("transitions = %d, %v", n, err)
	}
	if err := db.Get(&enabled, `SELECT count(*) FROM pg_trigger WHERE tgname IN ('access_log_no_update', 'access_log_no_truncate') AND tgenabled = 'O'`); err != nil || enabled != 2 {
		t.Fatalf("enabled triggers = %d, %v", enabled, err)
	}
}
