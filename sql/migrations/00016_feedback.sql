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

-- Snapshot kinds (DESIGN §5.5): a pre-assessment (预考核) warns, an
-- assessment (考核) may also propose cases. A county publishes at most one
-- snapshot per kind and as-of date; a correction supersedes the current one
-- with a reason and the superseded one stays readable. "Current" is kept by
-- the database: one snapshot per (county, kind, as-of) supersedes nothing,
-- and each is superseded at most once, so the chain is a line.
--
-- Snapshots published before kinds existed: one dated 30 April or 31 August
-- (seed 003's pre-assessment dates) is a pre-assessment, any other an
-- assessment. Where a county published the same kind and date more than
-- once, each later one supersedes the one before it, in publishing order.
ALTER TABLE rate_snapshots
    ADD COLUMN kind text NOT NULL DEFAULT 'assessment' CHECK (kind IN ('pre_assessment', 'assessment')),
    ADD COLUMN supersedes bigint REFERENCES rate_snapshots (id),
    ADD COLUMN supersede_reason text NOT NULL DEFAULT '',
    ADD CHECK ((supersedes IS NULL) = (supersede_reason = ''));
ALTER TABLE rate_snapshots DISABLE TRIGGER rate_snapshots_frozen;
UPDATE rate_snapshots SET kind = 'pre_assessment'
    WHERE (extract(month FROM as_of), extract(day FROM as_of)) IN ((4, 30), (8, 31));
UPDATE rate_snapshots s SET supersedes = p.prev,
    supersede_reason = '迁移 00016：同一县、类型和截止日重复发布，以后发布者为准'
    FROM (SELECT id, lag(id) OVER (PARTITION BY county_code, kind, as_of ORDER BY published_at, id) AS prev
          FROM rate_snapshots) p
    WHERE p.id = s.id AND p.prev IS NOT NULL;
ALTER TABLE rate_snapshots ENABLE TRIGGER rate_snapshots_frozen;
ALTER TABLE rate_snapshots ALTER COLUMN kind DROP DEFAULT;
CREATE UNIQUE INDEX rate_snapshots_first ON rate_snapshots (county_code, kind, as_of) WHERE supersedes IS NULL;
CREATE UNIQUE INDEX rate_snapshots_superseded_once ON rate_snapshots (supersedes);

-- The review knows each snapshot's kind and whether it was superseded: the
-- "previous assessment" of a county is its latest earlier assessment still
-- in force.
ALTER TABLE review_snapshots
    ADD COLUMN kind text NOT NULL DEFAULT 'assessment' CHECK (kind IN ('pre_assessment', 'assessment')),
    ADD COLUMN superseded boolean NOT NULL DEFAULT false;
UPDATE review_snapshots r SET kind = s.kind,
    superseded = EXISTS (SELECT 1 FROM rate_snapshots n WHERE n.supersedes = s.id)
    FROM rate_snapshots s WHERE r.snapshot_id = s.id::text;

-- Cases only for a fault (DESIGN §7.1). An assessment proposes a case in
-- 'proposed' with no clock running; a reviewer accepts it (the 20 working
-- days start then) or dismisses it. Every case already here keeps its state
-- and dates: the new columns are empty for them.
ALTER TABLE cases DROP CONSTRAINT cases_state_check;
ALTER TABLE cases ADD CONSTRAINT cases_state_check CHECK (state IN ('proposed', 'accepted', 'investigating', 'determined',
    'decided', 'served', 'appealed', 'reviewed', 'archived', 'closed_no_fault', 'exempted', 'dismissed'));
ALTER TABLE cases ALTER COLUMN accepted_on DROP NOT NULL, ALTER COLUMN investigation_due DROP NOT NULL,
    ALTER COLUMN state SET DEFAULT 'proposed';
ALTER TABLE cases ADD COLUMN proposed_on date, ADD COLUMN acceptance_note text NOT NULL DEFAULT '',
    ADD CONSTRAINT cases_clock CHECK ((state IN ('proposed', 'dismissed')) OR (accepted_on IS NOT NULL AND investigation_due IS NOT NULL));
ALTER TABLE cases DROP CONSTRAINT cases_talk_by_check;
ALTER TABLE cases ADD CONSTRAINT cases_talk_by_check CHECK (talk_by IN ('', 'deputy', 'principal'));
-- One open assessment case per subject: a later proposal adds its figures to
-- it. Older databases may hold several open ones per subject (one per
-- snapshot); they stay, and the newest takes the additions.
CREATE INDEX cases_open_subject ON cases (subject_type, subject_code, id)
    WHERE source = 'snapshot' AND state NOT IN ('archived', 'closed_no_fault', 'exempted', 'dismissed');

-- The last places of each assessment, for "last in two consecutive
-- assessments". Snapshots registered before this migration get theirs from
-- their frozen rows.
ALTER TABLE review_snapshots ADD COLUMN last_places jsonb NOT NULL DEFAULT '[]';
UPDATE review_snapshots r SET last_places = COALESCE((
    SELECT jsonb_agg(jsonb_build_object('level', x.level, 'scope_code', x.scope_code, 'indicator', x.indicator)
                     ORDER BY x.level, x.scope_code, x.indicator)
    FROM rate_snapshot_rows x
    WHERE x.snapshot_id::text = r.snapshot_id AND x.level IN ('doctor', 'institution') AND x.rate IS NOT NULL AND x.rank > 1
      AND x.rank = (SELECT max(y.rank) FROM rate_snapshot_rows y
                    WHERE y.snapshot_id = x.snapshot_id AND y.level = x.level AND y.indicator = x.indicator AND y.rate IS NOT NULL)), '[]');

-- The inbox (DESIGN §5.8): one row per message and recipient. The key says
-- what the message is about (a snapshot's warning to a scope, a case event,
-- a reminder of a deadline and how many days before it); (key, recipient)
-- is unique, which makes every producer exactly-once across retries,
-- restarts and concurrent servers.
CREATE TABLE messages (
    id         bigserial PRIMARY KEY,
    recipient  text NOT NULL REFERENCES staff (code),
    kind       text NOT NULL CHECK (kind IN ('warning', 'case', 'reminder', 'access_request')),
    key        text NOT NULL CHECK (key <> ''),
    title      text NOT NULL CHECK (title <> ''),
    body       text NOT NULL DEFAULT '',
    link       text NOT NULL DEFAULT '',
    details    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    read_at    timestamptz,
    UNIQUE (key, recipient)
);
CREATE INDEX messages_recipient ON messages (recipient, id);
CREATE INDEX messages_unread ON messages (recipient) WHERE read_at IS NULL;

-- A message's delivery by SMS, when a gateway is configured: pending until
-- the gateway takes it, retried with backoff while it fails. Nothing is
-- dropped: a gateway that is down only delays.
CREATE TABLE message_deliveries (
    message_id      bigint NOT NULL REFERENCES messages (id),
    channel         text NOT NULL CHECK (channel IN ('sms')),
    address         text NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    sent_at         timestamptz,
    PRIMARY KEY (message_id, channel)
);
CREATE INDEX message_deliveries_due ON message_deliveries (next_attempt_at) WHERE state = 'pending';

-- Evidence that closes a rectification item (DESIGN §7.5): photos or PDF
-- files up to 10 MB, kept with their SHA-256 so that what was shown can be
-- shown again unchanged. Append-only, like the events.
CREATE TABLE item_evidence (
    id           bigserial PRIMARY KEY,
    item_id      bigint NOT NULL REFERENCES case_items (id),
    name         text NOT NULL CHECK (name <> ''),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size         int NOT NULL CHECK (size > 0 AND size <= 10485760),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content      bytea NOT NULL,
    uploaded_by  text NOT NULL REFERENCES staff (code),
    uploaded_at  timestamptz NOT NULL
);
CREATE INDEX item_evidence_item ON item_evidence (item_id, id);
CREATE TRIGGER item_evidence_frozen BEFORE UPDATE OR DELETE ON item_evidence
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The defence (申辩, DESIGN §7.2): from the determination the subject has
-- 5 working days to answer the findings in writing, and no decision comes
-- before the statement or the end of that period. Cases determined before
-- this migration have no period (determined_on is empty).
ALTER TABLE cases ADD COLUMN determined_on date, ADD COLUMN defence_due date,
    ADD COLUMN defence text NOT NULL DEFAULT '', ADD COLUMN defended_on date;
