-- +goose Up
-- A record's delta-sync stamp (00022) moves from a BEFORE trigger to the
-- writes that move a record's version: they set changed_xid themselves.
--
-- Why: PostgreSQL recomputes a stored generated column on UPDATE only when
-- the update sets one of its inputs — unless the table has a BEFORE ROW
-- UPDATE trigger (which could change any column), whatever its WHEN. With
-- 00022's trigger every UPDATE of records, also each entry's note of its
-- facts (last_service_date, used_on), prepared and recomputed
-- quality_failures, whose SQL function is inlined — parsed and planned —
-- at each statement's start: a third of PostgreSQL's CPU in a follow-up
-- create on the 1M county (docs/benchmarks.md).
--
-- The trigger that stays is AFTER and only a safety net: an update that
-- moves the version without setting changed_xid (a script, a future
-- statement) still gets it stamped, by a second update of the row.
DROP TRIGGER records_changed_xid ON records;

-- +goose StatementBegin
CREATE FUNCTION note_record_changed_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE records SET changed_xid = pg_current_xact_id() WHERE record_id = NEW.record_id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER records_changed_xid AFTER UPDATE ON records FOR EACH ROW
    WHEN (NEW.version IS DISTINCT FROM OLD.version AND NEW.changed_xid IS NOT DISTINCT FROM OLD.changed_xid)
    EXECUTE FUNCTION note_record_changed_xid();

-- +goose Down
DROP TRIGGER records_changed_xid ON records;
DROP FUNCTION note_record_changed_xid();
CREATE TRIGGER records_changed_xid BEFORE UPDATE ON records FOR EACH ROW
    WHEN (NEW.version IS DISTINCT FROM OLD.version) EXECUTE FUNCTION note_changed_xid();
