-- +goose Up
-- The rates report for any as-of date, and the sample's draw, from write-time
-- facts (DESIGN §5, §9; docs/rates.md).
--
-- A stored "latest" date answers a report only when it is on or before the
-- as-of date, so a report for a past date used to probe every record's exams
-- and entries. What a report asks of a record's dynamic records depends on the
-- as-of date D only through two questions, and each has a compact exact
-- answer kept per record as the set of dates D for which it is yes:
--
--   used_on     has a dynamic record dated in D − 364 … D: the union over its
--               dynamic records s of [s, s + 365) — one range per stretch of
--               service without a gap of a year, so its size follows the
--               gaps, not the number of entries.
--   exam_ok_on  the latest health examination dated on or before D (latest by
--               date, then by id) has blood pressure, height and weight (Q11):
--               for each exam that is the last of its date and complete,
--               [its date, the next exam's date) — one range per run of
--               complete exams.
--   exam_from   the first exam's date: Q10 holds as of D when exam_from <= D.
--
-- NULL means the empty set. A report then tests `used_on @> D`, exactly, for
-- every record, with no fallback to the exams or entries.
ALTER TABLE records
    ADD COLUMN used_on    datemultirange,
    ADD COLUMN exam_from  date,
    ADD COLUMN exam_ok_on datemultirange;

-- The facts by definition, from the exams and entries: the bulk loaders
-- (RefreshFacts) copy them from here, and the tests check what the write
-- path keeps against it.
CREATE VIEW record_rate_facts AS
SELECT s.record_id, s.last_service_date, s.used_on, x.exam_from, x.last_exam_date,
    COALESCE(x.last_exam_complete, false) AS last_exam_complete, x.exam_ok_on
FROM (
    SELECT record_id, max(service_date) AS last_service_date,
        range_agg(daterange(service_date, service_date + 365)) AS used_on
    FROM (SELECT record_id, service_date FROM entries UNION ALL SELECT record_id, exam_date FROM exams) d
    GROUP BY record_id
) s LEFT JOIN (
    SELECT record_id, min(exam_date) AS exam_from, max(exam_date) AS last_exam_date,
        bool_or(complete) FILTER (WHERE next_date IS NULL) AS last_exam_complete,
        -- An exam followed by another of the same date spans an empty range.
        NULLIF(range_agg(daterange(exam_date, next_date)) FILTER (WHERE complete), '{}') AS exam_ok_on
    FROM (
        SELECT record_id, exam_date,
            ((systolic IS NOT NULL AND diastolic IS NOT NULL) OR (systolic_right IS NOT NULL AND diastolic_right IS NOT NULL))
                AND height_cm IS NOT NULL AND weight_kg IS NOT NULL AS complete,
            lead(exam_date) OVER (PARTITION BY record_id ORDER BY exam_date, id) AS next_date
        FROM exams
    ) e
    GROUP BY record_id
) x ON x.record_id = s.record_id;

UPDATE records r SET used_on = f.used_on, exam_from = f.exam_from, exam_ok_on = f.exam_ok_on
FROM record_rate_facts f WHERE f.record_id = r.record_id;

-- What a report reads of every record, ordered by village and responsible
-- doctor: the report is an index-only scan grouped in index order. The
-- latest exam and service dates are no longer read by reports (the sets above
-- answer every date), so they leave the index.
DROP INDEX records_rates;
CREATE INDEX records_rates ON records (village_code, responsible_doctor)
    INCLUDE (filed_on, status_date, birth_date, quality_failures, exam_ok_on, used_on);

-- Who is active when, per village and responsible doctor, in record ID order:
-- a sampled report counts the active records per village and doctor from this
-- narrow index (coverage, and each draw group's size), and finds each group's
-- anchor — the seed's k-th record of the group — by skipping a few entries.
CREATE INDEX records_active ON records (village_code, responsible_doctor, record_id) INCLUDE (filed_on, status_date);

-- The draw (docs/rates.md): each draw group's records in the order of a fixed
-- pseudo-random key per record, hashint8extended(record_id::bigint, 0), with
-- the same facts. A seed's sample of a group is the first N of its active
-- records in that order from a record chosen by the seed, wrapping around,
-- so the draw is one short index-only range scan per group.
CREATE INDEX records_draw ON records ((COALESCE(responsible_doctor, '#' || village_code)),
        (hashint8extended(record_id::bigint, 0)), record_id)
    INCLUDE (village_code, responsible_doctor, filed_on, status_date, birth_date, quality_failures, exam_from, exam_ok_on, used_on);

-- How many records are active now (no status date) per village and
-- responsible doctor ('' for none), kept by triggers on every filing, status
-- change, move and COPY. A sampled report needs each village and doctor's
-- active records as of its date — the coverage numerator and each draw
-- group's size — without reading every record: it takes these counts and
-- corrects them by the records filed after the date (still active now) and
-- those closed after it (filed by then), both found through the partial
-- indexes below, few when the date is recent.
CREATE TABLE rate_active_counts (
    village_code text NOT NULL,
    doctor       text NOT NULL,
    active       int NOT NULL,
    PRIMARY KEY (village_code, doctor)
);
INSERT INTO rate_active_counts (village_code, doctor, active)
SELECT village_code, COALESCE(responsible_doctor, ''), count(*) FROM records WHERE status_date IS NULL GROUP BY 1, 2;

-- Counts a set of changes: rows (village, doctor, +1 or −1), upserted in key
-- order so that two transactions never lock two counters in opposite orders.
-- +goose StatementBegin
CREATE FUNCTION rate_count(changes jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO rate_active_counts AS c (village_code, doctor, active)
    SELECT v, d, sum(n) FROM jsonb_to_recordset(changes) AS x (v text, d text, n int)
    GROUP BY v, d HAVING sum(n) <> 0 ORDER BY v, d
    ON CONFLICT (village_code, doctor) DO UPDATE SET active = c.active + EXCLUDED.active
$$;
-- +goose StatementEnd

-- Filings (one or a whole COPY): per statement, from its new rows.
-- +goose StatementBegin
CREATE FUNCTION rate_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_active_counts AS c (village_code, doctor, active)
    SELECT village_code, COALESCE(responsible_doctor, ''), count(*) FROM new_rows WHERE status_date IS NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (village_code, doctor) DO UPDATE SET active = c.active + EXCLUDED.active;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER records_count_inserted AFTER INSERT ON records REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rate_count_inserted();

-- A status change, a move to another village or doctor: per row, and only
-- then (the write-time facts' updates do not fire it).
-- +goose StatementBegin
CREATE FUNCTION rate_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rate_count(jsonb_build_array(
        jsonb_build_object('v', OLD.village_code, 'd', COALESCE(OLD.responsible_doctor, ''), 'n', CASE WHEN OLD.status_date IS NULL THEN -1 ELSE 0 END),
        jsonb_build_object('v', NEW.village_code, 'd', COALESCE(NEW.responsible_doctor, ''), 'n', CASE WHEN NEW.status_date IS NULL THEN 1 ELSE 0 END)));
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER records_count_updated AFTER UPDATE ON records FOR EACH ROW
    WHEN (OLD.status_date IS DISTINCT FROM NEW.status_date OR OLD.village_code IS DISTINCT FROM NEW.village_code
        OR OLD.responsible_doctor IS DISTINCT FROM NEW.responsible_doctor)
    EXECUTE FUNCTION rate_count_updated();

-- Records are never deleted; should one be, it leaves its count.
-- +goose StatementBegin
CREATE FUNCTION rate_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_active_counts AS c (village_code, doctor, active)
    SELECT village_code, COALESCE(responsible_doctor, ''), -count(*) FROM old_rows WHERE status_date IS NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (village_code, doctor) DO UPDATE SET active = c.active + EXCLUDED.active;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER records_count_deleted AFTER DELETE ON records REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rate_count_deleted();

-- The corrections' records: active ones by filing date, closed ones by status date.
CREATE INDEX records_filed_active ON records (filed_on) INCLUDE (village_code, responsible_doctor) WHERE status_date IS NULL;
CREATE INDEX records_closed ON records (status_date) INCLUDE (village_code, responsible_doctor, filed_on) WHERE status_date IS NOT NULL;
