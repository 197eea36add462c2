-- +goose Up
-- Facts kept up to date at write time so that reports never scan the exams
-- and entries (DESIGN §9): the latest health examination (and whether it had
-- blood pressure, height and weight) and the latest dynamic record of any kind.
-- A report for a past as-of date uses them only when they are on or before it.
ALTER TABLE records
    ADD COLUMN last_exam_date     date,
    ADD COLUMN last_exam_complete boolean NOT NULL DEFAULT false,
    ADD COLUMN last_service_date  date;
