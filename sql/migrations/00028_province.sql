-- +goose Up
-- The province view (docs/operations.md, "A province over its counties").
-- A county publishes its counters with PostgreSQL logical replication and a
-- province database subscribes to every county's publication; nothing of
-- ours copies data. Both sides run this same schema.

-- Each county's heartbeat: the server updates its county's row with every
-- fold of the counters (every 5 s), so the province reads how current each
-- county's figures are from the row it last received — also when the county
-- is offline and pg_stat_subscription has forgotten it. A county database
-- that publishes nothing has no row, and the update writes nothing.
CREATE TABLE counter_heartbeats (
    county  text PRIMARY KEY CHECK (county ~ '^[0-9]{6}$'),
    beat_at timestamptz NOT NULL DEFAULT now()
);

-- A county publishes only its own institutions, by county_code; a
-- publication's row filter may name only columns of the replica identity,
-- and institutions change rarely, so the whole row identifies one.
ALTER TABLE institutions REPLICA IDENTITY FULL;

-- The province role (省级): reads the counties' figures, in a province
-- database; never a record.
ALTER TABLE staff_roles DROP CONSTRAINT staff_roles_role_check;
ALTER TABLE staff_roles ADD CONSTRAINT staff_roles_role_check CHECK (role IN ('doctor', 'home_visit', 'records_admin', 'bureau',
    'reviewer', 'review_lead', 'admin', 'requester', 'province'));

-- +goose Down
ALTER TABLE institutions REPLICA IDENTITY DEFAULT;
ALTER TABLE staff_roles DROP CONSTRAINT staff_roles_role_check;
ALTER TABLE staff_roles ADD CONSTRAINT staff_roles_role_check CHECK (role IN ('doctor', 'home_visit', 'records_admin', 'bureau',
    'reviewer', 'review_lead', 'admin', 'requester'));
DROP TABLE counter_heartbeats;
