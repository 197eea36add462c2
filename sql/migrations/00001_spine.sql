-- +goose Up
-- The spine: regions, institutions, staff, sessions and resident records.

CREATE TABLE regions (
    code             text PRIMARY KEY CHECK (code ~ '^[0-9]{6}([0-9]{3}){0,2}$'),
    level            text NOT NULL CHECK (level IN ('county', 'township', 'village')),
    parent_code      text REFERENCES regions (code),
    name             text NOT NULL CHECK (name <> ''),
    institution_code text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((level = 'county') = (parent_code IS NULL)),
    CHECK (level = 'village' OR institution_code IS NULL)
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE institutions (
    code        text PRIMARY KEY CHECK (code <> ''),
    name        text NOT NULL CHECK (name <> ''),
    county_code text NOT NULL REFERENCES regions (code),
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE regions ADD FOREIGN KEY (institution_code) REFERENCES institutions (code);
CREATE INDEX regions_institution ON regions (institution_code);

-- Permanent resident population (常住人口) per village and year: the coverage denominator.
CREATE TABLE village_populations (
    village_code text NOT NULL REFERENCES regions (code),
    year         int  NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    population   int  NOT NULL CHECK (population >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text,
    PRIMARY KEY (village_code, year)
);

CREATE TABLE staff (
    code             text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
    name             text NOT NULL CHECK (name <> ''),
    institution_code text REFERENCES institutions (code),
    phone            text NOT NULL DEFAULT '',
    password_hash    text NOT NULL DEFAULT '',
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_institution ON staff (institution_code);

-- A role holds within a domain: 'inst:<code>', 'county:<code>' or 'system'.
CREATE TABLE staff_roles (
    staff_code text NOT NULL REFERENCES staff (code),
    role       text NOT NULL CHECK (role IN ('doctor', 'home_visit', 'records_admin', 'bureau', 'reviewer', 'admin', 'requester')),
    domain     text NOT NULL,
    PRIMARY KEY (staff_code, role, domain)
);

-- The villages a home-visit worker serves.
CREATE TABLE staff_villages (
    staff_code   text NOT NULL REFERENCES staff (code),
    village_code text NOT NULL REFERENCES regions (code),
    PRIMARY KEY (staff_code, village_code)
);
CREATE INDEX staff_villages_village ON staff_villages (village_code);

-- The responsible doctor (责任医生) of a village from from_date until the village's next row.
CREATE TABLE responsibilities (
    village_code text NOT NULL REFERENCES regions (code),
    from_date    date NOT NULL,
    staff_code   text NOT NULL REFERENCES staff (code),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text,
    PRIMARY KEY (village_code, from_date)
);
CREATE INDEX responsibilities_staff ON responsibilities (staff_code);

CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    staff_code text NOT NULL REFERENCES staff (code),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_staff ON sessions (staff_code);

-- The last serial handed out per village. Filing takes the row lock, so
-- concurrent filings queue, and a rolled-back filing gives its serial back.
CREATE TABLE village_serials (
    village_code text PRIMARY KEY REFERENCES regions (code),
    last_serial  int  NOT NULL DEFAULT 0 CHECK (last_serial BETWEEN 0 AND 9999)
);

CREATE TABLE records (
    record_id          text PRIMARY KEY CHECK (record_id ~ '^[0-9]{16}$'),
    village_code       text NOT NULL REFERENCES regions (code),
    name               text NOT NULL DEFAULT '',
    sex                text CHECK (sex IN ('M', 'F')),
    birth_date         date,
    id_number          text,
    residence_type     text NOT NULL DEFAULT '',
    ethnicity          text NOT NULL DEFAULT '',
    phone              text NOT NULL DEFAULT '',
    contact_name       text NOT NULL DEFAULT '',
    contact_phone      text NOT NULL DEFAULT '',
    responsible_doctor text REFERENCES staff (code),
    filed_on           date NOT NULL,
    filed_by           text,
    filing_institution text REFERENCES institutions (code),
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved_out', 'deceased')),
    status_date        date,
    destination        text NOT NULL DEFAULT '',
    -- The rest of the personal basic information form (blood type, education,
    -- histories, living conditions…): read and written whole, never queried by the rates.
    details            jsonb NOT NULL DEFAULT '{}',
    version            int NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (substr(record_id, 1, 12) = village_code),
    CHECK ((status = 'active') = (status_date IS NULL))
);
-- The identity number is the unified identity: one active record per number.
CREATE UNIQUE INDEX records_active_id_number ON records (id_number) WHERE status = 'active' AND id_number IS NOT NULL;
CREATE INDEX records_village ON records (village_code);
CREATE INDEX records_name ON records (name text_pattern_ops);
CREATE INDEX records_doctor ON records (responsible_doctor);

-- Every change to a record: who, when, and each field before → after. Nothing is deleted.
CREATE TABLE record_history (
    id         bigserial PRIMARY KEY,
    record_id  text NOT NULL REFERENCES records (record_id),
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL,
    action     text NOT NULL,
    changes    jsonb NOT NULL
);
CREATE INDEX record_history_record ON record_history (record_id, id DESC);

-- Health examinations (健康体检表). Typed vitals feed the quality rules; the rest
-- of the form lives in details.
CREATE TABLE exams (
    id               bigserial PRIMARY KEY,
    record_id        text NOT NULL REFERENCES records (record_id),
    exam_date        date NOT NULL,
    doctor           text NOT NULL REFERENCES staff (code),
    institution_code text REFERENCES institutions (code),
    temperature      numeric(4, 1),
    pulse            int,
    respiration      int,
    systolic         int,
    diastolic        int,
    systolic_right   int,
    diastolic_right  int,
    height_cm        numeric(5, 1),
    weight_kg        numeric(5, 1),
    waist_cm         numeric(5, 1),
    fasting_glucose  numeric(5, 2),
    details          jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL
);
CREATE INDEX exams_record ON exams (record_id, exam_date DESC);

-- Client idempotency keys: a tablet that sends the same create twice gets the
-- first result back. The key is the caller's; request_hash tells a replay from
-- a different body sent under the same key.
CREATE TABLE idempotency_keys (
    staff_code   text NOT NULL REFERENCES staff (code),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash text NOT NULL,
    kind         text NOT NULL,
    resource_id  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_code, key)
);
