-- +goose Up
-- record_rate_facts (00027) with the corrections looked for among the
-- entries that correct something: "c.corrects IS NOT NULL" is implied by
-- "c.corrects = e.id" and changes no fact, but PostgreSQL estimates the
-- anti-join's inner side by it. Without it the planner expected every
-- entry on that side and sized its hash table so (8M buckets for the
-- county of ten million entries), though none arrives there, and every
-- entry probed it: the facts of the 1M county took 10.2-11.9 s, with it
-- 6.2-6.6 s (with no anti-join at all 5.1-5.8 s), alternated in one
-- transaction, 2026-12-07. The test also matches the partial index
-- entries_corrects, where it exists.
CREATE OR REPLACE VIEW record_rate_facts AS
SELECT s.record_id, s.last_service_date, s.used_on, x.exam_from, x.last_exam_date,
    COALESCE(x.last_exam_complete, false) AS last_exam_complete, x.exam_ok_on
FROM (
    SELECT record_id, max(service_date) AS last_service_date,
        range_agg(daterange(service_date, service_date + 365)) FILTER (WHERE conforming) AS used_on
    FROM (
        SELECT e.record_id, e.service_date, e.conforming FROM entries e
        WHERE NOT EXISTS (SELECT 1 FROM entries c WHERE c.corrects IS NOT NULL AND c.corrects = e.id)
        UNION ALL
        SELECT record_id, exam_date,
            ((systolic IS NOT NULL AND diastolic IS NOT NULL) OR (systolic_right IS NOT NULL AND diastolic_right IS NOT NULL))
                AND height_cm IS NOT NULL AND weight_kg IS NOT NULL
        FROM exams
    ) d
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
