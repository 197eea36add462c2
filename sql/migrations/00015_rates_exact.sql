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
