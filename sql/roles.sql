-- The two database roles of healthrec, for a PostgreSQL server of your own
-- (DATABASE_URL). Run once as a superuser, with passwords of your choosing:
--
--   psql -h DBHOST -U postgres -v owner_password="'…'" -v app_password="'…'" -f sql/roles.sql
--
-- Then, from the service's machine:
--
--   DATABASE_OWNER_URL=postgres://healthrec_owner:…@DBHOST/healthrec \
--   DATABASE_URL=postgres://healthrec_app:…@DBHOST/healthrec healthrec migrate
--   DATABASE_URL=postgres://healthrec_app:…@DBHOST/healthrec healthrec serve
--
-- healthrec_owner owns the database and every table and runs the
-- migrations; `healthrec migrate` then grants healthrec_app what the service
-- needs (grant_app_role, migration 00014). healthrec_app owns nothing,
-- creates nothing, and may only INSERT and SELECT on the audit tables
-- (docs/access.md). `healthrec serve` refuses to run as a superuser or as
-- the owner unless HEALTHREC_ALLOW_SUPERUSER=1.

\set ON_ERROR_STOP on

CREATE ROLE healthrec_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :owner_password;
CREATE ROLE healthrec_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :app_password;
-- Text sorts byte by byte (code point order), as the embedded cluster's does
-- (docs/operations.md); character classes stay the server's.
CREATE DATABASE healthrec OWNER healthrec_owner ENCODING 'UTF8' LC_COLLATE 'C' TEMPLATE template0;

\connect healthrec
-- Only the owner creates objects (PostgreSQL before 15 let everyone), and
-- nobody makes temporary tables that could shadow the real ones.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE TEMPORARY ON DATABASE healthrec FROM PUBLIC;
GRANT CONNECT ON DATABASE healthrec TO healthrec_app;

-- The append-only guard's event triggers (migration 00006) need a
-- superuser. Run these two statements once after the first
-- `healthrec migrate`, as this superuser, in this database:
--
--   CREATE EVENT TRIGGER append_only_guard ON ddl_command_end EXECUTE FUNCTION append_only_guard();
--   CREATE EVENT TRIGGER append_only_guard_drop ON sql_drop EXECUTE FUNCTION append_only_guard();
