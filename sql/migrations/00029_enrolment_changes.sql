-- +goose Up
-- A tablet sends again what changed since its last sync (00022). An
-- enrolment's trigger names its columns, and 00026 added three the record
-- page shows (the discharge, the last menstrual period, the delivery): a
-- delivery recorded at the desk must reach the tablets too.
DROP TRIGGER enrolments_changed_xid ON enrolments;
CREATE TRIGGER enrolments_changed_xid BEFORE UPDATE ON enrolments FOR EACH ROW
    WHEN ((NEW.record_id, NEW.programme, NEW.enrolled_on, NEW.status, NEW.ended_on, NEW.end_reason,
        NEW.last_followup_date, NEW.next_due_date, NEW.discharged_on, NEW.lmp_date, NEW.delivered_on)
        IS DISTINCT FROM (OLD.record_id, OLD.programme, OLD.enrolled_on, OLD.status, OLD.ended_on, OLD.end_reason,
        OLD.last_followup_date, OLD.next_due_date, OLD.discharged_on, OLD.lmp_date, OLD.delivered_on))
    EXECUTE FUNCTION note_changed_xid();

-- +goose Down
DROP TRIGGER enrolments_changed_xid ON enrolments;
CREATE TRIGGER enrolments_changed_xid BEFORE UPDATE ON enrolments FOR EACH ROW
    WHEN ((NEW.record_id, NEW.programme, NEW.enrolled_on, NEW.status, NEW.ended_on, NEW.end_reason,
        NEW.last_followup_date, NEW.next_due_date)
        IS DISTINCT FROM (OLD.record_id, OLD.programme, OLD.enrolled_on, OLD.status, OLD.ended_on, OLD.end_reason,
        OLD.last_followup_date, OLD.next_due_date))
    EXECUTE FUNCTION note_changed_xid();
