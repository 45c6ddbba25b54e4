-- One row per accepted response. The stream processor inserts only the first copy of each
-- responseId; ReplacingMergeTree on (survey_id, response_id) folds the identical row a replay
-- after a crash may insert again (query with FINAL, or GROUP BY response_id, for exact counts
-- before background merges have run).
CREATE TABLE IF NOT EXISTS {database:Identifier}.responses
(
    response_id         String COMMENT 'Unique id of the response (invitation id, Twilio MessageSid, email Message-Id, or a UUID)',
    survey_id           LowCardinality(String) COMMENT 'Survey the response belongs to',
    channel             LowCardinality(String) COMMENT 'web, sms or email',
    score               UInt8 COMMENT 'The answer, 0-10',
    category            LowCardinality(String) COMMENT 'detractor (0-6), passive (7-8) or promoter (9-10)',
    comment             Nullable(String) COMMENT 'Free-text comment, quoted reply text removed',
    locale              LowCardinality(Nullable(String)) COMMENT 'BCP 47 language tag, when known',
    respondent_id       Nullable(String) COMMENT 'Pseudonymous respondent id (keyed HMAC), never a raw phone number or email',
    segment             Map(String, String) COMMENT 'Attributes for slicing: plan, region, store, ...',
    responded_at        DateTime64(3, 'UTC') COMMENT 'Event time: when the respondent answered',
    received_at         DateTime64(3, 'UTC') COMMENT 'When ingest accepted the response',
    provider_message_id Nullable(String) COMMENT 'Twilio MessageSid or email Message-Id',
    kafka_partition     UInt16 COMMENT 'Kafka partition the record came from',
    kafka_offset        UInt64 COMMENT 'Kafka offset of the record',
    inserted_at         DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the processor wrote the row'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(responded_at)
ORDER BY (survey_id, response_id);

-- Hourly and daily counts per survey and channel. uniqExact over a hash of response_id makes
-- them idempotent: a row inserted twice is still counted once.
CREATE TABLE IF NOT EXISTS {database:Identifier}.responses_hourly
(
    survey_id  LowCardinality(String),
    channel    LowCardinality(String),
    hour       DateTime('UTC'),
    promoters  AggregateFunction(uniqExact, UInt64),
    passives   AggregateFunction(uniqExact, UInt64),
    detractors AggregateFunction(uniqExact, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (survey_id, hour, channel);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.responses_hourly_mv
TO {database:Identifier}.responses_hourly AS
SELECT
    survey_id,
    channel,
    toStartOfHour(responded_at) AS hour,
    uniqExactStateIf(sipHash64(response_id), category = 'promoter') AS promoters,
    uniqExactStateIf(sipHash64(response_id), category = 'passive') AS passives,
    uniqExactStateIf(sipHash64(response_id), category = 'detractor') AS detractors
FROM {database:Identifier}.responses
GROUP BY survey_id, channel, hour;

CREATE TABLE IF NOT EXISTS {database:Identifier}.responses_daily
(
    survey_id  LowCardinality(String),
    channel    LowCardinality(String),
    day        Date,
    promoters  AggregateFunction(uniqExact, UInt64),
    passives   AggregateFunction(uniqExact, UInt64),
    detractors AggregateFunction(uniqExact, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (survey_id, day, channel);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.responses_daily_mv
TO {database:Identifier}.responses_daily AS
SELECT
    survey_id,
    channel,
    toDate(responded_at) AS day,
    uniqExactStateIf(sipHash64(response_id), category = 'promoter') AS promoters,
    uniqExactStateIf(sipHash64(response_id), category = 'passive') AS passives,
    uniqExactStateIf(sipHash64(response_id), category = 'detractor') AS detractors
FROM {database:Identifier}.responses
GROUP BY survey_id, channel, day;
