-- +goose Up
-- entry_conforms (00027) as a chain of IF … ELSIF branches by kind instead of
-- one CASE expression: the same rule, row for row (the conformance tests
-- hold both to entry.Conforms), for a fifth of its CPU in an API create.
--
-- Why: PL/pgSQL prepares a simple expression's executable state once per
-- transaction. The whole CASE — every kind's items — was prepared again in
-- each create, its own transaction, to test one kind: 60 µs of the create's
-- ~900 µs of PostgreSQL CPU on the 1M county. Each IF prepares only the
-- conditions it reaches and the one branch it returns (under 20 µs). A bulk
-- COPY, one transaction, prepares either once.
--
-- Nothing is marked again: no entry's mark changes.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entry_conforms(kind text, programme text, next_date date, data jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    -- 随访: the programme's vital sign, the classification, the next date
    IF kind = 'followup' THEN
        IF programme = 'hypertension' THEN
            RETURN COALESCE(jsonb_typeof(data -> 'systolic') = 'number' AND jsonb_typeof(data -> 'diastolic') = 'number'
                AND entry_filled(data ->> 'classification') AND next_date IS NOT NULL, false);
        ELSIF programme = 'type2_diabetes' THEN
            RETURN COALESCE(jsonb_typeof(data -> 'fasting_glucose') = 'number'
                AND entry_filled(data ->> 'classification') AND next_date IS NOT NULL, false);
        END IF;
    -- 接诊: the complaint and the assessment
    ELSIF kind = 'visit' THEN
        RETURN COALESCE(entry_filled(data ->> 'subjective') AND entry_filled(data ->> 'assessment'), false);
    -- 转出: to where, why, the preliminary impression
    ELSIF kind = 'referral' THEN
        RETURN COALESCE(entry_filled(data ->> 'to_institution') AND entry_filled(data ->> 'reason')
            AND entry_filled(data ->> 'impression'), false);
    -- 会诊: the reason and the opinion
    ELSIF kind = 'consultation' THEN
        RETURN COALESCE(entry_filled(data ->> 'reason') AND entry_filled(data ->> 'opinion'), false);
    -- 住院: the admission date, the hospital, the diagnosis
    ELSIF kind = 'hospitalisation' THEN
        RETURN COALESCE(entry_filled(data ->> 'admitted_on') AND entry_filled(data ->> 'hospital')
            AND entry_filled(data ->> 'diagnosis'), false);
    -- 儿童健康管理: the weight; the newborn visit its birth weight, feeding,
    -- jaundice and cord, a health check the length
    ELSIF kind = 'child_visit' THEN
        IF data ->> 'service' = 'newborn_visit' THEN
            RETURN COALESCE(jsonb_typeof(data -> 'weight_kg') = 'number' AND jsonb_typeof(data -> 'birth_weight_kg') = 'number'
                AND entry_filled(data ->> 'feeding') AND entry_filled(data ->> 'jaundice') AND entry_filled(data ->> 'umbilical_cord'), false);
        END IF;
        RETURN COALESCE(jsonb_typeof(data -> 'weight_kg') = 'number' AND jsonb_typeof(data -> 'length_cm') = 'number', false);
    -- 孕产妇健康管理: the blood pressure and classification; antenatal the
    -- week and weight (from the second the fundal height and fetal heart),
    -- postpartum the breasts, lochia, uterus and wound
    ELSIF kind = 'maternal_visit' THEN
        IF NOT COALESCE(jsonb_typeof(data -> 'systolic') = 'number' AND jsonb_typeof(data -> 'diastolic') = 'number'
                AND entry_filled(data ->> 'classification'), false) THEN
            RETURN false;
        ELSIF data ->> 'service' LIKE 'prenatal\_%' THEN
            RETURN COALESCE(jsonb_typeof(data -> 'gestational_weeks') = 'number' AND jsonb_typeof(data -> 'weight_kg') = 'number'
                AND (data ->> 'service' = 'prenatal_1' OR (jsonb_typeof(data -> 'fundal_height_cm') = 'number'
                    AND jsonb_typeof(data -> 'fetal_heart_rate') = 'number')), false);
        ELSIF data ->> 'service' IN ('postpartum', 'postpartum_42') THEN
            RETURN COALESCE(entry_filled(data ->> 'breasts') AND entry_filled(data ->> 'lochia') AND entry_filled(data ->> 'uterus')
                AND entry_filled(data ->> 'wound'), false);
        END IF;
        RETURN true;
    -- 老年人健康管理: the health self-assessment and every self-care item
    ELSIF kind = 'elderly_check' THEN
        RETURN COALESCE(jsonb_typeof(data -> 'health_self_assessment') = 'number'
            AND jsonb_typeof(data #> '{self_care,eating}') = 'number' AND jsonb_typeof(data #> '{self_care,grooming}') = 'number'
            AND jsonb_typeof(data #> '{self_care,dressing}') = 'number' AND jsonb_typeof(data #> '{self_care,toileting}') = 'number'
            AND jsonb_typeof(data #> '{self_care,activity}') = 'number', false);
    END IF;
    RETURN false;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entry_conforms(kind text, programme text, next_date date, data jsonb) RETURNS boolean
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
