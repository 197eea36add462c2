-- +goose Up
-- The key populations' schedules (DESIGN §3 part 3, docs/spec-summary.md):
-- the children (0–6), maternal and elderly programmes get their services
-- from the standard, each with a window, and the three entry kinds that
-- record them. Like the hypertension and diabetes schedule, the schedule is
-- kept at write time, so that the due list stays an index range scan.

-- The new kinds name their programme in the programme column, as a
-- follow-up does, so that the entry's write finds and locks the enrolment
-- the same way.
ALTER TABLE entries
    DROP CONSTRAINT entries_kind_check,
    DROP CONSTRAINT entries_programme_check,
    DROP CONSTRAINT entries_check2,
    ADD CONSTRAINT entries_kind_check CHECK (kind IN ('visit', 'referral', 'followup', 'consultation', 'hospitalisation',
                                                      'child_visit', 'maternal_visit', 'elderly_check')),
    ADD CONSTRAINT entries_programme_check CHECK (CASE kind
        WHEN 'followup' THEN programme IN ('hypertension', 'type2_diabetes')
        WHEN 'child_visit' THEN programme = 'children_0_6'
        WHEN 'maternal_visit' THEN programme = 'maternal'
        WHEN 'elderly_check' THEN programme = 'elderly'
        ELSE programme IS NULL END);

-- The dates a schedule counts from: a newborn's discharge from hospital,
-- the last menstrual period and the delivery.
ALTER TABLE enrolments
    ADD COLUMN discharged_on date,
    ADD COLUMN lmp_date date,
    ADD COLUMN delivered_on date,
    ADD CHECK (lmp_date IS NULL OR programme = 'maternal'),
    ADD CHECK (delivered_on IS NULL OR programme = 'maternal'),
    ADD CHECK (discharged_on IS NULL OR programme = 'children_0_6');

-- One row per scheduled service of an enrolment. Listed (due) from
-- window_start, overdue after window_end, off the list after listed_until
-- (NULL: until given; the elderly's annual one, which moves on a year after
-- each). done_on and entry_id say which entry gave it.
CREATE TABLE schedule_items (
    id           bigserial PRIMARY KEY,
    enrolment_id bigint NOT NULL REFERENCES enrolments (id),
    record_id    text NOT NULL REFERENCES records (record_id),
    village_code text NOT NULL GENERATED ALWAYS AS (substr(record_id, 1, 12)) STORED,
    programme    text NOT NULL CHECK (programme IN ('children_0_6', 'maternal', 'elderly')),
    service      text NOT NULL,
    window_start date NOT NULL,
    window_end   date NOT NULL,
    listed_until date,
    done_on      date,
    entry_id     bigint REFERENCES entries (id),
    UNIQUE (enrolment_id, service),
    CHECK (window_end >= window_start),
    CHECK ((done_on IS NULL) = (entry_id IS NULL))
);
-- The due list: a village's pending services in due order.
CREATE INDEX schedule_items_due ON schedule_items (village_code, window_start, record_id, service)
    WHERE done_on IS NULL;

-- An ended enrolment (结案, or its record moved out or died) has nothing
-- more due: its pending services go.
-- +goose StatementBegin
CREATE FUNCTION schedule_items_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM schedule_items WHERE enrolment_id = NEW.id AND done_on IS NULL;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER enrolments_end AFTER UPDATE OF status ON enrolments
    FOR EACH ROW WHEN (OLD.status = 'active' AND NEW.status = 'ended') EXECUTE FUNCTION schedule_items_end();
