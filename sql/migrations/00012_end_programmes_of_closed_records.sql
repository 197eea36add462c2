-- +goose Up
-- A move-out or death ends the record's programmes (ChangeStatus does it
-- since this version); end those that earlier versions left active, on the
-- status date or on enrolment if that was recorded as later.
UPDATE enrolments e SET status = 'ended', ended_on = GREATEST(e.enrolled_on, r.status_date),
    end_reason = CASE WHEN r.status = 'deceased' THEN '死亡' ELSE '迁出' END
FROM records r
WHERE r.record_id = e.record_id AND r.status <> 'active' AND e.status = 'active';
