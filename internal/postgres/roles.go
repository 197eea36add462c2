package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	sqlfiles "healthrec/sql"
)

// The service runs with two database roles (docs/access.md): the owner of
// the tables runs the migrations, and the app role serves. Provision is the
// owner's side: migrate, have a superuser (when one is at hand) install the
// append-only DDL guard, and grant the app role what it needs.

// Provision migrates with ownerURL and then grants appRole its privileges
// (grant_app_role, migration 00014). With superURL it also installs the
// append-only guard's event triggers, which only a superuser may create;
// without, an operator's superuser runs them (docs/access.md).
func Provision(ctx context.Context, ownerURL, superURL, appRole string) error {
	owner, err := Open(ctx, ownerURL)
	if err != nil {
		return fmt.Errorf("owner role: %w", err)
	}
	defer owner.Close()
	if err := owner.Migrate(ctx); err != nil {
		return err
	}
	if superURL != "" {
		if err := installAuditGuard(ctx, superURL); err != nil {
			return err
		}
	}
	if appRole == "" {
		return nil
	}
	if _, err := owner.ExecContext(ctx, `SELECT grant_app_role($1)`, appRole); err != nil {
		return fmt.Errorf("grant the app role %s: %w", appRole, err)
	}
	return nil
}

// installAuditGuard creates the event triggers of migration 00006 when a
// migration run by a role that is not a superuser could not.
func installAuditGuard(ctx context.Context, superURL string) error {
	db, err := sql.Open("postgres", superURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'append_only_guard') THEN
        CREATE EVENT TRIGGER append_only_guard ON ddl_command_end EXECUTE FUNCTION append_only_guard();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'append_only_guard_drop') THEN
        CREATE EVENT TRIGGER append_only_guard_drop ON sql_drop EXECUTE FUNCTION append_only_guard();
    END IF;
END
$$`)
	if err != nil {
		return fmt.Errorf("install the append-only guard: %w", err)
	}
	return nil
}

// ErrPrivilegedRole says the service would serve with a role that could
// erase the audit trail.
var ErrPrivilegedRole = errors.New("privileged database role")

// CheckServingRole refuses a connection whose role is a superuser, owns (or
// may act as the owner of) a table of the schema, or may create objects in
// it: such a role can switch off or go around the append-only guarantees
// of the access log. Serve uses the app role (docs/access.md).
func (db *DB) CheckServingRole(ctx context.Context) error {
	var r struct {
		User   string `db:"usr"`
		Super  bool   `db:"super"`
		Owner  string `db:"owner"`
		Create bool   `db:"can_create"`
	}
	err := db.GetContext(ctx, &r, `
		SELECT current_user AS usr,
		       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super,
		       coalesce((SELECT c.relowner::regrole::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_has_role(current_user, c.relowner, 'MEMBER')
		                 ORDER BY c.relname LIMIT 1), '') AS owner,
		       has_schema_privilege('public', 'CREATE') AS can_create`)
	if err != nil {
		return fmt.Errorf("check the database role: %w", err)
	}
	switch {
	case r.Super:
		return fmt.Errorf("%w: %s is a superuser", ErrPrivilegedRole, pq.QuoteIdentifier(r.User))
	case r.Owner == r.User || r.Owner == pq.QuoteIdentifier(r.User):
		return fmt.Errorf("%w: %s owns the tables", ErrPrivilegedRole, pq.QuoteIdentifier(r.User))
	case r.Owner != "":
		return fmt.Errorf("%w: %s may act as %s, the tables' owner", ErrPrivilegedRole, pq.QuoteIdentifier(r.User), r.Owner)
	case r.Create:
		return fmt.Errorf("%w: %s may create objects in schema public", ErrPrivilegedRole, pq.QuoteIdentifier(r.User))
	}
	return nil
}

// SchemaCurrent reports an error when migrations are pending: the app role
// cannot apply them, and serving an old schema would fail request by request.
func (db *DB) SchemaCurrent(ctx context.Context) error {
	var versioned bool
	if err := db.GetContext(ctx, &versioned, `SELECT to_regclass('goose_db_version') IS NOT NULL`); err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if !versioned {
		return errors.New("the database has no schema yet: run `healthrec migrate` with DATABASE_OWNER_URL (the owner role) first")
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB.DB, mustSub(sqlfiles.Migrations, "migrations"), goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if pending {
		return errors.New("the database schema is behind this version: run `healthrec migrate` with DATABASE_OWNER_URL (the owner role) first")
	}
	return nil
}
