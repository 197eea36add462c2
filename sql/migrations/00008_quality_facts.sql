-- +goose Up
-- The accountability rates (DESIGN §5): write-time rule results, targets and
-- published snapshots.

-- records.quality_failures holds, as a bitmask (bit r-1 for rule Qr), the
-- quality rules a record breaks that do not depend on the report's as-of date:
-- Q1, Q2, Q3 (missing or before 1900-01-01), Q4–Q9. It is a stored generated
-- column, so PostgreSQL computes it on every INSERT and UPDATE whatever the
-- path — FileRecord and UpdateRecord, and the COPY of the importer and the
-- demo loader — and nobody can set it by hand. The rules are plain SQL
-- expressions (the planner inlines these functions), which costs a few
-- microseconds a row where a PL/pgSQL trigger cost over ten.
-- internal/quality.Static is the same rules in Go; a conformance test keeps
-- the two equal.

-- "Present": not blank after trimming Go's unicode.IsSpace set (the
-- ideographic space U+3000 included).
-- +goose StatementBegin
CREATE FUNCTION quality_present(s text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(COALESCE(s, ''), E' \t\n\x0B\f\r\u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000') <> ''
$$;
-- +goose StatementEnd

-- Q8: an 11-digit mobile number or a landline with its area code (record.ValidPhone).
-- +goose StatementBegin
CREATE FUNCTION quality_phone(s text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(s, '') ~ '^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$'
$$;
-- +goose StatementEnd

-- Q4 (8) and Q5 (16) of an identity number (GB 11643): 17 digits and a digit
-- or X, a real birth date from 1900 on, the ISO 7064 MOD 11-2 check
-- character; then agreement with the birth date and sex where present.
-- Nested CASEs, evaluated in order, keep the date arithmetic on digits only.
-- +goose StatementBegin
CREATE FUNCTION quality_id_number(id text, birth date, sex text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN id IS NULL OR id !~ '^[0-9]{17}[0-9Xx]$' THEN 8
        ELSE CASE
            WHEN substr(id, 7, 4)::int < 1900 OR substr(id, 11, 2)::int NOT BETWEEN 1 AND 12 OR substr(id, 13, 2)::int < 1
                OR substr(id, 13, 2)::int > CASE
                    WHEN substr(id, 11, 2)::int = 2 THEN
                        CASE WHEN substr(id, 7, 4)::int % 4 = 0 AND (substr(id, 7, 4)::int % 100 <> 0 OR substr(id, 7, 4)::int % 400 = 0)
                            THEN 29 ELSE 28 END
                    WHEN substr(id, 11, 2)::int IN (4, 6, 9, 11) THEN 30
                    ELSE 31 END
                THEN 8
            WHEN substr('10X98765432', (substr(id, 1, 1)::int * 7 + substr(id, 2, 1)::int * 9 + substr(id, 3, 1)::int * 10
                + substr(id, 4, 1)::int * 5 + substr(id, 5, 1)::int * 8 + substr(id, 6, 1)::int * 4 + substr(id, 7, 1)::int * 2
                + substr(id, 8, 1)::int * 1 + substr(id, 9, 1)::int * 6 + substr(id, 10, 1)::int * 3 + substr(id, 11, 1)::int * 7
                + substr(id, 12, 1)::int * 9 + substr(id, 13, 1)::int * 10 + substr(id, 14, 1)::int * 5 + substr(id, 15, 1)::int * 8
                + substr(id, 16, 1)::int * 4 + substr(id, 17, 1)::int * 2) % 11 + 1, 1) <> upper(substr(id, 18, 1)) THEN 8
            WHEN birth IS NOT NULL AND birth <> make_date(substr(id, 7, 4)::int, substr(id, 11, 2)::int, substr(id, 13, 2)::int) THEN 16
            WHEN sex IN ('M', 'F') AND sex <> CASE WHEN substr(id, 17, 1)::int % 2 = 1 THEN 'M' ELSE 'F' END THEN 16
            ELSE 0 END
        END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION record_quality_failures(p_name text, p_sex text, p_birth date, p_id text, p_residence text,
    p_ethnicity text, p_phone text, p_contact_phone text, p_doctor text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN quality_present(p_name) THEN 0 ELSE 1 END                                       -- Q1
        | CASE WHEN p_sex IN ('M', 'F') THEN 0 ELSE 2 END                                             -- Q2
        | CASE WHEN p_birth >= DATE '1900-01-01' THEN 0 ELSE 4 END                                    -- Q3, static part
        | quality_id_number(p_id, p_birth, p_sex)                                                     -- Q4, Q5
        | CASE WHEN quality_present(p_residence) THEN 0 ELSE 32 END                                   -- Q6
        | CASE WHEN quality_present(p_ethnicity) THEN 0 ELSE 64 END                                   -- Q7
        | CASE WHEN quality_phone(p_phone) OR quality_phone(p_contact_phone) THEN 0 ELSE 128 END      -- Q8
        | CASE WHEN quality_present(p_doctor) THEN 0 ELSE 256 END                                     -- Q9
    )::smallint
$$;
-- +goose StatementEnd

ALTER TABLE records ADD COLUMN quality_failures smallint NOT NULL GENERATED ALWAYS AS (record_quality_failures(name, sex,
    birth_date, id_number, residence_type, ethnicity, phone, contact_phone, responsible_doctor)) STORED;

-- Rate targets per county, in percent with one decimal (defaults 90/90/60
-- apply while a county has no row).
CREATE TABLE rate_targets (
    county_code text PRIMARY KEY REFERENCES regions (code),
    coverage    numeric(4, 1) NOT NULL CHECK (coverage BETWEEN 0 AND 100),
    quality     numeric(4, 1) NOT NULL CHECK (quality BETWEEN 0 AND 100),
    usage       numeric(4, 1) NOT NULL CHECK (usage BETWEEN 0 AND 100),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL
);

-- Published reports (DESIGN §5.5): the report as published, its figures as
-- rows (for trends and for the accountability review), and the sampled
-- records with what each broke. Append-only: later edits to records never
-- change a snapshot.
CREATE TABLE rate_snapshots (
    id           bigserial PRIMARY KEY,
    county_code  text NOT NULL REFERENCES regions (code),
    title        text NOT NULL DEFAULT '',
    as_of        date NOT NULL,
    sample       int CHECK (sample > 0), -- NULL: all records
    seed         bigint NOT NULL,
    report       jsonb NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    published_by text NOT NULL REFERENCES staff (code)
);
CREATE INDEX rate_snapshots_county ON rate_snapshots (county_code, as_of, id);

CREATE TABLE rate_snapshot_rows (
    snapshot_id  bigint NOT NULL REFERENCES rate_snapshots (id),
    level        text NOT NULL CHECK (level IN ('county', 'township', 'institution', 'doctor')),
    scope_code   text NOT NULL,
    scope_name   text NOT NULL,
    indicator    text NOT NULL CHECK (indicator IN ('coverage', 'quality', 'usage')),
    numerator    int NOT NULL,
    denominator  int NOT NULL,
    rate         numeric(8, 1),
    target       numeric(4, 1) NOT NULL,
    gap          numeric(8, 1),
    rank         int,
    bottom_three boolean NOT NULL,
    warning      boolean NOT NULL,
    PRIMARY KEY (snapshot_id, level, scope_code, indicator)
);
CREATE INDEX rate_snapshot_rows_scope ON rate_snapshot_rows (level, scope_code, indicator, snapshot_id);

CREATE TABLE rate_snapshot_records (
    snapshot_id  bigint NOT NULL REFERENCES rate_snapshots (id),
    record_id    text NOT NULL,
    village_code text NOT NULL,
    -- The draw's group: the responsible doctor, or '#' and the village for
    -- records without one.
    stratum      text NOT NULL,
    failures     smallint NOT NULL, -- every rule broken as of the snapshot's date
    has_dynamic  boolean NOT NULL,  -- a dynamic record in the 365 days ending then
    PRIMARY KEY (snapshot_id, record_id)
);

-- +goose StatementBegin
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER rate_snapshots_frozen BEFORE UPDATE OR DELETE ON rate_snapshots
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rate_snapshots_no_truncate BEFORE TRUNCATE ON rate_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rate_snapshot_rows_frozen BEFORE UPDATE OR DELETE ON rate_snapshot_rows
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rate_snapshot_rows_no_truncate BEFORE TRUNCATE ON rate_snapshot_rows
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rate_snapshot_records_frozen BEFORE UPDATE OR DELETE ON rate_snapshot_records
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rate_snapshot_records_no_truncate BEFORE TRUNCATE ON rate_snapshot_records
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
