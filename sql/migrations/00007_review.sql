-- +goose Up
-- Accountability review (问责, DESIGN §7): the holiday calendar for working-day
-- deadlines, cases with their history, rectification items and their reminders.

-- Exceptions to "Monday to Friday": public holidays, and make-up working days
-- (调休上班) on a weekend.
CREATE TABLE calendar_days (
    day        date PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT ''
);

-- Every published snapshot the review has been told about, so that "two
-- consecutive published snapshots" has a meaning independent of the snapshot
-- tables: the previous snapshot of a county is the latest earlier one here
-- whose warnings touched that county.
CREATE TABLE review_snapshots (
    snapshot_id  text PRIMARY KEY CHECK (snapshot_id <> ''),
    published_at timestamptz NOT NULL,
    county_codes text[] NOT NULL DEFAULT '{}',
    proposed_at  timestamptz NOT NULL
);
CREATE INDEX review_snapshots_published ON review_snapshots (published_at);

CREATE TABLE cases (
    id                  bigserial PRIMARY KEY,
    county_code         text NOT NULL REFERENCES regions (code),
    source              text NOT NULL CHECK (source IN ('snapshot', 'complaint', 'inspection', 'instruction')),
    subject_type        text NOT NULL CHECK (subject_type IN ('staff', 'institution')),
    -- A staff code or an institution code, by subject_type.
    subject_code        text NOT NULL,
    subject_name        text NOT NULL DEFAULT '',
    -- The subject's institution when the case was opened (for an
    -- institution, itself): recusal and the decision notice read it.
    subject_institution text NOT NULL DEFAULT '',
    facts               text NOT NULL,
    snapshot_id         text REFERENCES review_snapshots (snapshot_id),
    -- The warnings, with their figures, that gave rise to a proposed case.
    triggers            jsonb NOT NULL DEFAULT '[]',
    escalated           boolean NOT NULL DEFAULT false,
    talk_by             text NOT NULL DEFAULT 'deputy' CHECK (talk_by IN ('deputy', 'principal')),
    escalation          jsonb,
    state               text NOT NULL DEFAULT 'accepted' CHECK (state IN ('accepted', 'investigating', 'determined',
                            'decided', 'served', 'appealed', 'reviewed', 'archived', 'closed_no_fault', 'exempted')),
    accepted_on         date NOT NULL,
    investigation_due   date NOT NULL,
    extended            boolean NOT NULL DEFAULT false,
    extension_reason    text NOT NULL DEFAULT '',
    responsibility      text NOT NULL DEFAULT '' CHECK (responsibility IN ('', 'direct', 'leadership', 'indirect')),
    severity            text NOT NULL DEFAULT '' CHECK (severity IN ('', 'light', 'serious', 'very_serious')),
    findings            text NOT NULL DEFAULT '',
    outcome             text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'criticism_education', 'admonishing_talk',
                            'written_self_examination', 'circulated_criticism', 'suspension', 'transfer')),
    original_outcome    text NOT NULL DEFAULT '',
    decided_on          date,
    serving_due         date,
    served_on           date,
    appeal_due          date,
    appealed_on         date,
    review_result       text NOT NULL DEFAULT '' CHECK (review_result IN ('', 'upheld', 'modified', 'revoked')),
    closed_on           date,
    created_at          timestamptz NOT NULL,
    created_by          text NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK ((source = 'snapshot') = (snapshot_id IS NOT NULL)),
    CHECK (escalated = (talk_by = 'principal'))
);
-- A snapshot proposes at most one case per doctor or institution, however
-- often the publisher calls: this makes proposing idempotent.
CREATE UNIQUE INDEX cases_snapshot_subject ON cases (snapshot_id, subject_type, subject_code) WHERE snapshot_id IS NOT NULL;
CREATE INDEX cases_county_state ON cases (county_code, state);
CREATE INDEX cases_subject ON cases (subject_type, subject_code, decided_on);

-- Every step of a case or of one of its items: who, when, why, and the
-- step's fields. Nothing here is updated or deleted.
CREATE TABLE case_events (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    item_id    bigint,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    reason     text NOT NULL DEFAULT '',
    details    jsonb NOT NULL DEFAULT '{}',
    actor      text NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- Rectification items (整改/督办事项) of decided cases.
CREATE TABLE case_items (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    owner       text NOT NULL REFERENCES staff (code),
    due_date    date NOT NULL,
    description text NOT NULL CHECK (description <> ''),
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'verified', 'reopened')),
    evidence    text NOT NULL DEFAULT '',
    closed_at   timestamptz,
    verified_at timestamptz,
    verified_by text NOT NULL DEFAULT '',
    verify_note text NOT NULL DEFAULT '',
    created_on  date NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);
CREATE INDEX case_items_case ON case_items (case_id, id);
CREATE INDEX case_items_owner_pending ON case_items (owner, due_date) WHERE state IN ('open', 'reopened');
ALTER TABLE case_events ADD FOREIGN KEY (item_id) REFERENCES case_items (id);

-- One row per reminder sent: an item and how many days before its due date.
-- The primary key is what makes sending exactly-once across restarts and
-- concurrent schedulers (INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE item_reminders (
    item_id     bigint NOT NULL REFERENCES case_items (id),
    offset_days int NOT NULL CHECK (offset_days IN (7, 3, 1)),
    remind_on   date NOT NULL,
    sent_at     timestamptz NOT NULL,
    PRIMARY KEY (item_id, offset_days)
);
