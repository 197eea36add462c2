-- +goose Up
-- The rates stay exact under concurrent work (issue 23; docs/rates.md, "What
-- counts is decided at write time").

-- The per-village and per-doctor counts of records active now (00010) become
-- append-only, like rate_changes: a filing, a status change or a move adds a
-- row of +1/−1 changes instead of updating the one row of its village and
-- doctor. No writer then holds a counter row while it waits for a record —
-- the import's records COPY held every village's row for the rest of the
-- import, and a status change waiting for it held its record: a deadlock. A
-- reader sums the rows (activeCounts already grouped them); rate_fold()
-- compacts each village and doctor with several rows into one.
ALTER TABLE rate_active_counts DROP CONSTRAINT rate_active_counts_pkey;
CREATE INDEX rate_active_counts_village ON rate_active_counts (village_code, doctor);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_count(changes jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO rate_active_counts (village_code, doctor, active)
    SELECT v, d, sum(n) FROM jsonb_to_recordset(changes) AS x (v text, d text, n int)
    GROUP BY v, d HAVING sum(n) <> 0
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_active_counts (village_code, doctor, active)
    SELECT village_code, COALESCE(responsible_doctor, ''), count(*) FROM new_rows WHERE status_date IS NULL GROUP BY 1, 2;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_active_counts (village_code, doctor, active)
    SELECT village_code, COALESCE(responsible_doctor, ''), -count(*) FROM old_rows WHERE status_date IS NULL GROUP BY 1, 2;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- The fold also compacts the active counts: the rows of a village and
-- doctor with more than one are replaced by their sum (none when it is 0).
-- Folds take turns (a transaction-scoped advisory lock, two-key form, so no
-- idempotency key's lock can be it): two at once would lock the same rows of
-- three tables in whatever orders their plans chose.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_fold() RETURNS bigint LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(15, 1);
    WITH compacted AS (
        DELETE FROM rate_active_counts WHERE (village_code, doctor) IN (
            SELECT village_code, doctor FROM rate_active_counts GROUP BY 1, 2 HAVING count(*) > 1)
        RETURNING *
    )
    INSERT INTO rate_active_counts (village_code, doctor, active)
    SELECT village_code, doctor, sum(active) FROM compacted GROUP BY 1, 2 HAVING sum(active) <> 0;
    WITH moved AS (DELETE FROM rate_changes RETURNING *),
    folded AS (
        INSERT INTO rate_counts AS c (county, grain, starts, kind, code, active, qualified, used)
        SELECT m.county, g.grain, g.starts, m.kind, m.code, sum(m.active), sum(m.qualified), sum(m.used)
        FROM moved m CROSS JOIN LATERAL (VALUES ('d'::"char", m.on_date),
            ('m', date_trunc('month', m.on_date)::date), ('y', date_trunc('year', m.on_date)::date)) g (grain, starts)
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (county, grain, starts, kind, code) DO UPDATE SET active = c.active + EXCLUDED.active,
            qualified = c.qualified + EXCLUDED.qualified, used = c.used + EXCLUDED.used
    )
    SELECT count(*) FROM moved;
$$;
-- +goose StatementEnd

-- The responsible doctor at the as-of date (DESIGN §5.2): a doctor's quality
-- and usage count the records they were responsible for on the date, so a
-- handover never rewrites the figures of dates before it.
--
-- A record keeps its doctors with their dates on its own row: doctor_before
-- are the earlier responsible doctors (NULL for a time without one) and
-- doctor_until the day each stopped being responsible (the next one's first
-- day), in date order; responsible_doctor is the doctor since the last of
-- them, or since always when there is none. On the row, because the rate
-- counters are computed by statement triggers from a record's old and new
-- rows: a handover's change to the counters is then the new row's less the
-- old row's, like any other. (The view record_doctors reads them as a
-- history.)
ALTER TABLE records ADD COLUMN doctor_before text[], ADD COLUMN doctor_until date[];

-- The day the current responsible doctor took over; NULL: since always.
-- +goose StatementBegin
CREATE FUNCTION record_doctor_since(until date[]) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT until[cardinality(until)]
$$;
-- +goose StatementEnd

-- The responsible doctor on a date.
-- +goose StatementBegin
CREATE FUNCTION record_doctor_at(doctor text, before text[], until date[], d date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN until IS NULL OR d >= until[cardinality(until)] THEN doctor
        ELSE (SELECT before[i] FROM generate_subscripts(until, 1) i WHERE d < until[i] ORDER BY i LIMIT 1) END
$$;
-- +goose StatementEnd

-- The records handed over after a date: a report as of the date finds them
-- here (few, for a recent date) and counts them under their doctor then.
CREATE INDEX records_handed_over ON records (record_doctor_since(doctor_until)) WHERE doctor_until IS NOT NULL;

-- Each record's responsible doctors with their dates, one row per doctor:
-- from_date NULL is "since the record was filed", to_date NULL "still".
CREATE VIEW record_doctors AS
SELECT r.record_id, h.doctor, h.from_date, h.to_date
FROM records r CROSS JOIN LATERAL (
    SELECT b.doctor, b.from_date, b.to_date
    FROM unnest(r.doctor_before, r.doctor_until, ARRAY[NULL::date] || r.doctor_until[1:cardinality(r.doctor_until) - 1])
        AS b (doctor, to_date, from_date)
    WHERE r.doctor_until IS NOT NULL
    UNION ALL
    SELECT r.responsible_doctor, record_doctor_since(r.doctor_until), NULL
) h;

-- A record's rate changes (00013) with its doctor's dates: the village's
-- counts as before; a doctor's, only the dates in their time as the record's
-- responsible doctor — the changes of each stretch under that stretch's
-- doctor. Written as before (set-returning functions in the select lists)
-- for the bulk statements it is inlined into.
-- +goose StatementBegin
CREATE FUNCTION record_rate_changes(village text, doctor text, filed date, closed date,
        birth date, failures smallint, exam_ok datemultirange, served datemultirange, sign int,
        before text[], until date[])
    RETURNS TABLE (county text, kind "char", code text, on_date date, active int, qualified int, used int)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT s.county, s.kind, s.code, s.on_date, s.active, s.qualified, s.used FROM (
        -- a range counts from its first day and stops on the day after its last
        SELECT c.county, c.kind, c.code, unnest(ARRAY[lower(c.range), upper(c.range)]) AS on_date,
            unnest(ARRAY[sign, -sign]) * c.a AS active, unnest(ARRAY[sign, -sign]) * c.q AS qualified,
            unnest(ARRAY[sign, -sign]) * c.u AS used
        FROM (
            SELECT x.county, p.kind, p.code, unnest(CASE WHEN p.span IS NULL THEN x.dates ELSE x.dates * p.span END) AS range,
                x.a, x.q, x.u
            FROM (
                -- the dates on which it is active, qualified and used
                SELECT left(village, 6) AS county,
                    unnest(ARRAY[a.dates,
                        CASE WHEN failures = 0 AND birth IS NOT NULL AND exam_ok IS NOT NULL
                            THEN a.dates * datemultirange(daterange(birth, NULL)) * exam_ok ELSE '{}' END,
                        CASE WHEN served IS NOT NULL THEN a.dates * served ELSE '{}' END]) AS dates,
                    unnest(ARRAY[1, 0, 0]) AS a, unnest(ARRAY[0, 1, 0]) AS q, unnest(ARRAY[0, 0, 1]) AS u
                FROM (SELECT CASE WHEN closed IS NULL OR closed > filed
                    THEN datemultirange(daterange(filed, closed)) ELSE '{}' END AS dates) a
            ) x CROSS JOIN (
                -- its scopes, each with the dates it is the record's (NULL: all)
                SELECT 'v'::"char" AS kind, village AS code, NULL::datemultirange AS span
                UNION ALL
                SELECT 'd', doctor, CASE WHEN until IS NOT NULL THEN datemultirange(daterange(record_doctor_since(until), NULL)) END
                UNION ALL
                SELECT 'd', h.code, datemultirange(daterange(h.since, h.until))
                FROM unnest(before, until, ARRAY[NULL::date] || until[1:cardinality(until) - 1]) AS h (code, until, since)
                WHERE until IS NOT NULL
            ) p
        ) c
    ) s
    WHERE s.on_date IS NOT NULL AND s.code IS NOT NULL
$$;
-- +goose StatementEnd

-- The old signature, for records without a handover (00013's backfill).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION record_rate_changes(village text, doctor text, filed date, closed date,
        birth date, failures smallint, exam_ok datemultirange, served datemultirange, sign int)
    RETURNS TABLE (county text, kind "char", code text, on_date date, active int, qualified int, used int)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT * FROM record_rate_changes(village, doctor, filed, closed, birth, failures, exam_ok, served, sign, NULL, NULL)
$$;
-- +goose StatementEnd

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
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_changes_filed_or_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign int := CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END;
BEGIN
    INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
    SELECT c.county, c.kind, c.code, c.on_date, sum(c.active), sum(c.qualified), sum(c.used)
    FROM these_rows r CROSS JOIN LATERAL record_rate_changes(r.village_code, r.responsible_doctor, r.filed_on, r.status_date,
        r.birth_date, r.quality_failures, r.exam_ok_on, r.used_on, sign, r.doctor_before, r.doctor_until) c
    GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- The records filed before this migration.
-- The best date available for a past handover is the day it was recorded:
-- each change of the responsible doctor in the record's history
-- (record_history, action 'update') ends the previous doctor's time on that
-- day — the day's first change names the doctor before it. A record never handed over keeps its doctor since it
-- was filed, as before. Changes on the filing day itself leave no earlier
-- time. The update trigger above moves the doctors' counters accordingly.
WITH changes AS (
    SELECT DISTINCT ON (h.record_id, h.changed_at::date) h.record_id, h.changed_at::date AS on_date,
        NULLIF(h.changes -> 'responsible_doctor' ->> 'before', '') AS before
    FROM record_history h
    WHERE h.action = 'update' AND h.changes ? 'responsible_doctor'
    ORDER BY h.record_id, h.changed_at::date, h.id
), handovers AS (
    SELECT c.record_id, array_agg(c.before ORDER BY c.on_date) AS before, array_agg(c.on_date ORDER BY c.on_date) AS until
    FROM changes c JOIN records r ON r.record_id = c.record_id
    WHERE c.on_date > r.filed_on
    GROUP BY c.record_id
)
UPDATE records r SET doctor_before = h.before, doctor_until = h.until
FROM handovers h WHERE h.record_id = r.record_id;
SELECT rate_fold();
