-- Every webhook delivery attempt (GET /v1/subscriptions/<id>/deliveries), kept 30 days. The
-- respondent is kept so that an erasure can delete the attempts about them.
CREATE TABLE IF NOT EXISTS {database:Identifier}.webhook_deliveries
(
    subscription_id  String,
    event_id         String,
    webhook_id       String,
    event_type       LowCardinality(String),
    attempt          UInt32,
    status           UInt16 COMMENT 'HTTP status; 0 when no answer came',
    outcome          LowCardinality(String) COMMENT 'delivered, failed, dead-lettered, withheld',
    latency_ms       UInt32 COMMENT 'From sending the request to its answer (or failure)',
    error            String,
    respondent_id    String,
    attempted_at     DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (subscription_id, attempted_at)
TTL toDateTime(attempted_at) + INTERVAL 30 DAY;
