-- Webhook subscriptions (src/events/subscriptions.ts). A deletion is a newer version of the row
-- with deleted = 1, so every process reading with FINAL agrees on what is live. The signing
-- secret is kept only encrypted (AES-256-GCM under a key derived from NPS_SESSION_SECRET): the SQL
-- endpoint lets its keys read every table of this database.
CREATE TABLE IF NOT EXISTS {database:Identifier}.webhook_subscriptions
(
    subscription_id  String,
    url              String,
    events           Array(LowCardinality(String)),
    survey_id        String COMMENT 'Only this survey''s events; empty for every survey',
    format           LowCardinality(String) COMMENT 'standard or slack',
    secret_sealed    String COMMENT 'The whsec_ secret, AES-256-GCM sealed, base64',
    created_at       DateTime64(3, 'UTC'),
    deleted          UInt8 DEFAULT 0,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY subscription_id;
