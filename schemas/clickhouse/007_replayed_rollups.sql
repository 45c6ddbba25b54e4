-- A replay sends ClickHouse only rows above the partition's stored offset fence, so that the base
-- table holds each response once. The rollups are filled by materialized views in a second step
-- of the same insert, which a crash (kill -9) can cut off after the base rows are stored. So the
-- processor sends the rows it skipped here: a table that keeps nothing, whose views add their
-- uniqExact states to the same rollups, where a response counted twice still counts once.
CREATE TABLE IF NOT EXISTS {database:Identifier}.responses_replayed
(
    response_id         String,
    survey_id           LowCardinality(String),
    channel             LowCardinality(String),
    score               UInt8,
    category            LowCardinality(String),
    comment             Nullable(String),
    locale              LowCardinality(Nullable(String)),
    language            LowCardinality(Nullable(String)),
    themes              Array(LowCardinality(String)),
    taxonomy_version    LowCardinality(String),
    respondent_id       Nullable(String),
    segment             Map(String, String),
    responded_at        DateTime64(3, 'UTC'),
    received_at         DateTime64(3, 'UTC'),
    provider_message_id Nullable(String),
    kafka_partition     UInt16,
    kafka_offset        UInt64
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.responses_replayed_hourly_mv
TO {database:Identifier}.responses_hourly AS
SELECT
    survey_id,
    channel,
    toStartOfHour(responded_at) AS hour,
    uniqExactStateIf(sipHash64(response_id), category = 'promoter') AS promoters,
    uniqExactStateIf(sipHash64(response_id), category = 'passive') AS passives,
    uniqExactStateIf(sipHash64(response_id), category = 'detractor') AS detractors
FROM {database:Identifier}.responses_replayed
GROUP BY survey_id, channel, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.responses_replayed_daily_mv
TO {database:Identifier}.responses_daily AS
SELECT
    survey_id,
    channel,
    toDate(responded_at) AS day,
    uniqExactStateIf(sipHash64(response_id), category = 'promoter') AS promoters,
    uniqExactStateIf(sipHash64(response_id), category = 'passive') AS passives,
    uniqExactStateIf(sipHash64(response_id), category = 'detractor') AS detractors
FROM {database:Identifier}.responses_replayed
GROUP BY survey_id, channel, day;
