package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lib/pq"

	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// TestAppRoleCannotEraseAudit connects as the app role the service serves
// with and tries each way issue 15 found to empty the access log (and the
// other audit tables) or to leave the database: every one is refused for
// want of privilege, and the log keeps its rows.
func TestAppRoleCannotEraseAudit(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t) // the app role
	f := pgtest.NewFixture(t, db)
	r := newRecord(f.VillageA1, "张三")
	if err := db.FileRecord(ctx, f.DoctorA, r); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO access_log (staff_code, roles, record_id, section, action, outcome) VALUES ('a', '', $1, 'basic', 'read', 'allowed')`, r.RecordID); err != nil {
		t.Fatalf("the app role appends to the access log: %v", err)
	}
	var role string
	var super bool
	if err := db.QueryRow(`SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&role, &super); err != nil {
		t.Fatal(err)
	}
	if role != pgtest.AppRole() || super {
		t.Fatalf("tests connect as %s (superuser %v), want the app role %s", role, super, pgtest.AppRole())
	}
	logRows := func() int {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM access_log`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := logRows()
	if before == 0 {
		t.Fatal("no access log rows to protect")
	}
	attempts := [][]string{
		// Issue 15's three ways, each in one transaction.
		{`SET LOCAL session_replication_role = replica`, `DELETE FROM access_log`},
		{`SET LOCAL session_replication_role = replica`, `TRUNCATE access_log`},
		{`ALTER EVENT TRIGGER append_only_guard DISABLE`, `ALTER TABLE access_log DISABLE TRIGGER access_log_no_update`},
		{`ALTER TABLE access_log DISABLE TRIGGER access_log_no_update`},
		{`ALTER TABLE access_log DISABLE TRIGGER ALL`},
		{`ALTER EVENT TRIGGER append_only_guard_drop DISABLE`},
		{`SET session_replication_role = replica`},
		{`UPDATE access_log SET outcome = 'denied'`},
		{`DELETE FROM access_log`},
		{`TRUNCATE access_log`},
		{`DROP TABLE access_log`},
		// Out of the database.
		{`COPY (SELECT 1) TO PROGRAM 'id'`},
		{`COPY access_log TO PROGRAM 'cat > /dev/null'`},
		{`COPY access_log TO '/tmp/access_log.csv'`},
		{`COPY access_log FROM '/etc/hostname'`},
		{`SELECT pg_read_file('/etc/hostname')`},
		// Powers it must not gain or use.
		{`ALTER ROLE CURRENT_USER SUPERUSER`},
		{`SET ROLE ` + pq.QuoteIdentifier(ownerOf(t, db))},
		{`CREATE TABLE scratch (id int)`},
		{`CREATE TEMP TABLE scratch (id int)`},
		{`CREATE FUNCTION scratch() RETURNS int LANGUAGE sql AS 'SELECT 1'`},
		{`ALTER FUNCTION append_only() OWNER TO CURRENT_USER`},
		// The other audit and history tables.
		{`UPDATE access_request_transitions SET reason = 'x'`},
		{`DELETE FROM access_request_transitions`},
		{`DELETE FROM access_requests`},
		{`UPDATE record_history SET changed_by = 'x'`},
		{`DELETE FROM record_history`},
		{`UPDATE case_events SET reason = 'x'`},
		{`DELETE FROM case_events`},
		{`UPDATE rate_snapshot_rows SET numerator = 0`},
		{`DELETE FROM rate_snapshots`},
		{`TRUNCATE rate_snapshot_samples`},
		{`DELETE FROM rate_snapshot_samples`},
		{`UPDATE rate_snapshot_samples SET failures = failures`},
		{`DELETE FROM goose_db_version`},
		{`SELECT grant_app_role(current_user)`},
		{`TRUNCATE records CASCADE`},
	}
	for _, stmts := range attempts {
		name := strings.Join(stmts, "; ")
		t.Run(name, func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for _, q := range stmts {
				_, err = tx.ExecContext(ctx, q)
				if err != nil {
					break
				}
			}
			var pe *pq.Error
			if !errors.As(err, &pe) || pe.Code != "42501" {
				t.Fatalf("%s: err = %v, want insufficient_privilege (42501)", name, err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := logRows(); n != before {
		t.Fatalf("access log rows %d, were %d", n, before)
	}
}

func ownerOf(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var owner string
	if err := db.Get(&owner, `SELECT tableowner FROM pg_tables WHERE tablename = 'access_log'`); err != nil {
		t.Fatal(err)
	}
	return owner
}

// TestServingRoleCheck: serve accepts the app role and refuses the owner
// and a superuser.
func TestServingRoleCheck(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	if err := db.CheckServingRole(ctx); err != nil {
		t.Fatalf("the app role: %v", err)
	}
	if err := db.SchemaCurrent(ctx); err != nil {
		t.Fatalf("the app role reads the schema version: %v", err)
	}
	for name, url := range map[string]string{"owner": pgtest.OwnerURL(t, db), "superuser": pgtest.SuperuserURL(t, db)} {
		other, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		err = other.CheckServingRole(ctx)
		other.Close()
		if !errors.Is(err, postgres.ErrPrivilegedRole) {
			t.Errorf("%s: %v, want ErrPrivilegedRole", name, err)
		}
	}
}

// TestGrantsFollowMigrations: grant_app_role, run after every migration,
// covers tables a later migration adds, and one with an append-only trigger
// gets INSERT and SELECT only.
func TestGrantsFollowMigrations(t *testing.T) {
	db := pgtest.NewDB(t)
	owner := pgtest.Owner(t, db)
	if _, err := owner.Exec(`
		CREATE TABLE later_plain (id bigserial PRIMARY KEY, v text);
		CREATE TABLE later_audit (id bigserial PRIMARY KEY, v text);
		CREATE TRIGGER later_audit_frozen BEFORE UPDATE OR DELETE ON later_audit FOR EACH ROW EXECUTE FUNCTION refuse_change()`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(`SELECT grant_app_role($1)`, pgtest.AppRole()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO later_plain (v) VALUES ('a')`, `UPDATE later_plain SET v = 'b'`, `DELETE FROM later_plain`,
		`INSERT INTO later_audit (v) VALUES ('a')`, `SELECT count(*) FROM later_audit`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	for _, q := range []string{`UPDATE later_audit SET v = 'b'`, `DELETE FROM later_audit`, `TRUNCATE later_plain`} {
		var pe *pq.Error
		if _, err := db.Exec(q); !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s: %v, want insufficient_privilege", q, err)
		}
	}
}
