-- +goose Up
-- The records that left (moved out, died), by village: the due list's total
-- (followups_due.go) drops the schedules of such records, and with
-- records_inactive alone it hashed every one of them in the county for each
-- request (29,693 on the 1M county) to count one user's villages. A
-- record's village is its ID's first twelve digits, as the schedules'
-- village_code, so the total now reads only its villages' (about 1,500 for
-- an institution's 15): the count took 6.4-6.9 ms a request against
-- 9.9-10.4 ms (generic plan, the 1M county, 2026-12-08).
CREATE INDEX records_inactive_village ON records (substr(record_id, 1, 12), record_id) WHERE status <> 'active';
