-- +goose Up
-- The tablet's delta sync (docs/api-entries.md, GET /followups/worklist):
-- which transaction last changed what GET /records/{id} shows — the basic
-- section (the record's version), its exams, its enrolments. Each row
-- carries the ID of the transaction that wrote it last (xid8, which never
-- wraps around). A worklist answer's cursor is a snapshot taken before it
-- read any record; the next sync sends the records with a row written by a
-- transaction that snapshot did not see as ended — also one that began
-- earlier and committed later, out of order, which a timestamp or a
-- sequence could skip.
--
-- On the rows themselves, not in a table of their own: two writers of one
-- record's exams never wait for each other on a shared row. NULL (the rows
-- before this migration) is "not changed since", and every cursor is
-- issued after it. The default marks inserts (COPY too) without a trigger;
-- adding the columns rewrites nothing.
ALTER TABLE records ADD COLUMN changed_xid xid8;
ALTER TABLE records ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE exams ADD COLUMN changed_xid xid8;
ALTER TABLE exams ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE enrolments ADD COLUMN changed_xid xid8;
ALTER TABLE enrolments ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();

-- +goose StatementBegin
CREATE FUNCTION note_changed_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- A record's update counts when its version moved (basic information,
-- status): the rates' own columns (used_on, last_service_date…) change on
-- every entry and are not on the record page. An exam or enrolment counts
-- when anything in it changed (an enrolment's schedule moves with each
-- follow-up; a recomputation that finds the same values does not count).
CREATE TRIGGER records_changed_xid BEFORE UPDATE ON records FOR EACH ROW
    WHEN (NEW.version IS DISTINCT FROM OLD.version) EXECUTE FUNCTION note_changed_xid();
CREATE TRIGGER exams_changed_xid BEFORE UPDATE ON exams FOR EACH ROW
    WHEN (NEW.* IS DISTINCT FROM OLD.*) EXECUTE FUNCTION note_changed_xid();
-- (Enrolments name their columns: a BEFORE trigger's condition may not
-- read the generated village_code.)
CREATE TRIGGER enrolments_changed_xid BEFORE UPDATE ON enrolments FOR EACH ROW
    WHEN ((NEW.record_id, NEW.programme, NEW.enrolled_on, NEW.status, NEW.ended_on, NEW.end_reason,
        NEW.last_followup_date, NEW.next_due_date)
        IS DISTINCT FROM (OLD.record_id, OLD.programme, OLD.enrolled_on, OLD.status, OLD.ended_on, OLD.end_reason,
        OLD.last_followup_date, OLD.next_due_date))
    EXECUTE FUNCTION note_changed_xid();

-- +goose Down
DROP TRIGGER enrolments_changed_xid ON enrolments;
DROP TRIGGER exams_changed_xid ON exams;
DROP TRIGGER records_changed_xid ON records;
DROP FUNCTION note_changed_xid();
ALTER TABLE enrolments DROP COLUMN changed_xid;
ALTER TABLE exams DROP COLUMN changed_xid;
ALTER TABLE records DROP COLUMN changed_xid;
