-- +goose Up
-- Due process in the reviewers' hands (DESIGN §6.1, §7.2–§7.4). Every case
-- already here keeps its state, dates and outcome: a case determined,
-- extended or decided by one reviewer stays valid as it was, with no group,
-- no approver and no meeting.

-- The leading group's role (领导小组): approves extensions, chairs decisions.
ALTER TABLE staff_roles DROP CONSTRAINT staff_roles_role_check;
ALTER TABLE staff_roles ADD CONSTRAINT staff_roles_role_check CHECK (role IN ('doctor', 'home_visit', 'records_admin', 'bureau',
    'reviewer', 'review_lead', 'admin', 'requester'));

-- The investigation group, the extension asked for and approved, the
-- decision meeting, who decided and who reviewed.
ALTER TABLE cases
    ADD COLUMN group_members jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN extension_requested_by text NOT NULL DEFAULT '',
    ADD COLUMN extension_requested_on date,
    ADD COLUMN extension_approved_by text NOT NULL DEFAULT '',
    ADD COLUMN extension_refused boolean NOT NULL DEFAULT false,
    ADD COLUMN meeting jsonb,
    ADD COLUMN decided_by text NOT NULL DEFAULT '',
    ADD COLUMN reviewed_by text NOT NULL DEFAULT '',
    -- A complaint's author (§7.1): never shown to the subject.
    ADD COLUMN complainant_name text NOT NULL DEFAULT '',
    ADD COLUMN complainant_contact text NOT NULL DEFAULT '',
    ADD COLUMN complainant_staff text NOT NULL DEFAULT '',
    ADD COLUMN complainant_told_on date;
-- Who decided an older case is its decision event's actor.
UPDATE cases c SET decided_by = e.actor
    FROM (SELECT DISTINCT ON (case_id) case_id, actor FROM case_events WHERE to_state = 'decided' AND from_state <> 'decided'
          ORDER BY case_id, id) e
    WHERE e.case_id = c.id;

-- The outcomes for people of 第五条 in full.
ALTER TABLE cases DROP CONSTRAINT cases_outcome_check;
ALTER TABLE cases ADD CONSTRAINT cases_outcome_check CHECK (outcome IN ('', 'criticism_education', 'admonishing_talk',
    'written_self_examination', 'circulated_criticism', 'suspension', 'transfer', 'advise_resign', 'order_resign', 'propose_dismissal'));

-- The consequences of 第八条 as facts: a person's grade for the month of the
-- decision, an institution's for the year, capped by the outcome in force.
-- Rewritten with the case's outcome (decision, review).
CREATE TABLE case_consequences (
    case_id      bigint NOT NULL REFERENCES cases (id),
    subject_type text NOT NULL CHECK (subject_type IN ('staff', 'institution')),
    subject_code text NOT NULL,
    subject_name text NOT NULL DEFAULT '',
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}(-[0-9]{2})?$'),
    cap          text NOT NULL CHECK (cap IN ('not_excellent', 'basically_competent', 'not_competent')),
    outcome      text NOT NULL,
    decided_on   date NOT NULL,
    PRIMARY KEY (case_id, period)
);
CREATE INDEX case_consequences_subject ON case_consequences (subject_type, subject_code, period);
INSERT INTO case_consequences (case_id, subject_type, subject_code, subject_name, period, cap, outcome, decided_on)
SELECT id, subject_type, subject_code, subject_name,
       CASE WHEN subject_type = 'institution' THEN to_char(decided_on, 'YYYY') ELSE to_char(decided_on, 'YYYY-MM') END,
       CASE WHEN subject_type = 'institution' THEN 'not_excellent'
            WHEN outcome IN ('admonishing_talk', 'written_self_examination') THEN 'not_excellent'
            WHEN outcome = 'circulated_criticism' THEN 'basically_competent'
            ELSE 'not_competent' END,
       outcome, decided_on
FROM cases
WHERE decided_on IS NOT NULL AND outcome <> '' AND outcome <> 'criticism_education'
  AND NOT (subject_type = 'institution' AND outcome NOT IN ('admonishing_talk', 'written_self_examination', 'circulated_criticism'));

-- A county's quorum for decision meetings: strictly more than this share of
-- its leading group present.
CREATE TABLE review_counties (
    county_code    text PRIMARY KEY REFERENCES regions (code),
    quorum_percent int NOT NULL DEFAULT 50 CHECK (quorum_percent BETWEEN 0 AND 99),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL DEFAULT ''
);

-- Conflicts a reviewer declares (§7.4), kept on their profile: they stand
-- aside from any case about that subject.
CREATE TABLE reviewer_conflicts (
    staff_code   text NOT NULL REFERENCES staff (code),
    subject_type text NOT NULL CHECK (subject_type IN ('staff', 'institution')),
    subject_code text NOT NULL,
    relation     text NOT NULL CHECK (relation IN ('relative', 'former_colleague', 'superior', 'other')),
    note         text NOT NULL DEFAULT '',
    declared_at  timestamptz NOT NULL,
    PRIMARY KEY (staff_code, subject_type, subject_code)
);

-- Rectification and supervision (§7.5): co-responsible people and a
-- completion standard per item; the later check (回头看) scheduled some months
-- after the item closes (three by default), for items closed before this
-- migration too.
ALTER TABLE case_items
    ADD COLUMN co_responsible jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN completion_standard text NOT NULL DEFAULT '',
    ADD COLUMN followup_months int NOT NULL DEFAULT 3 CHECK (followup_months BETWEEN 1 AND 12),
    ADD COLUMN followup_due date;
UPDATE case_items SET followup_due = (closed_at::date + interval '3 months')::date WHERE closed_at IS NOT NULL;
CREATE INDEX case_items_due ON case_items (due_date);

-- Expert help visits (定点解剖, seed 003) the bureau records for a scope
-- with many problems: the experts, what they found, the items they set.
CREATE TABLE help_visits (
    id          bigserial PRIMARY KEY,
    county_code text NOT NULL REFERENCES regions (code),
    scope_type  text NOT NULL CHECK (scope_type IN ('institution', 'township', 'doctor')),
    scope_code  text NOT NULL,
    visited_on  date NOT NULL,
    experts     jsonb NOT NULL,
    findings    text NOT NULL CHECK (findings <> ''),
    items       jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);
CREATE INDEX help_visits_county ON help_visits (county_code, visited_on);

-- +goose Down
DROP TABLE help_visits;
ALTER TABLE case_items DROP COLUMN co_responsible, DROP COLUMN completion_standard, DROP COLUMN followup_months,
    DROP COLUMN followup_due;
DROP TABLE reviewer_conflicts;
DROP TABLE review_counties;
DROP TABLE case_consequences;
ALTER TABLE cases DROP CONSTRAINT cases_outcome_check;
ALTER TABLE cases ADD CONSTRAINT cases_outcome_check CHECK (outcome IN ('', 'criticism_education', 'admonishing_talk',
    'written_self_examination', 'circulated_criticism', 'suspension', 'transfer'));
ALTER TABLE cases DROP COLUMN group_members, DROP COLUMN extension_requested_by, DROP COLUMN extension_requested_on,
    DROP COLUMN extension_approved_by, DROP COLUMN extension_refused, DROP COLUMN meeting, DROP COLUMN decided_by,
    DROP COLUMN reviewed_by, DROP COLUMN complainant_name, DROP COLUMN complainant_contact, DROP COLUMN complainant_staff,
    DROP COLUMN complainant_told_on;
ALTER TABLE staff_roles DROP CONSTRAINT staff_roles_role_check;
ALTER TABLE staff_roles ADD CONSTRAINT staff_roles_role_check CHECK (role IN ('doctor', 'home_visit', 'records_admin', 'bureau',
    'reviewer', 'admin', 'requester'));
