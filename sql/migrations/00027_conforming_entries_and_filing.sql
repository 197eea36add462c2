-- +goose Up
-- Usage counts only conforming entries (DESIGN §5.3), entries are corrected
-- by new versions, and entries written by someone other than the record's
-- responsible doctor wait in that doctor's filing queue (归档). See
-- docs/rates.md ("Which entries count") and docs/api-entries.md ("Filing",
-- "Corrections").

-- Whether a service entry meets its kind's service specification: its
-- required items are filled. The Go definition is entry.Missing; the two are
-- held to each other by the conformance tests. A kind without a branch never
-- conforms: a new kind adds its rule here (CREATE OR REPLACE) and in Go.
-- Text is "filled" when something other than ASCII white space is left,
-- exactly as entry.blank trims.
-- +goose StatementBegin
CREATE FUNCTION entry_filled(t text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(btrim(t, E' \t\n\r\f\v') <> '', false)
$$;
-- +goose StatementEnd
-- +goose StatementBegin
-- PL/pgSQL rather than SQL: a generated column calls it once per row, and a
-- SQL function that is not inlined pays its set-up on every call, while
-- PL/pgSQL evaluates its cached expression.
CREATE FUNCTION entry_conforms(kind text, programme text, next_date date, data jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN COALESCE(CASE kind
        -- 接诊: the complaint and the assessment
        WHEN 'visit' THEN entry_filled(data ->> 'subjective') AND entry_filled(data ->> 'assessment')
        -- 转出: to where, why, the preliminary impression
        WHEN 'referral' THEN entry_filled(data ->> 'to_institution') AND entry_filled(data ->> 'reason')
            AND entry_filled(data ->> 'impression')
        -- 随访: the programme's vital sign, the classification, the next date
        WHEN 'followup' THEN CASE programme
                WHEN 'hypertension' THEN jsonb_typeof(data -> 'systolic') = 'number' AND jsonb_typeof(data -> 'diastolic') = 'number'
                WHEN 'type2_diabetes' THEN jsonb_typeof(data -> 'fasting_glucose') = 'number'
                ELSE false END
            AND entry_filled(data ->> 'classification') AND next_date IS NOT NULL
        -- 会诊: the reason and the opinion
        WHEN 'consultation' THEN entry_filled(data ->> 'reason') AND entry_filled(data ->> 'opinion')
        -- 住院: the admission date, the hospital, the diagnosis
        WHEN 'hospitalisation' THEN entry_filled(data ->> 'admitted_on') AND entry_filled(data ->> 'hospital')
            AND entry_filled(data ->> 'diagnosis')
        -- 儿童健康管理: the weight; the newborn visit its birth weight, feeding,
        -- jaundice and cord, a health check the length
        WHEN 'child_visit' THEN jsonb_typeof(data -> 'weight_kg') = 'number' AND CASE data ->> 'service'
                WHEN 'newborn_visit' THEN jsonb_typeof(data -> 'birth_weight_kg') = 'number' AND entry_filled(data ->> 'feeding')
                    AND entry_filled(data ->> 'jaundice') AND entry_filled(data ->> 'umbilical_cord')
                ELSE jsonb_typeof(data -> 'length_cm') = 'number' END
        -- 孕产妇健康管理: the blood pressure and classification; antenatal the
        -- week and weight (from the second the fundal height and fetal heart),
        -- postpartum the breasts, lochia, uterus and wound
        WHEN 'maternal_visit' THEN jsonb_typeof(data -> 'systolic') = 'number' AND jsonb_typeof(data -> 'diastolic') = 'number'
            AND entry_filled(data ->> 'classification') AND CASE
                WHEN data ->> 'service' LIKE 'prenatal\_%' THEN jsonb_typeof(data -> 'gestational_weeks') = 'number'
                    AND jsonb_typeof(data -> 'weight_kg') = 'number'
                    AND (data ->> 'service' = 'prenatal_1' OR (jsonb_typeof(data -> 'fundal_height_cm') = 'number'
                        AND jsonb_typeof(data -> 'fetal_heart_rate') = 'number'))
                WHEN data ->> 'service' IN ('postpartum', 'postpartum_42') THEN entry_filled(data ->> 'breasts')
                    AND entry_filled(data ->> 'lochia') AND entry_filled(data ->> 'uterus') AND entry_filled(data ->> 'wound')
                ELSE true END
        -- 老年人健康管理: the health self-assessment and every self-care item
        WHEN 'elderly_check' THEN jsonb_typeof(data -> 'health_self_assessment') = 'number'
            AND jsonb_typeof(data #> '{self_care,eating}') = 'number' AND jsonb_typeof(data #> '{self_care,grooming}') = 'number'
            AND jsonb_typeof(data #> '{self_care,dressing}') = 'number' AND jsonb_typeof(data #> '{self_care,toileting}') = 'number'
            AND jsonb_typeof(data #> '{self_care,activity}') = 'number'
        ELSE false END, false);
END;
$$;
-- +goose StatementEnd

-- Settled once, when the row is written (every writer: the API's one
-- statement, the import's and the loaders' COPY), never re-checked by a
-- report. An update of the row (a referral's transition) computes it again.
ALTER TABLE entries ADD COLUMN conforming boolean GENERATED ALWAYS AS (entry_conforms(kind, programme, next_date, data)) STORED;

-- A correction is a new version of an entry, linked to the one it corrects,
-- which is kept unchanged; a version is corrected at most once, so the
-- versions of an entry form one line (its history).
ALTER TABLE entries
    ADD COLUMN corrects bigint REFERENCES entries (id),
    ADD COLUMN correction_reason text,
    ADD CHECK ((corrects IS NULL) = (correction_reason IS NULL));
CREATE UNIQUE INDEX entries_corrects ON entries (corrects) WHERE corrects IS NOT NULL;

-- The facts by definition (00010), now from the current versions of the
-- entries, and with used_on from the conforming dynamic records only: an
-- entry that conforms, an exam with blood pressure, height and weight (the
-- exam's specification is Q11's). last_service_date stays the latest dynamic
-- record of any kind.
CREATE OR REPLACE VIEW record_rate_facts AS
SELECT s.record_id, s.last_service_date, s.used_on, x.exam_from, x.last_exam_date,
    COALESCE(x.last_exam_complete, false) AS last_exam_complete, x.exam_ok_on
FROM (
    SELECT record_id, max(service_date) AS last_service_date,
        range_agg(daterange(service_date, service_date + 365)) FILTER (WHERE conforming) AS used_on
    FROM (
        SELECT e.record_id, e.service_date, e.conforming FROM entries e
        WHERE NOT EXISTS (SELECT 1 FROM entries c WHERE c.corrects = e.id)
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

-- The records whose usage changes: those with dynamic records that do not
-- conform. Their update moves the rate counters (the statement trigger of
-- 00015), then the fold.
UPDATE records r SET last_exam_date = f.last_exam_date, last_exam_complete = COALESCE(f.last_exam_complete, false),
    last_service_date = f.last_service_date, used_on = f.used_on, exam_from = f.exam_from, exam_ok_on = f.exam_ok_on
FROM records x LEFT JOIN record_rate_facts f ON f.record_id = x.record_id
WHERE x.record_id = r.record_id
    AND (r.last_exam_date, r.last_exam_complete, r.last_service_date, r.used_on, r.exam_from, r.exam_ok_on)
        IS DISTINCT FROM (f.last_exam_date, COALESCE(f.last_exam_complete, false), f.last_service_date, f.used_on, f.exam_from, f.exam_ok_on);
SELECT rate_fold();

-- The filing queue (归档, DESIGN §3): an entry written by someone other
-- than its record's responsible doctor at the time waits here until that
-- record's responsible doctor files it. Filing writes only this table: the
-- entry itself is never changed by it.
CREATE TABLE entry_filings (
    entry_id   bigint PRIMARY KEY REFERENCES entries (id),
    record_id  text NOT NULL REFERENCES records (record_id),
    written_by text NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT now(),
    filed_at   timestamptz,
    filed_by   text REFERENCES staff (code),
    CHECK ((filed_at IS NULL) = (filed_by IS NULL))
);
-- A doctor's queue is the pending rows of their records: few at any time.
CREATE INDEX entry_filings_pending ON entry_filings (record_id, entry_id) WHERE filed_at IS NULL;

-- Every insert of entries, one or a COPY, queues what it must, set-based. A
-- legacy import (healthrec.legacy_import set for its transaction) brings
-- entries filed on paper long ago: they queue for nobody.
-- +goose StatementBegin
CREATE FUNCTION entry_filings_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('healthrec.legacy_import', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO entry_filings (entry_id, record_id, written_by)
    SELECT n.id, n.record_id, n.created_by FROM new_rows n JOIN records r ON r.record_id = n.record_id
    WHERE n.created_by IS DISTINCT FROM r.responsible_doctor;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER entries_filing_queued AFTER INSERT ON entries REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entry_filings_queue();
