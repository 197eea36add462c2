-- +goose Up
-- Whether a service entry conforms (00027), the same rules as a SQL
-- function rather than PL/pgSQL: a simple SQL function is inlined into the
-- expression that calls it, here the generated column entries.conforming,
-- so a COPY of a county's entries evaluates the rules without a function
-- call per row (docs/benchmarks.md, "Load of the county": the entries' COPY
-- 18 % less CPU at 772,514 entries). The rules are unchanged, word for
-- word; the stored column needs no recomputing. As before, a new kind adds
-- its rule here (CREATE OR REPLACE) and in Go (entry.Missing), and the
-- conformance tests hold the two to the same cases.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entry_conforms(kind text, programme text, next_date date, data jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(CASE kind
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
        ELSE false END, false)
$$;
-- +goose StatementEnd
