-- +goose Up
-- Service entries (DESIGN §4, 动态记录): visits, two-way referrals, follow-ups,
-- consultations and hospitalisations, all in one table. The common fields are
-- columns; each kind's own form lives whole in data. What is queried is typed:
-- a referral's status and receiving institution, a follow-up's programme and
-- next date.
CREATE TABLE entries (
    id                  bigserial PRIMARY KEY,
    record_id           text NOT NULL REFERENCES records (record_id),
    kind                text NOT NULL CHECK (kind IN ('visit', 'referral', 'followup', 'consultation', 'hospitalisation')),
    service_date        date NOT NULL,
    doctor              text NOT NULL REFERENCES staff (code),
    institution_code    text REFERENCES institutions (code),
    referral_status     text CHECK (referral_status IN ('issued', 'received', 'returned', 'closed')),
    to_institution_code text REFERENCES institutions (code),
    programme           text CHECK (programme IN ('hypertension', 'type2_diabetes')),
    next_date           date,
    data                jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    CHECK ((kind = 'referral') = (referral_status IS NOT NULL)),
    CHECK (kind = 'referral' OR to_institution_code IS NULL),
    CHECK ((kind = 'followup') = (programme IS NOT NULL)),
    CHECK (kind = 'followup' OR next_date IS NULL),
    CHECK (next_date IS NULL OR next_date > service_date)
);
CREATE INDEX entries_record_date ON entries (record_id, service_date);
-- The doctor's list of open referrals, issued and received sides.
CREATE INDEX entries_open_referrals ON entries (institution_code, service_date)
    WHERE referral_status IN ('issued', 'received');
CREATE INDEX entries_open_referrals_in ON entries (to_institution_code, service_date)
    WHERE referral_status IN ('issued', 'received');
-- A follow-up schedule rebuild finds each enrolment's latest follow-up.
CREATE INDEX entries_followups ON entries (record_id, programme, service_date DESC, id DESC)
    WHERE kind = 'followup';
