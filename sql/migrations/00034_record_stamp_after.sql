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

-- A record's update adds to the rate changes (00015) only where an input of
-- the rates moved: a row whose inputs are the same before and after gives
-- the same changes with both signs, which cancel, so leaving the pair out
-- gives the same sums. An entry's note of the record's facts changes
-- last_service_date alone when the entry does not conform, and an edit of a
-- phone number none of them: the record's rate changes were computed twice
-- for nothing. (An UPDATE changes each row once: a record is in each
-- transition table at most once.) A statement trigger fires also when its
-- UPDATE changed no row, as an entry's note of facts that did not move:
-- it then returns at once, sparing the start of the query below.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_changes_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM new_rows) THEN
        RETURN NULL;
    END IF;
    INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
    SELECT c.county, c.kind, c.code, c.on_date, sum(c.active), sum(c.qualified), sum(c.used)
    FROM (SELECT 1 AS sign, * FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.record_id = n.record_id
            AND (o.village_code, o.responsible_doctor, o.filed_on, o.status_date, o.birth_date, o.quality_failures, o.exam_ok_on,
                o.used_on, o.doctor_before, o.doctor_until)
            IS NOT DISTINCT FROM (n.village_code, n.responsible_doctor, n.filed_on, n.status_date, n.birth_date, n.quality_failures,
                n.exam_ok_on, n.used_on, n.doctor_before, n.doctor_until))
        UNION ALL
        SELECT -1, * FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.record_id = o.record_id
            AND (o.village_code, o.responsible_doctor, o.filed_on, o.status_date, o.birth_date, o.quality_failures, o.exam_ok_on,
                o.used_on, o.doctor_before, o.doctor_until)
            IS NOT DISTINCT FROM (n.village_code, n.responsible_doctor, n.filed_on, n.status_date, n.birth_date, n.quality_failures,
                n.exam_ok_on, n.used_on, n.doctor_before, n.doctor_until))) x
    CROSS JOIN LATERAL record_rate_changes(x.village_code, x.responsible_doctor, x.filed_on, x.status_date,
        x.birth_date, x.quality_failures, x.exam_ok_on, x.used_on, x.sign, x.doctor_before, x.doctor_until) c
    GROUP BY 1, 2, 3, 4 HAVING (sum(c.active), sum(c.qualified), sum(c.used)) <> (0, 0, 0);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_changes_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
    SELECT c.county, c.kind, c.code, c.on_date, sum(c.active), sum(c.qualified), sum(c.used)
    FROM (SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows) x
    CROSS JOIN LATERAL record_rate_changes(x.village_code, x.responsible_doctor, x.filed_on, x.status_date,
        x.birth_date, x.quality_failures, x.exam_ok_on, x.used_on, x.sign, x.doctor_before, x.doctor_until) c
    GROUP BY 1, 2, 3, 4 HAVING (sum(c.active), sum(c.qualified), sum(c.used)) <> (0, 0, 0);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
DROP TRIGGER records_changed_xid ON records;
DROP FUNCTION note_record_changed_xid();
CREATE TRIGGER records_changed_xid BEFORE UPDATE ON records FOR EACH ROW
    WHEN (NEW.version IS DISTINCT FROM OLD.version) EXECUTE FUNCTION note_changed_xid();
