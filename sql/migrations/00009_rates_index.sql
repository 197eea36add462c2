-- +goose Up
-- What a rates report reads of every record of a county, in one index
-- ordered by village and responsible doctor: a report is an index-only scan
-- grouped in index order (about one group per village and doctor), reading
-- about a quarter of the table's pages, and the sample's draw keys record IDs
-- without visiting the table (DESIGN §9: a report within a few times a bare
-- count(*)). The price: an update of a record's facts (each new exam or
-- entry) changes an indexed column, so it is not a HOT update.
CREATE INDEX records_rates ON records (village_code, responsible_doctor)
    INCLUDE (filed_on, status_date, birth_date, quality_failures, last_exam_date, last_exam_complete, last_service_date, record_id);
