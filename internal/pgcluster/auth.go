package pgcluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/lib/pq"
)

// The cluster's three roles. The bootstrap superuser only sets the cluster
// up (roles, the DDL guard's event triggers); the owner owns the database and
// its tables and runs the migrations; the app role is what the service serves
// with: DML on the tables it needs, INSERT and SELECT only on the audit
// tables, no DDL, and no superuser power (docs/access.md).
const (
	Superuser = "healthrec"
	Owner     = "healthrec_owner"
	App       = "healthrec_app"
)

// SecretsFile holds the three roles' generated passwords, 0600 in the
// cluster's data directory, owned by the cluster's owner.
const SecretsFile = "healthrec-secrets.json"

// Secrets are the passwords of the cluster's roles.
type Secrets struct {
	Superuser string `json:"superuser"`
	Owner     string `json:"owner"`
	App       string `json:"app"`
}

func newSecrets() Secrets {
	return Secrets{Superuser: randomPassword(), Owner: randomPassword(), App: randomPassword()}
}

func randomPassword() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hbaConf allows password (SCRAM) logins over loopback only. There is no
// trust line: any local account used to get a superuser session from the
// port (issue 15).
const hbaConf = `# Written by healthrec (internal/pgcluster): every connection authenticates
# with a password (scram-sha-256); there is deliberately no "trust" line.
# The passwords are in ` + SecretsFile + ` (mode 0600) next to this file.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
`

// hbaTrusts reports whether pg_hba.conf has an active trust line, as the
// clusters of earlier versions did.
func hbaTrusts(dir string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, "pg_hba.conf"))
	if err != nil {
		return false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		for _, w := range f {
			if w == "trust" {
				return true, nil
			}
		}
	}
	return false, sc.Err()
}

// writeOwned writes a file atomically with mode 0600, owned by the cluster's
// user: PostgreSQL must read pg_hba.conf, and a root process that writes the
// secrets leaves them with the user whose directory they live in.
func (c *Cluster) writeOwned(name string, data []byte) error {
	p := filepath.Join(c.Dir, name)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if c.cred != nil {
		if err := os.Chown(tmp, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func syncFile(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func (c *Cluster) saveSecrets() error {
	b, err := json.MarshalIndent(c.Secrets, "", "  ")
	if err != nil {
		return err
	}
	return c.writeOwned(SecretsFile, append(b, '\n'))
}

// loadSecrets reads the secrets file; ok is false when there is none.
func (c *Cluster) loadSecrets() (bool, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, SecretsFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, &c.Secrets); err != nil {
		return false, fmt.Errorf("%s: %w", SecretsFile, err)
	}
	if c.Secrets.Superuser == "" || c.Secrets.Owner == "" || c.Secrets.App == "" {
		return false, fmt.Errorf("%s: a password is missing", SecretsFile)
	}
	// Tighten a file whose mode was loosened by hand.
	_ = os.Chmod(filepath.Join(c.Dir, SecretsFile), 0o600)
	return true, nil
}

// URL returns the bootstrap superuser's connection URL for database db.
func (c *Cluster) URL(db string) string { return c.urlFor(Superuser, c.Secrets.Superuser, db) }

// OwnerURL returns the owner's connection URL: migrations run with it.
func (c *Cluster) OwnerURL(db string) string { return c.urlFor(Owner, c.Secrets.Owner, db) }

// AppURL returns the app role's connection URL: the service serves with it.
func (c *Cluster) AppURL(db string) string { return c.urlFor(App, c.Secrets.App, db) }

func (c *Cluster) urlFor(user, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: fmt.Sprintf("127.0.0.1:%d", c.Port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// secure sets the passwords of a cluster that an earlier version created
// with trust authentication, then replaces pg_hba.conf and reloads. The
// secrets are saved before anything changes, so an interrupted upgrade
// resumes with the same passwords.
func (c *Cluster) secure(ctx context.Context) error {
	c.log.Warn("securing an embedded cluster created with trust authentication: setting passwords, rewriting pg_hba.conf", "dir", c.Dir)
	trustURL := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", Superuser, c.Port)
	db, err := sql.Open("postgres", trustURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `SET password_encryption = 'scram-sha-256'; ALTER ROLE `+pq.QuoteIdentifier(Superuser)+
		` PASSWORD `+pq.QuoteLiteral(c.Secrets.Superuser)); err != nil {
		return fmt.Errorf("set the superuser's password: %w", err)
	}
	if err := c.writeOwned("pg_hba.conf", []byte(hbaConf)); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `SELECT pg_reload_conf()`); err != nil {
		return fmt.Errorf("reload pg_hba.conf: %w", err)
	}
	return nil
}

// ensureRoles creates the owner and app roles, or resets their passwords to
// the saved ones, and makes sure neither holds more than it should.
func (c *Cluster) ensureRoles(ctx context.Context) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `SET password_encryption = 'scram-sha-256'`); err != nil {
		return fmt.Errorf("connect to embedded cluster: %w", err)
	}
	db.SetMaxOpenConns(1) // the SET above holds for the statements below
	for _, r := range []struct{ name, password string }{{Owner, c.Secrets.Owner}, {App, c.Secrets.App}} {
		var exists bool
		if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, r.name).Scan(&exists); err != nil {
			return err
		}
		verb := "CREATE"
		if exists {
			verb = "ALTER"
		}
		q := fmt.Sprintf(`%s ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %s`,
			verb, pq.QuoteIdentifier(r.name), pq.QuoteLiteral(r.password))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("role %s: %w", r.name, err)
		}
	}
	return nil
}

// EnsureDatabase creates database name, owned by the owner role, when it
// does not exist. A database of an earlier version, whose objects the
// bootstrap superuser owns, is handed to the owner role.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("connect to embedded cluster: %w", err)
	}
	if !exists {
		_, err = db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)+` OWNER `+pq.QuoteIdentifier(Owner))
		return err
	}
	return c.adopt(ctx, name)
}

// adoptSQL hands every object of schema public that the bootstrap superuser
// owns to the owner role. The append-only guard refuses DDL on the audit
// tables, a change of owner included, for every role; the superuser switches
// it off for this one transaction.
const adoptSQL = `
DO $adopt$
DECLARE
    r record;
    guard boolean := EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'append_only_guard' AND evtenabled <> 'D');
    guard_drop boolean := EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'append_only_guard_drop' AND evtenabled <> 'D');
BEGIN
    IF guard THEN ALTER EVENT TRIGGER append_only_guard DISABLE; END IF;
    IF guard_drop THEN ALTER EVENT TRIGGER append_only_guard_drop DISABLE; END IF;
    FOR r IN SELECT c.oid::regclass AS obj, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relowner = current_user::regrole AND c.relkind IN ('r', 'p', 'v', 'm', 'f') LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I',
            CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.obj, $1);
    END LOOP;
    -- Sequences of serial columns moved with their tables; these are the rest.
    FOR r IN SELECT c.oid::regclass AS obj FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relowner = current_user::regrole AND c.relkind = 'S' LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', r.obj, $1);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS obj, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public' AND p.proowner = current_user::regrole LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I',
            CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.obj, $1);
    END LOOP;
    FOR r IN SELECT t.oid::regtype AS obj FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = 'public' AND t.typowner = current_user::regrole AND t.typtype IN ('e', 'd', 'r')
                OR (n.nspname = 'public' AND t.typowner = current_user::regrole AND t.typtype = 'c'
                    AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO %I', r.obj, $1);
    END LOOP;
    IF guard THEN ALTER EVENT TRIGGER append_only_guard ENABLE; END IF;
    IF guard_drop THEN ALTER EVENT TRIGGER append_only_guard_drop ENABLE; END IF;
END
$adopt$`

func (c *Cluster) adopt(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.URL(name))
	if err != nil {
		return err
	}
	defer db.Close()
	var owned bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relowner = current_user::regrole)
		OR (SELECT datdba FROM pg_database WHERE datname = current_database()) = current_user::regrole::oid`).Scan(&owned); err != nil {
		return fmt.Errorf("connect to embedded database %s: %w", name, err)
	}
	if !owned {
		return nil
	}
	c.log.Warn("handing the database of an earlier version to the owner role", "database", name, "owner", Owner)
	// $1 in a DO block is not a parameter: the role name goes in as a literal.
	q := strings.ReplaceAll(adoptSQL, "$1", pq.QuoteLiteral(Owner))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `ALTER DATABASE `+pq.QuoteIdentifier(name)+` OWNER TO `+pq.QuoteIdentifier(Owner)); err != nil {
		return fmt.Errorf("database owner: %w", err)
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("hand objects to %s: %w", Owner, err)
	}
	return tx.Commit()
}
