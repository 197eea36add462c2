-- +goose Up
-- The health examination table (健康体检表) as structured sections
-- (internal/examform): each section's answers under its key in sections
-- (symptoms, general, lifestyle, organs, physical, tests, problems,
-- hospital, medication, vaccinations, assessment), item keys and codes as
-- docs/spec-summary.md lists them. The vital signs and fasting glucose stay
-- in their typed columns, which the quality rules read.
--
-- A section is saved as a draft and finished later: section_states holds
-- each touched section's state ('draft' or 'complete'); state is 'complete'
-- once every section is. Exams from before keep their vitals and are drafts.
ALTER TABLE exams
    ADD COLUMN sections       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(sections) = 'object'),
    ADD COLUMN section_states jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(section_states) = 'object'),
    ADD COLUMN state          text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'complete')),
    ADD COLUMN updated_at     timestamptz,
    ADD COLUMN updated_by     text;

-- +goose Down
ALTER TABLE exams DROP COLUMN sections, DROP COLUMN section_states, DROP COLUMN state, DROP COLUMN updated_at,
    DROP COLUMN updated_by;
