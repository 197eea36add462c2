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
