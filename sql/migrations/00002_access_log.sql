-- +goose Up
-- The access audit log (DESIGN §6.3): every read, write, export and denied
-- attempt on a record. Append-only: the triggers below refuse UPDATE, DELETE
-- and TRUNCATE for every role, the table's owner included.
CREATE TABLE access_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    staff_code text NOT NULL,
    roles      text NOT NULL,
    record_id  text NOT NULL,
    section    text NOT NULL,
    action     text NOT NULL,
    grant_id   bigint,
    outcome    text NOT NULL CHECK (outcome IN ('allowed', 'denied')),
    reason     text NOT NULL DEFAULT '',
    method     text NOT NULL DEFAULT '',
    path       text NOT NULL DEFAULT ''
);
CREATE INDEX access_log_record ON access_log (record_id, id DESC);
CREATE INDEX access_log_staff ON access_log (staff_code, id DESC);

-- +goose StatementBegin
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
