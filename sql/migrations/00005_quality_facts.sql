-- +goose Up
-- The accountability rates (DESIGN §5): write-time rule results, targets and
-- published snapshots.
--
-- records.quality_failures holds, as a bitmask (bit r-1 for rule Qr), the
-- quality rules a record breaks that do not depend on the report's as-of date:
-- Q1, Q2, Q3 (missing or before 1900-01-01), Q4–Q9. A trigger computes it on
-- every INSERT and every UPDATE of the fields it reads, so it is right on
-- every write path: FileRecord and UpdateRecord, and the COPY of the importer
-- and the demo loader (triggers fire on COPY). internal/quality.Static is the
-- same rules in Go; a conformance test keeps the two equal.
ALTER TABLE records ADD COLUMN quality_failures smallint NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION record_quality_failures(p_name text, p_sex text, p_birth date, p_id text, p_residence text,
    p_ethnicity text, p_phone text, p_contact_phone text, p_doctor text) RETURNS smallint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    -- What "present" trims: Go's unicode.IsSpace set, the ideographic space included.
    ws constant text := E' \t\n\x0B\f\r\u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000';
    -- ISO 7064 MOD 11-2 weights of GB 11643.
    w constant int[] := '{7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2}';
    f int := 0;
    y int;
    m int;
    d int;
    s int;
BEGIN
    IF btrim(COALESCE(p_name, ''), ws) = '' THEN f := f | 1; END IF;                    -- Q1
    IF p_sex IS NULL OR p_sex NOT IN ('M', 'F') THEN f := f | 2; END IF;                -- Q2
    IF p_birth IS NULL OR p_birth < DATE '1900-01-01' THEN f := f | 4; END IF;          -- Q3 (static part)
    IF p_id IS NULL OR p_id !~ '^[0-9]{17}[0-9Xx]$' THEN                                -- Q4: format
        f := f | 8;
    ELSE
        y := substr(p_id, 7, 4)::int;
        m := substr(p_id, 11, 2)::int;
        d := substr(p_id, 13, 2)::int;
        IF y < 1900 OR m < 1 OR m > 12 OR d < 1
            OR d > extract(day FROM make_date(y, m, 1) + interval '1 month' - interval '1 day') THEN
            f := f | 8;                                                                  -- Q4: real date
        ELSE
            s := 0;
            FOR i IN 1..17 LOOP
                s := s + (ascii(substr(p_id, i, 1)) - 48) * w[i];
            END LOOP;
            IF substr('10X98765432', s % 11 + 1, 1) <> upper(substr(p_id, 18, 1)) THEN
                f := f | 8;                                                              -- Q4: check character
            ELSIF (p_birth IS NOT NULL AND p_birth <> make_date(y, m, d))
                OR (p_sex IN ('M', 'F') AND p_sex <> CASE WHEN (ascii(substr(p_id, 17, 1)) - 48) % 2 = 1 THEN 'M' ELSE 'F' END) THEN
                f := f | 16;                                                             -- Q5
            END IF;
        END IF;
    END IF;
    IF btrim(COALESCE(p_residence, ''), ws) = '' THEN f := f | 32; END IF;              -- Q6
    IF btrim(COALESCE(p_ethnicity, ''), ws) = '' THEN f := f | 64; END IF;              -- Q7
    IF NOT (COALESCE(p_phone, '') ~ '^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$'
        OR COALESCE(p_contact_phone, '') ~ '^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$') THEN
        f := f | 128;                                                                    -- Q8
    END IF;
    IF btrim(COALESCE(p_doctor, ''), ws) = '' THEN f := f | 256; END IF;                -- Q9
    RETURN f;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION records_set_quality_failures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.quality_failures := record_quality_failures(NEW.name, NEW.sex, NEW.birth_date, NEW.id_number, NEW.residence_type,
        NEW.ethnicity, NEW.phone, NEW.contact_phone, NEW.responsible_doctor);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- quality_failures is in the column list so that setting it by hand is undone.
CREATE TRIGGER records_quality_failures
    BEFORE INSERT OR UPDATE OF name, sex, birth_date, id_number, residence_type, ethnicity, phone, contact_phone,
        responsible_doctor, quality_failures ON records
    FOR EACH ROW EXECUTE FUNCTION records_set_quality_failures();

UPDATE records SET quality_failures = quality_failures;

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
