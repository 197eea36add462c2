-- +goose Up
-- Two database roles (docs/access.md, issue 15): the owner of the tables runs
-- these migrations; the service serves as an app role that owns nothing,
-- creates nothing, and may only append to and read the audit tables. Role
-- names differ per deployment, so grant_app_role(name) computes the grants
-- from the schema; `healthrec migrate` calls it after every migration run,
-- so tables that later migrations add are covered, and a later table with
-- an append-only trigger is an audit table without anyone listing it.

-- Nobody but the owner creates objects in the schema (PostgreSQL 15 already
-- revoked this from PUBLIC; older servers grant it). Without ownership of
-- the schema this only warns.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- +goose StatementBegin
CREATE FUNCTION grant_app_role(app name) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public AS $$
DECLARE
    t record;
    privs text;
    -- Trigger functions that refuse a change: a table carrying one for an
    -- operation keeps that operation from the app role as well, and the
    -- privilege check comes before any trigger or replication-role trick.
    refusers CONSTANT text[] := ARRAY['access_log_append_only', 'append_only', 'refuse_change'];
    -- History kept by the code alone, never changed once written.
    history CONSTANT text[] := ARRAY['record_history', 'case_events', 'goose_db_version'];
BEGIN
    IF app = current_user THEN
        RAISE EXCEPTION 'grant_app_role: % is the role running the migrations; the app role must be another', app;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app AND rolsuper) THEN
        RAISE EXCEPTION 'grant_app_role: % is a superuser', app;
    END IF;
    -- Connect, but no temporary tables (pg_temp is searched first and
    -- could shadow the real ones). Without ownership of the database
    -- the REVOKE only warns.
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), app);
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM %I', current_database(), app);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
    EXECUTE format('REVOKE CREATE ON SCHEMA public FROM %I', app);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', app);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', app);
    FOR t IN
        SELECT c.oid, c.relkind, c.relname,
               EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
                       WHERE g.tgrelid = c.oid AND p.proname = ANY (refusers) AND (g.tgtype & 16) <> 0) AS no_update,
               EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
                       WHERE g.tgrelid = c.oid AND p.proname = ANY (refusers) AND (g.tgtype & 8) <> 0) AS no_delete
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
    LOOP
        IF t.relkind IN ('v', 'm') THEN
            privs := 'SELECT';
        ELSIF t.relname = 'goose_db_version' THEN
            privs := 'SELECT'; -- serve checks the schema is current
        ELSIF t.relname = ANY (history) THEN
            privs := 'SELECT, INSERT';
        ELSE
            privs := 'SELECT, INSERT';
            IF NOT t.no_update THEN privs := privs || ', UPDATE'; END IF;
            IF NOT t.no_delete THEN privs := privs || ', DELETE'; END IF;
        END IF;
        EXECUTE format('GRANT %s ON %s TO %I', privs, t.oid::regclass, app);
    END LOOP;
    -- nextval for the serial columns it inserts into; never setval.
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app);
    -- The schema's functions (rate_fold, the quality rules…), also one a
    -- later migration keeps from PUBLIC; this one only the owner runs.
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO %I', app);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION grant_app_role(name) FROM %I', app);
    REVOKE ALL ON FUNCTION grant_app_role(name) FROM PUBLIC;
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION grant_app_role(name) FROM PUBLIC;
