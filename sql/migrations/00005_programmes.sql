-- +goose Up
-- Key-population management (重点人群管理, DESIGN §3 part 3): enrolments in
-- programmes, and the follow-up schedule of the hypertension and type-2
-- diabetes enrolments (DESIGN §4.3), kept at write time so that the due list
-- of a village is an index range scan, not a search through the entries.
CREATE TABLE enrolments (
    id                 bigserial PRIMARY KEY,
    record_id          text NOT NULL REFERENCES records (record_id),
    -- A record's village is fixed by its ID, so the due list can key on it
    -- without joining the records.
    village_code       text NOT NULL GENERATED ALWAYS AS (substr(record_id, 1, 12)) STORED,
    programme          text NOT NULL CHECK (programme IN ('hypertension', 'type2_diabetes', 'elderly', 'children_0_6',
                                                          'maternal', 'severe_mental', 'tuberculosis')),
    enrolled_on        date NOT NULL,
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    ended_on           date,
    end_reason         text NOT NULL DEFAULT '',
    -- The schedule: the latest follow-up of this enrolment and the date the
    -- next one is due (its next date, or 3 months after it, or 3 months after
    -- enrolment when there is none). NULL for programmes without follow-ups.
    last_followup_date date,
    next_due_date      date,
    created_at         timestamptz NOT NULL DEFAULT now(),
    created_by         text NOT NULL,
    CHECK ((status = 'active') = (ended_on IS NULL)),
    CHECK (ended_on IS NULL OR ended_on >= enrolled_on),
    CHECK (next_due_date IS NULL OR programme IN ('hypertension', 'type2_diabetes'))
);
-- One active enrolment per programme per record.
CREATE UNIQUE INDEX enrolments_active ON enrolments (record_id, programme) WHERE status = 'active';
CREATE INDEX enrolments_record ON enrolments (record_id, enrolled_on DESC);
-- The due list: one village's active schedules in due-date order, the
-- list's own order, so a page reads its rows off the index.
CREATE INDEX enrolments_due ON enrolments (village_code, next_due_date, record_id, programme)
    WHERE status = 'active' AND next_due_date IS NOT NULL;
-- The few records that left (moved out, died): the due list drops their
-- enrolments by probing this small index instead of joining every record.
CREATE INDEX records_inactive ON records (record_id) WHERE status <> 'active';

-- followup_due is the one rule of DESIGN §4.3 for when the next follow-up is
-- due: at the set next date, else 3 calendar months after the last follow-up
-- (or the enrolment). PostgreSQL clamps to the month's end: 01-31 + 3 months
-- is 04-30, 2023-11-29 + 3 months is 2024-02-29.
-- +goose StatementBegin
CREATE FUNCTION followup_due(last date, next date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(next, (last + interval '3 months')::date) $$;
-- +goose StatementEnd
