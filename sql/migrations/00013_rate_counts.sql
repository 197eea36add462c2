-- +goose Up
-- A report whose sample is the whole population, for any as-of date, from a
-- few counters per village and doctor instead of every record (DESIGN §9: "a
-- report rolls up from about 300 village rows"; docs/rates.md).
--
-- As a function of the as-of date D, each record is
--   active     on [filed_on, status_date)
--   qualified  on active ∩ [birth_date, ∞) ∩ exam_ok_on, when no stored rule
--              fails (quality_failures = 0): every rule Q1–Q11 holds
--   used       on active ∩ used_on
-- (the conditions of postgres/rates.go, as sets of dates). Each set is a few
-- ranges, and a range adds one to a count on its first date and takes one
-- away on the day after its last. So a scope's records active (qualified,
-- used) on D are the sum of its changes dated on or before D. The scopes are
-- villages (kind 'v') and responsible doctors ('d'), each within its county:
-- every level of the report is a sum of one or the other.

-- A record's changes, signed (+1 for a record coming in, -1 for one going
-- out): on which dates its three counts go up or down, in each of its scopes.
-- Written with set-returning functions in the select lists and given the
-- columns rather than the row: inlined into a statement over a million
-- records it takes a third of the time of the same written with lateral
-- joins, and into a follow-up's single-row update about 55 µs.
-- +goose StatementBegin
CREATE FUNCTION record_rate_changes(village text, doctor text, filed date, closed date,
        birth date, failures smallint, exam_ok datemultirange, served datemultirange, sign int)
    RETURNS TABLE (county text, kind "char", code text, on_date date, active int, qualified int, used int)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT s.county, s.kind, s.code, s.on_date, s.active, s.qualified, s.used FROM (
        -- each change in the record's village and under its doctor
        SELECT c.county, unnest(ARRAY['v', 'd']::"char"[]) AS kind, unnest(ARRAY[c.village_code, c.responsible_doctor]) AS code,
            c.on_date, c.active, c.qualified, c.used
        FROM (
            -- a range counts from its first day and stops on the day after its last
            SELECT d.county, d.village_code, d.responsible_doctor, unnest(ARRAY[lower(d.range), upper(d.range)]) AS on_date,
                unnest(ARRAY[sign, -sign]) * d.a AS active, unnest(ARRAY[sign, -sign]) * d.q AS qualified,
                unnest(ARRAY[sign, -sign]) * d.u AS used
            FROM (
                SELECT x.county, x.village_code, x.responsible_doctor, unnest(x.dates) AS range, x.a, x.q, x.u
                FROM (
                    -- the dates on which it is active, qualified and used
                    SELECT left(village, 6) AS county, village AS village_code, doctor AS responsible_doctor,
                        unnest(ARRAY[a.dates,
                            CASE WHEN failures = 0 AND birth IS NOT NULL AND exam_ok IS NOT NULL
                                THEN a.dates * datemultirange(daterange(birth, NULL)) * exam_ok ELSE '{}' END,
                            CASE WHEN served IS NOT NULL THEN a.dates * served ELSE '{}' END]) AS dates,
                        unnest(ARRAY[1, 0, 0]) AS a, unnest(ARRAY[0, 1, 0]) AS q, unnest(ARRAY[0, 0, 1]) AS u
                    FROM (SELECT CASE WHEN closed IS NULL OR closed > filed
                        THEN datemultirange(daterange(filed, closed)) ELSE '{}' END AS dates) a
                ) x
            ) d
        ) c
    ) s
    WHERE s.on_date IS NOT NULL AND s.code IS NOT NULL
$$;
-- +goose StatementEnd

-- Changes not yet folded into rate_counts. Writers only append here (no
-- index, no row two writers share), so filings and entries never wait for
-- each other on a counter; rate_fold() moves them into rate_counts, and a
-- report adds those still pending, so it is exact at any moment.
CREATE TABLE rate_changes (
    county    text NOT NULL,
    kind      "char" NOT NULL CHECK (kind IN ('v', 'd')),
    code      text NOT NULL,
    on_date   date NOT NULL,
    active    int NOT NULL,
    qualified int NOT NULL,
    used      int NOT NULL
);

-- The folded changes of each scope, summed per day, per month and per year
-- (grain 'd', 'm', 'y'; starts is the period's first day): a scope's count on
-- D is its years before D's year, its months of that year before D's month,
-- and its days of that month up to D — a few dozen rows per scope.
CREATE TABLE rate_counts (
    county    text NOT NULL,
    grain     "char" NOT NULL CHECK (grain IN ('d', 'm', 'y')),
    starts    date NOT NULL,
    kind      "char" NOT NULL CHECK (kind IN ('v', 'd')),
    code      text NOT NULL,
    active    int NOT NULL,
    qualified int NOT NULL,
    used      int NOT NULL,
    PRIMARY KEY (county, grain, starts, kind, code)
);

-- Every statement that files, changes or deletes records notes their
-- changes, summed per scope and date, left out where they cancel: most
-- updates (a name, a phone) add nothing.
-- +goose StatementBegin
CREATE FUNCTION rate_changes_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
    SELECT c.county, c.kind, c.code, c.on_date, sum(c.active), sum(c.qualified), sum(c.used)
    FROM (SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows) x
    CROSS JOIN LATERAL record_rate_changes(x.village_code, x.responsible_doctor, x.filed_on, x.status_date,
        x.birth_date, x.quality_failures, x.exam_ok_on, x.used_on, x.sign) c
    GROUP BY 1, 2, 3, 4 HAVING (sum(c.active), sum(c.qualified), sum(c.used)) <> (0, 0, 0);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- A filing adds its rows' changes, a deletion (records are never deleted;
-- should one be) takes them back: one function, its rows named the same.
-- +goose StatementBegin
CREATE FUNCTION rate_changes_filed_or_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign int := CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END;
BEGIN
    INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
    SELECT c.county, c.kind, c.code, c.on_date, sum(c.active), sum(c.qualified), sum(c.used)
    FROM these_rows r CROSS JOIN LATERAL record_rate_changes(r.village_code, r.responsible_doctor, r.filed_on, r.status_date,
        r.birth_date, r.quality_failures, r.exam_ok_on, r.used_on, sign) c
    GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER records_rate_inserted AFTER INSERT ON records REFERENCING NEW TABLE AS these_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rate_changes_filed_or_deleted();
CREATE TRIGGER records_rate_updated AFTER UPDATE ON records REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rate_changes_updated();
CREATE TRIGGER records_rate_deleted AFTER DELETE ON records REFERENCING OLD TABLE AS these_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rate_changes_filed_or_deleted();

-- Moves the pending changes into rate_counts, in one statement: a report's
-- snapshot sees each change exactly once, in one table or the other. Two
-- folds at once move each change once (the second skips the rows the first
-- deleted), and upsert in key order, so they never deadlock. Returns the
-- number of changes moved.
-- +goose StatementBegin
CREATE FUNCTION rate_fold() RETURNS bigint LANGUAGE sql AS $$
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
    SELECT count(*) FROM moved
$$;
-- +goose StatementEnd

-- The report no longer reads every record's facts in village and doctor
-- order (00009, 00010): one index less to write on every entry.
DROP INDEX records_rates;

-- The records already filed.
INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
SELECT c.county, c.kind, c.code, c.on_date, sum(c.active), sum(c.qualified), sum(c.used)
FROM records r CROSS JOIN LATERAL record_rate_changes(r.village_code, r.responsible_doctor, r.filed_on, r.status_date,
        r.birth_date, r.quality_failures, r.exam_ok_on, r.used_on, 1) c
GROUP BY 1, 2, 3, 4;
SELECT rate_fold();
