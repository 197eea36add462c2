-- +goose Up
-- Feedback before judgement (DESIGN §5.5, §5.7, §5.8, §7.1).

-- A snapshot registered with the review belongs to one county, named
-- explicitly. The list of counties its warnings touched was empty for a
-- snapshot without warnings (the insert failed on NULL), and an empty list
-- would have matched every county as "the previous snapshot".
ALTER TABLE review_snapshots ADD COLUMN county_code text NOT NULL DEFAULT '';
UPDATE review_snapshots SET county_code = county_codes[1] WHERE cardinality(county_codes) > 0;
UPDATE review_snapshots r SET county_code = s.county_code
    FROM rate_snapshots s WHERE r.county_code = '' AND r.snapshot_id = s.id::text;
ALTER TABLE review_snapshots DROP COLUMN county_codes;
CREATE INDEX review_snapshots_county ON review_snapshots (county_code, published_at);
