-- +goose Up
-- Consent-based access requests (DESIGN §6.2) and a stronger append-only
-- guarantee for the audit tables (§6.3).
--
-- A request is approved by the record-keeping institution, then consented
-- to by the resident or guardian; only then is it an active grant. "expired"
-- is never stored: an active grant with expires_at <= now is expired, read
-- from the clock at every check.
CREATE TABLE access_requests (
    id                   bigserial PRIMARY KEY,
    record_id            text NOT NULL REFERENCES records (record_id),
    requested_by         text NOT NULL REFERENCES staff (code),
    purpose              text NOT NULL CHECK (purpose <> ''),
    sections             text[] NOT NULL CHECK (cardinality(sections) > 0
                             AND sections <@ ARRAY['basic', 'exams', 'programmes', 'entries']),
    days                 int NOT NULL CHECK (days BETWEEN 1 AND 90),
    state                text NOT NULL CHECK (state IN ('submitted', 'approved', 'active', 'rejected', 'refused', 'revoked')),
    submitted_at         timestamptz NOT NULL,
    -- The resident's or guardian's answer, recorded by a records administrator.
    consent_given        boolean,
    consent_given_by     text,
    consent_relationship text,
    consent_method       text CHECK (consent_method IN ('signed_form', 'in_person', 'phone')),
    consent_reference    text,
    consent_recorded_by  text REFERENCES staff (code),
    consent_recorded_at  timestamptz,
    activated_at         timestamptz,
    expires_at           timestamptz,
    CHECK ((activated_at IS NULL) = (expires_at IS NULL)),
    CHECK ((state = 'active') <= (activated_at IS NOT NULL)),
    CHECK (state NOT IN ('submitted', 'approved', 'rejected') OR (activated_at IS NULL AND consent_given IS NULL)),
    CHECK ((consent_given IS NULL) = (consent_recorded_at IS NULL))
);
-- The gate looks up the caller's running grant on a record at every request.
CREATE INDEX access_requests_grant ON access_requests (requested_by, record_id) WHERE state = 'active';
CREATE INDEX access_requests_record ON access_requests (record_id, id DESC);
CREATE INDEX access_requests_requester ON access_requests (requested_by, id DESC);

-- Every transition: who, when, from which state to which, and why.
CREATE TABLE access_request_transitions (
    id         bigserial PRIMARY KEY,
    request_id bigint NOT NULL REFERENCES access_requests (id),
    from_state text,
    to_state   text NOT NULL,
    action     text NOT NULL,
    at         timestamptz NOT NULL,
    by_staff   text NOT NULL REFERENCES staff (code),
    reason     text NOT NULL DEFAULT ''
);
CREATE INDEX access_request_transitions_request ON access_request_transitions (request_id, id);

-- The access log names the grant a read went through.
ALTER TABLE access_log ADD CONSTRAINT access_log_grant FOREIGN KEY (grant_id) REFERENCES access_requests (id);

-- +goose StatementBegin
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

-- Transitions are history: never changed, never removed. Requests change
-- state but are never removed either.
CREATE TRIGGER access_request_transitions_no_update BEFORE UPDATE OR DELETE ON access_request_transitions
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER access_request_transitions_no_truncate BEFORE TRUNCATE ON access_request_transitions
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER access_requests_no_delete BEFORE DELETE ON access_requests
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER access_requests_no_truncate BEFORE TRUNCATE ON access_requests
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- The triggers stop UPDATE, DELETE and TRUNCATE for every role, the owner
-- included. But an owner may also disable, drop or replace a trigger, swap
-- the trigger function, or rename or drop the table. This event trigger
-- refuses any DDL on the guarded tables, their triggers and the trigger
-- functions, so the audit trail cannot be undone without a superuser first
-- switching the guard off (ALTER EVENT TRIGGER append_only_guard DISABLE),
-- a deliberate step of its own. A later migration that
-- must change one of these tables does exactly that around its change.
-- Indexes on the tables stay free to add.
-- +goose StatementBegin
CREATE FUNCTION append_only_guard() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    guarded CONSTANT text[] := ARRAY['access_log', 'access_requests', 'access_request_transitions'];
    funcs   CONSTANT text[] := ARRAY['access_log_append_only', 'append_only', 'append_only_guard'];
    -- The guarded tables by name, and any table that carries an append-only
    -- trigger: a renamed table is still guarded.
    rels    oid[] := ARRAY(SELECT oid FROM pg_class WHERE relname = ANY (guarded)
                           UNION SELECT t.tgrelid FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = ANY (funcs));
    obj     record;
    rel     oid;
    hit     boolean;
BEGIN
    IF TG_EVENT = 'sql_drop' THEN
        FOR obj IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
            IF (obj.object_type IN ('table', 'function') AND obj.object_name = ANY (guarded || funcs))
               OR (obj.object_type IN ('trigger', 'table column', 'table constraint', 'rule', 'policy')
                   AND obj.address_names[2] = ANY (guarded)) THEN
                RAISE EXCEPTION 'append-only guard: % refused on %', TG_TAG, obj.object_identity
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END LOOP;
        RETURN;
    END IF;
    FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        rel := NULL;
        hit := false;
        CASE obj.object_type
        WHEN 'table' THEN rel := obj.objid;
        WHEN 'trigger' THEN SELECT tgrelid INTO rel FROM pg_trigger WHERE oid = obj.objid;
        WHEN 'rule' THEN SELECT ev_class INTO rel FROM pg_rewrite WHERE oid = obj.objid;
        WHEN 'policy' THEN SELECT polrelid INTO rel FROM pg_policy WHERE oid = obj.objid;
        WHEN 'function' THEN
            -- A trigger function of a guarded table, also after a rename.
            hit := EXISTS (SELECT 1 FROM pg_proc WHERE oid = obj.objid AND proname = ANY (funcs))
                OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgfoid = obj.objid AND tgrelid = ANY (rels));
        ELSE
        END CASE;
        IF hit OR rel = ANY (rels) THEN
            RAISE EXCEPTION 'append-only guard: % refused on %', obj.command_tag, obj.object_identity
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- Creating an event trigger takes a superuser. The embedded cluster's role is
-- one; a deployment on an existing server whose application role is not
-- keeps the row triggers and should have a superuser run the two statements
-- below once (docs/access.md).
-- +goose StatementBegin
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        CREATE EVENT TRIGGER append_only_guard ON ddl_command_end EXECUTE FUNCTION append_only_guard();
        CREATE EVENT TRIGGER append_only_guard_drop ON sql_drop EXECUTE FUNCTION append_only_guard();
    ELSE
        RAISE NOTICE 'not a superuser: the append-only DDL guard (event triggers append_only_guard, append_only_guard_drop) is not installed';
    END IF;
END;
$$;
-- +goose StatementEnd
