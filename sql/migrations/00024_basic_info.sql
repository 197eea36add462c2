-- +goose Up
-- The personal basic information table (个人基本信息表, DESIGN §3) as coded
-- answers, and the quality rules over it (Q12–Q15, DESIGN §5.2: "基础内容
-- 无缺失"). docs/rates.md and docs/spec-summary.md describe both.

-- The code lists, as internal/record/codes.go holds them (a test keeps the
-- two equal): the answers of each item as the specification's form numbers
-- them.
CREATE TABLE basic_codes (
    list  text NOT NULL,
    code  text NOT NULL,
    label text NOT NULL,
    PRIMARY KEY (list, code)
);
INSERT INTO basic_codes (list, code, label) VALUES
    ('blood_abo', '1', 'A型'),
    ('blood_abo', '2', 'B型'),
    ('blood_abo', '3', 'O型'),
    ('blood_abo', '4', 'AB型'),
    ('blood_abo', '5', '不详'),
    ('blood_rh', '1', 'Rh阴性'),
    ('blood_rh', '2', 'Rh阳性'),
    ('blood_rh', '3', '不详'),
    ('education', '1', '研究生'),
    ('education', '2', '大学本科'),
    ('education', '3', '大学专科和专科学校'),
    ('education', '4', '中等专业学校'),
    ('education', '5', '技工学校'),
    ('education', '6', '高中'),
    ('education', '7', '初中'),
    ('education', '8', '小学'),
    ('education', '9', '文盲或半文盲'),
    ('education', '10', '不详'),
    ('occupation', '0', '国家机关、党群组织、企业、事业单位负责人'),
    ('occupation', '1', '专业技术人员'),
    ('occupation', '2', '办事人员和有关人员'),
    ('occupation', '3', '商业、服务业人员'),
    ('occupation', '4', '农、林、牧、渔、水利业生产人员'),
    ('occupation', '5', '生产、运输设备操作人员及有关人员'),
    ('occupation', '6', '军人'),
    ('occupation', '7', '不便分类的其他从业人员'),
    ('occupation', '8', '无职业'),
    ('marital_status', '1', '未婚'),
    ('marital_status', '2', '已婚'),
    ('marital_status', '3', '丧偶'),
    ('marital_status', '4', '离婚'),
    ('marital_status', '5', '未说明的婚姻状况'),
    ('payment_types', '1', '城镇职工基本医疗保险'),
    ('payment_types', '2', '城镇居民基本医疗保险'),
    ('payment_types', '3', '新型农村合作医疗'),
    ('payment_types', '4', '贫困救助'),
    ('payment_types', '5', '商业医疗保险'),
    ('payment_types', '6', '全公费'),
    ('payment_types', '7', '全自费'),
    ('payment_types', '8', '其他'),
    ('drug_allergies', '1', '无'),
    ('drug_allergies', '2', '青霉素'),
    ('drug_allergies', '3', '磺胺'),
    ('drug_allergies', '4', '链霉素'),
    ('drug_allergies', '5', '其他'),
    ('exposures', '1', '无'),
    ('exposures', '2', '化学品'),
    ('exposures', '3', '毒物'),
    ('exposures', '4', '射线'),
    ('past_diseases', '2', '高血压'),
    ('past_diseases', '3', '糖尿病'),
    ('past_diseases', '4', '冠心病'),
    ('past_diseases', '5', '慢性阻塞性肺疾病'),
    ('past_diseases', '6', '恶性肿瘤'),
    ('past_diseases', '7', '脑卒中'),
    ('past_diseases', '8', '严重精神障碍'),
    ('past_diseases', '9', '结核病'),
    ('past_diseases', '10', '肝炎'),
    ('past_diseases', '11', '其他法定传染病'),
    ('past_diseases', '12', '职业病'),
    ('past_diseases', '13', '其他'),
    ('family_history', '1', '无'),
    ('family_history', '2', '高血压'),
    ('family_history', '3', '糖尿病'),
    ('family_history', '4', '冠心病'),
    ('family_history', '5', '慢性阻塞性肺疾病'),
    ('family_history', '6', '恶性肿瘤'),
    ('family_history', '7', '脑卒中'),
    ('family_history', '8', '严重精神障碍'),
    ('family_history', '9', '结核病'),
    ('family_history', '10', '肝炎'),
    ('family_history', '11', '先天畸形'),
    ('family_history', '12', '其他'),
    ('disabilities', '1', '无残疾'),
    ('disabilities', '2', '视力残疾'),
    ('disabilities', '3', '听力残疾'),
    ('disabilities', '4', '言语残疾'),
    ('disabilities', '5', '肢体残疾'),
    ('disabilities', '6', '智力残疾'),
    ('disabilities', '7', '精神残疾'),
    ('disabilities', '8', '其他残疾'),
    ('kitchen_exhaust', '1', '无'),
    ('kitchen_exhaust', '2', '油烟机'),
    ('kitchen_exhaust', '3', '换气扇'),
    ('kitchen_exhaust', '4', '烟囱'),
    ('fuel', '1', '液化气'),
    ('fuel', '2', '煤'),
    ('fuel', '3', '天然气'),
    ('fuel', '4', '沼气'),
    ('fuel', '5', '柴火'),
    ('fuel', '6', '其他'),
    ('water', '1', '自来水'),
    ('water', '2', '经净化过滤的水'),
    ('water', '3', '井水'),
    ('water', '4', '河湖水'),
    ('water', '5', '塘水'),
    ('water', '6', '其他'),
    ('toilet', '1', '卫生厕所'),
    ('toilet', '2', '一格或二格粪池式'),
    ('toilet', '3', '马桶'),
    ('toilet', '4', '露天粪坑'),
    ('toilet', '5', '简易棚厕'),
    ('livestock_pen', '1', '无'),
    ('livestock_pen', '2', '单设'),
    ('livestock_pen', '3', '室内'),
    ('livestock_pen', '4', '室外');

-- basic_info holds the table's answers as record.BasicInfo writes them
-- (JSON, one member per item: "" or null not recorded; a list of items, []
-- for none). details_unmapped keeps what the free-form details of earlier
-- versions held that could not be carried into it: nothing is dropped.
ALTER TABLE records ADD COLUMN basic_info jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN details_unmapped jsonb NOT NULL DEFAULT '{}';

-- Carrying the old details over. A value maps when it is a code, a label,
-- or one of the words below for a label; a list maps item by item, an
-- unknown item going to the list's "other" answer with its text where the
-- list has one. What does not map stays, under its own key and as it was,
-- in details_unmapped.
-- (Regular objects, dropped below: the migrating role may not create
-- temporary ones.)
CREATE TABLE basic_words (list text, word text, code text);
INSERT INTO basic_words (list, word, code)
SELECT list, code, code FROM basic_codes
UNION SELECT list, label, code FROM basic_codes
UNION SELECT list, replace(replace(label, '型', ''), 'Rh', ''), code FROM basic_codes
UNION VALUES ('blood_abo', 'UNKNOWN', '5'), ('blood_rh', '阴', '1'), ('blood_rh', '阳', '2'), ('blood_rh', '-', '1'),
    ('blood_rh', '+', '2'), ('blood_rh', 'RH-', '1'), ('blood_rh', 'RH+', '2'),
    ('education', '本科', '2'), ('education', '大学', '2'), ('education', '大专', '3'), ('education', '专科', '3'),
    ('education', '中专', '4'), ('education', '技校', '5'), ('education', '职高', '6'), ('education', '文盲', '9'),
    ('education', '半文盲', '9'), ('education', '硕士', '1'), ('education', '博士', '1'),
    ('occupation', '农民', '4'), ('occupation', '务农', '4'), ('occupation', '工人', '5'), ('occupation', '教师', '1'),
    ('occupation', '医生', '1'), ('occupation', '护士', '1'), ('occupation', '干部', '0'), ('occupation', '公务员', '2'),
    ('occupation', '个体', '3'), ('occupation', '商人', '3'), ('occupation', '无业', '8'), ('occupation', '退休', '8'),
    ('occupation', '学生', '8'), ('occupation', '待业', '8'),
    ('marital_status', '未说明', '5'), ('marital_status', '不详', '5'), ('marital_status', '初婚', '2'), ('marital_status', '再婚', '2'),
    ('marital_status', '复婚', '2'),
    ('payment_types', '城乡居民基本医疗保险', '2'), ('payment_types', '城乡居民医保', '2'), ('payment_types', '居民医保', '2'),
    ('payment_types', '职工医保', '1'), ('payment_types', '新农合', '3'), ('payment_types', '自费', '7'), ('payment_types', '公费', '6'),
    ('payment_types', '商业保险', '5'),
    ('drug_allergies', '青霉素类', '2'), ('drug_allergies', '磺胺类', '3'),
    ('disabilities', '无', '1'), ('disabilities', '视力', '2'), ('disabilities', '听力', '3'), ('disabilities', '言语', '4'),
    ('disabilities', '肢体', '5'), ('disabilities', '智力', '6'), ('disabilities', '精神', '7');

-- The code of a value in a list, NULL when it has none.
-- +goose StatementBegin
CREATE FUNCTION basic_migrate_code(l text, v jsonb) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT code FROM basic_words WHERE list = l AND jsonb_typeof(v) IN ('string', 'number')
        AND upper(word) = upper(btrim(v #>> '{}', E' \t\n\u3000')) ORDER BY code LIMIT 1
$$;
-- +goose StatementEnd

-- The codes of a list value (a JSON array, or one string; [] and "无" are
-- the list's none answer where it has one) and the texts of its unknown
-- items. Returns NULL when it does not map: an unknown item and no
-- "other" answer to carry it.
-- +goose StatementBegin
CREATE FUNCTION basic_migrate_list(l text, v jsonb, none_code text, other_code text, OUT codes jsonb, OUT other_text text) LANGUAGE plpgsql STABLE AS $$
DECLARE
    item jsonb;
    c text;
    cs text[] := '{}';
    texts text[] := '{}';
BEGIN
    IF jsonb_typeof(v) = 'string' THEN
        v := jsonb_build_array(v);
    END IF;
    IF jsonb_typeof(v) IS DISTINCT FROM 'array' THEN
        RETURN;
    END IF;
    FOR item IN SELECT jsonb_array_elements(v) LOOP
        IF jsonb_typeof(item) NOT IN ('string', 'number') THEN
            RETURN;
        END IF;
        IF btrim(item #>> '{}', E' \t\n\u3000') IN ('', '无') THEN
            IF none_code IS NULL THEN
                RETURN;
            END IF;
            c := none_code;
        ELSE
            c := basic_migrate_code(l, item);
        END IF;
        IF c IS NULL THEN
            IF other_code IS NULL THEN
                RETURN;
            END IF;
            c := other_code;
            texts := texts || btrim(item #>> '{}');
        END IF;
        IF NOT c = ANY (cs) THEN
            cs := cs || c;
        END IF;
    END LOOP;
    IF cardinality(cs) = 0 THEN
        IF none_code IS NULL THEN
            RETURN;
        END IF;
        cs := ARRAY[none_code];
    END IF;
    IF none_code = ANY (cs) AND cardinality(cs) > 1 THEN
        RETURN; -- "无" beside an answer: for a person to settle
    END IF;
    codes := to_jsonb(cs);
    other_text := array_to_string(texts, '、');
END;
$$;
-- +goose StatementEnd

-- One record's details carried over: the table's answers and what is left.
-- +goose StatementBegin
CREATE FUNCTION basic_migrate_details(d jsonb, OUT info jsonb, OUT rest jsonb) LANGUAGE plpgsql STABLE AS $$
DECLARE
    k text;
    c text;
    rh text;
    l record;
    one jsonb := '{"education": "education", "occupation": "occupation", "marital_status": "marital_status"}';
BEGIN
    info := '{}';
    rest := COALESCE(d, '{}');
    IF jsonb_typeof(rest) <> 'object' THEN
        rest := jsonb_build_object('details', rest);
        RETURN;
    END IF;
    -- blood type: "A", "AB型", or {"abo": "A", "rh": "阳性"}; blood_rh beside it
    IF jsonb_typeof(rest -> 'blood_type') = 'object' THEN
        c := basic_migrate_code('blood_abo', rest -> 'blood_type' -> 'abo');
        rh := basic_migrate_code('blood_rh', rest -> 'blood_type' -> 'rh');
        IF (c IS NOT NULL OR rest -> 'blood_type' -> 'abo' IS NULL) AND (rh IS NOT NULL OR rest -> 'blood_type' -> 'rh' IS NULL)
            AND (SELECT count(*) FROM jsonb_object_keys(rest -> 'blood_type') x WHERE x NOT IN ('abo', 'rh')) = 0 THEN
            info := info || jsonb_strip_nulls(jsonb_build_object('blood_abo', c, 'blood_rh', rh));
            rest := rest - 'blood_type';
        END IF;
    ELSIF rest ? 'blood_type' THEN
        c := basic_migrate_code('blood_abo', rest -> 'blood_type');
        IF c IS NOT NULL THEN
            info := info || jsonb_build_object('blood_abo', c);
            rest := rest - 'blood_type';
        END IF;
    END IF;
    IF rest ? 'blood_rh' AND NOT info ? 'blood_rh' THEN
        c := basic_migrate_code('blood_rh', rest -> 'blood_rh');
        IF c IS NOT NULL THEN
            info := info || jsonb_build_object('blood_rh', c);
            rest := rest - 'blood_rh';
        END IF;
    END IF;
    FOR k IN SELECT jsonb_object_keys(one) LOOP
        IF rest ? k THEN
            c := basic_migrate_code(one ->> k, rest -> k);
            IF c IS NOT NULL THEN
                info := info || jsonb_build_object(k, c);
                rest := rest - k;
            END IF;
        END IF;
    END LOOP;
    FOR l IN SELECT * FROM (VALUES ('payment_types', 'payment_types', NULL, '8', 'payment_other'),
            ('drug_allergies', 'drug_allergies', '1', '5', 'drug_allergy_other'),
            ('exposures', 'exposures', '1', NULL, NULL),
            ('disabilities', 'disabilities', '1', '8', 'disability_other')) x (k, list, none_code, other_code, other_key) LOOP
        IF rest ? l.k AND rest -> l.k <> 'null' THEN
            SELECT * INTO c, rh FROM basic_migrate_list(l.list, rest -> l.k, l.none_code, l.other_code);
            IF c IS NOT NULL THEN
                info := info || jsonb_build_object(l.k, c::jsonb);
                IF rh <> '' THEN
                    info := info || jsonb_build_object(l.other_key, rh);
                END IF;
                rest := rest - l.k;
            END IF;
        END IF;
    END LOOP;
    -- hereditary disease: a name, or none
    IF jsonb_typeof(rest -> 'hereditary_disease') = 'string' THEN
        c := btrim(rest ->> 'hereditary_disease', E' \t\n\u3000');
        info := info || jsonb_build_object('hereditary_diseases',
            CASE WHEN c IN ('', '无') THEN '[]'::jsonb ELSE jsonb_build_array(c) END);
        rest := rest - 'hereditary_disease';
    END IF;
END;
$$;
-- +goose StatementEnd

-- The table's members as record.BasicInfo writes them, for the rules'
-- sake equal whether written by Go or here: every item present, "" or null
-- where none is given.
UPDATE records r SET basic_info = jsonb_build_object('blood_abo', '', 'blood_rh', '', 'education', '', 'occupation', '',
        'marital_status', '', 'payment_types', NULL, 'payment_other', '', 'drug_allergies', NULL, 'drug_allergy_other', '',
        'exposures', NULL, 'past_diseases', NULL, 'operations', NULL, 'traumas', NULL, 'transfusions', NULL,
        'family_father', NULL, 'family_mother', NULL, 'family_siblings', NULL, 'family_children', NULL,
        'family_history_other', '', 'hereditary_diseases', NULL, 'disabilities', NULL, 'disability_other', '',
        'kitchen_exhaust', '', 'fuel', '', 'water', '', 'toilet', '', 'livestock_pen', '') || m.info,
    details_unmapped = m.rest
FROM (SELECT record_id, (basic_migrate_details(details)).* FROM records) m
WHERE m.record_id = r.record_id;
-- Each record whose details held anything keeps the carrying-over in its
-- history (action 'migrate'): the old details whole, and each item and
-- what was left before → after.
INSERT INTO record_history (record_id, changed_by, action, changes)
SELECT r.record_id, 'migration 00024', 'migrate',
    jsonb_build_object('details', jsonb_build_object('before', r.details, 'after', NULL))
    || COALESCE((SELECT jsonb_object_agg(k, jsonb_build_object('before', NULL, 'after', v))
        FROM jsonb_each(r.basic_info) x (k, v) WHERE v NOT IN ('null', '""')), '{}')
    || CASE WHEN r.details_unmapped <> '{}'
        THEN jsonb_build_object('details_unmapped', jsonb_build_object('before', '{}'::jsonb, 'after', r.details_unmapped))
        ELSE '{}' END
FROM records r WHERE r.details <> '{}';
ALTER TABLE records DROP COLUMN details;
DROP FUNCTION basic_migrate_details(jsonb), basic_migrate_list(text, jsonb, text, text), basic_migrate_code(text, jsonb);
DROP TABLE basic_words;

-- The rules Q12–Q15 (internal/quality.Table): each item answered. A single
-- answer is a non-blank string; a list of codes a non-empty array; a list of
-- items (past diseases, operations, trauma, transfusions, hereditary
-- diseases) any array, [] being "none".
-- +goose StatementBegin
CREATE FUNCTION basic_text(j jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_typeof(j) = 'string' AND quality_present(j #>> '{}'), false)
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION basic_codes_given(j jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_typeof(j) = 'array' AND jsonb_array_length(j) > 0, false)
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION basic_items_given(j jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_typeof(j) = 'array', false)
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION basic_info_failures(b jsonb) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN basic_text(b -> 'blood_abo') AND basic_text(b -> 'blood_rh') THEN 0 ELSE 2048 END         -- Q12
        | CASE WHEN basic_text(b -> 'education') AND basic_text(b -> 'occupation') AND basic_text(b -> 'marital_status')
            AND basic_codes_given(b -> 'payment_types') THEN 0 ELSE 4096 END                                         -- Q13
        | CASE WHEN basic_codes_given(b -> 'drug_allergies') AND basic_codes_given(b -> 'exposures')
            AND basic_items_given(b -> 'past_diseases') AND basic_items_given(b -> 'operations')
            AND basic_items_given(b -> 'traumas') AND basic_items_given(b -> 'transfusions')
            AND basic_codes_given(b -> 'family_father') AND basic_codes_given(b -> 'family_mother')
            AND basic_codes_given(b -> 'family_siblings') AND basic_codes_given(b -> 'family_children')
            AND basic_items_given(b -> 'hereditary_diseases') THEN 0 ELSE 8192 END                                   -- Q14
        | CASE WHEN basic_codes_given(b -> 'disabilities') AND basic_text(b -> 'kitchen_exhaust') AND basic_text(b -> 'fuel')
            AND basic_text(b -> 'water') AND basic_text(b -> 'toilet') AND basic_text(b -> 'livestock_pen') THEN 0 ELSE 16384 END -- Q15
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION record_quality_failures(p_name text, p_sex text, p_birth date, p_id text, p_residence text,
    p_ethnicity text, p_phone text, p_contact_phone text, p_doctor text, p_basic jsonb) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (record_quality_failures(p_name, p_sex, p_birth, p_id, p_residence, p_ethnicity, p_phone, p_contact_phone, p_doctor)
        | basic_info_failures(p_basic))::smallint
$$;
-- +goose StatementEnd

-- The stored failures take in the new rules. A generated column's
-- expression cannot change in place (PostgreSQL 15), and the rewrite that
-- adds it again fires no trigger: so the rate counters first take every
-- record out with its old failures, then count it in with its new ones
-- (record_rate_changes, as the statement triggers of 00013 and 00015 do).
INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
SELECT c.county, c.kind, c.code, c.on_date, sum(c.active), sum(c.qualified), sum(c.used)
FROM records r CROSS JOIN LATERAL record_rate_changes(r.village_code, r.responsible_doctor, r.filed_on, r.status_date,
        r.birth_date, r.quality_failures, r.exam_ok_on, r.used_on, -1, r.doctor_before, r.doctor_until) c
GROUP BY 1, 2, 3, 4;
ALTER TABLE records DROP COLUMN quality_failures; -- and records_draw, which includes it
ALTER TABLE records ADD COLUMN quality_failures smallint NOT NULL GENERATED ALWAYS AS (record_quality_failures(name, sex,
    birth_date, id_number, residence_type, ethnicity, phone, contact_phone, responsible_doctor, basic_info)) STORED;
CREATE INDEX records_draw ON records ((COALESCE(responsible_doctor, '#' || village_code)),
        (hashint8extended(record_id::bigint, 0)), record_id)
    INCLUDE (village_code, responsible_doctor, filed_on, status_date, birth_date, quality_failures, exam_from, exam_ok_on, used_on);
INSERT INTO rate_changes (county, kind, code, on_date, active, qualified, used)
SELECT c.county, c.kind, c.code, c.on_date, sum(c.active), sum(c.qualified), sum(c.used)
FROM records r CROSS JOIN LATERAL record_rate_changes(r.village_code, r.responsible_doctor, r.filed_on, r.status_date,
        r.birth_date, r.quality_failures, r.exam_ok_on, r.used_on, 1, r.doctor_before, r.doctor_until) c
GROUP BY 1, 2, 3, 4;
SELECT rate_fold();

-- A published snapshot keeps the rule set it was computed with: those
-- published before this migration, Q1–Q11.
ALTER TABLE rate_snapshots ADD COLUMN rule_set text NOT NULL DEFAULT 'Q1-Q11';
ALTER TABLE rate_snapshots ALTER COLUMN rule_set SET DEFAULT 'Q1-Q15';
