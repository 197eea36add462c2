-- +goose Up
-- A published snapshot freezes every sampled record with the rules it broke
-- and whether it had a dynamic record (DESIGN §5.5). With sample=all that is
-- every active record of the county: 970,000 rows, each with its primary-key
-- entry and its foreign-key check, took most of a 8.5–19 s publish on the
-- 1M county (docs/benchmarks.md). They are now kept one row per draw group
-- and village, as parallel arrays: a few thousand rows, compressed, written
-- in one pass. Nothing reads a single record of a snapshot by key; the view
-- rate_snapshot_records gives the old rows to whoever reads them as rows.
CREATE TABLE rate_snapshot_samples (
    -- Deferred: a sampled snapshot freezes its records while it draws
    -- them, before its own row (with the figures from that draw) exists.
    snapshot_id  bigint NOT NULL REFERENCES rate_snapshots (id) DEFERRABLE INITIALLY DEFERRED,
    -- The draw's group: the responsible doctor, or '#' and the village for
    -- records without one.
    stratum      text NOT NULL,
    village_code text NOT NULL,
    records      int NOT NULL, -- the arrays' length, so a count reads no array
    record_ids   text[] NOT NULL,
    failures     smallint[] NOT NULL, -- every rule broken as of the snapshot's date
    has_dynamic  boolean[] NOT NULL,  -- a dynamic record in the 365 days ending then
    PRIMARY KEY (snapshot_id, stratum, village_code),
    CHECK (records = cardinality(record_ids) AND records = cardinality(failures) AND records = cardinality(has_dynamic))
);

-- lz4 compresses the arrays several times faster than the default pglz,
-- where the server was built with it (Debian's and PGDG's are).
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE rate_snapshot_samples ALTER COLUMN record_ids SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;
-- +goose StatementEnd

INSERT INTO rate_snapshot_samples (snapshot_id, stratum, village_code, records, record_ids, failures, has_dynamic)
SELECT snapshot_id, stratum, village_code, count(*), array_agg(record_id ORDER BY record_id),
    array_agg(failures ORDER BY record_id), array_agg(has_dynamic ORDER BY record_id)
FROM rate_snapshot_records GROUP BY snapshot_id, stratum, village_code;

DROP TABLE rate_snapshot_records;

CREATE VIEW rate_snapshot_records AS
SELECT s.snapshot_id, u.record_id, s.village_code, s.stratum, u.failures, u.has_dynamic
FROM rate_snapshot_samples s
CROSS JOIN LATERAL unnest(s.record_ids, s.failures, s.has_dynamic) u (record_id, failures, has_dynamic);

CREATE TRIGGER rate_snapshot_samples_frozen BEFORE UPDATE OR DELETE ON rate_snapshot_samples
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER rate_snapshot_samples_no_truncate BEFORE TRUNCATE ON rate_snapshot_samples
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
