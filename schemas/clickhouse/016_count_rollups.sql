-- Rollups hold counts, not response ids: a bucket costs the same whether it holds ten responses
-- or ten million. Counts are not idempotent, so each rollup row also names the Kafka partition its
-- responses came from and the highest offset among them: the rollup's own fence. After a crash
-- that cut an insert off between the base rows and the rollups, the processor sends each rollup
-- exactly the stored rows above that rollup's fence (through a Null table per rollup), never a
-- row twice. Fences are per month, like the tables' partitions: one insert writes one part per
-- month, and each part lands whole or not at all.
--
-- Erasure deletes base rows and records each deleted response in rollup_corrections, which reads
-- subtract for the rows a rollup had counted (offset at or below its fence).
--
-- Existing rollups are rebuilt from the base table (its FINAL view: rows stored twice before the
-- offset fence existed count once).

DROP VIEW IF EXISTS {database:Identifier}.responses_hourly_mv;
DROP VIEW IF EXISTS {database:Identifier}.responses_daily_mv;
DROP VIEW IF EXISTS {database:Identifier}.responses_replayed_hourly_mv;
DROP VIEW IF EXISTS {database:Identifier}.responses_replayed_daily_mv;
DROP TABLE IF EXISTS {database:Identifier}.responses_replayed;
DROP TABLE IF EXISTS {database:Identifier}.responses_hourly;
DROP TABLE IF EXISTS {database:Identifier}.responses_daily;

CREATE TABLE IF NOT EXISTS {database:Identifier}.responses_hourly
(
    survey_id       LowCardinality(String) COMMENT 'Survey',
    channel         LowCardinality(String) COMMENT 'web, sms or email',
    hour            DateTime('UTC') COMMENT 'Start of the hour the responses were given in (responded_at)',
    kafka_topic     LowCardinality(String) COMMENT 'Kafka topic the counted responses came from',
    kafka_partition UInt16 COMMENT 'Kafka partition the counted responses came from',
    promoters       SimpleAggregateFunction(sum, UInt64) COMMENT 'Scores 9-10; add with sum()',
    passives        SimpleAggregateFunction(sum, UInt64) COMMENT 'Scores 7-8; add with sum()',
    detractors      SimpleAggregateFunction(sum, UInt64) COMMENT 'Scores 0-6; add with sum()',
    kafka_offset    SimpleAggregateFunction(max, UInt64) COMMENT 'Highest offset counted: the rollup''s fence'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (survey_id, hour, channel, kafka_topic, kafka_partition);

CREATE TABLE IF NOT EXISTS {database:Identifier}.responses_daily
(
    survey_id       LowCardinality(String) COMMENT 'Survey',
    channel         LowCardinality(String) COMMENT 'web, sms or email',
    day             Date COMMENT 'UTC day the responses were given on (responded_at)',
    kafka_topic     LowCardinality(String) COMMENT 'Kafka topic the counted responses came from',
    kafka_partition UInt16 COMMENT 'Kafka partition the counted responses came from',
    promoters       SimpleAggregateFunction(sum, UInt64) COMMENT 'Scores 9-10; add with sum()',
    passives        SimpleAggregateFunction(sum, UInt64) COMMENT 'Scores 7-8; add with sum()',
    detractors      SimpleAggregateFunction(sum, UInt64) COMMENT 'Scores 0-6; add with sum()',
    kafka_offset    SimpleAggregateFunction(max, UInt64) COMMENT 'Highest offset counted: the rollup''s fence'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (survey_id, day, channel, kafka_topic, kafka_partition);

-- What a replay sends to one rollup only: tables that keep nothing.
CREATE TABLE IF NOT EXISTS {database:Identifier}.responses_replayed_hourly
(
    survey_id       LowCardinality(String),
    channel         LowCardinality(String),
    category        LowCardinality(String),
    responded_at    DateTime64(3, 'UTC'),
    kafka_topic     LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset    UInt64
)
ENGINE = Null;

CREATE TABLE IF NOT EXISTS {database:Identifier}.responses_replayed_daily
(
    survey_id       LowCardinality(String),
    channel         LowCardinality(String),
    category        LowCardinality(String),
    responded_at    DateTime64(3, 'UTC'),
    kafka_topic     LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset    UInt64
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.responses_hourly_mv
TO {database:Identifier}.responses_hourly AS
SELECT survey_id, channel, toStartOfHour(responded_at) AS hour, kafka_topic, kafka_partition,
       countIf(category = 'promoter') AS promoters, countIf(category = 'passive') AS passives,
       countIf(category = 'detractor') AS detractors, max(kafka_offset) AS kafka_offset
FROM {database:Identifier}.responses
GROUP BY survey_id, channel, hour, kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.responses_daily_mv
TO {database:Identifier}.responses_daily AS
SELECT survey_id, channel, toDate(responded_at) AS day, kafka_topic, kafka_partition,
       countIf(category = 'promoter') AS promoters, countIf(category = 'passive') AS passives,
       countIf(category = 'detractor') AS detractors, max(kafka_offset) AS kafka_offset
FROM {database:Identifier}.responses
GROUP BY survey_id, channel, day, kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.responses_replayed_hourly_mv
TO {database:Identifier}.responses_hourly AS
SELECT survey_id, channel, toStartOfHour(responded_at) AS hour, kafka_topic, kafka_partition,
       countIf(category = 'promoter') AS promoters, countIf(category = 'passive') AS passives,
       countIf(category = 'detractor') AS detractors, max(kafka_offset) AS kafka_offset
FROM {database:Identifier}.responses_replayed_hourly
GROUP BY survey_id, channel, hour, kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.responses_replayed_daily_mv
TO {database:Identifier}.responses_daily AS
SELECT survey_id, channel, toDate(responded_at) AS day, kafka_topic, kafka_partition,
       countIf(category = 'promoter') AS promoters, countIf(category = 'passive') AS passives,
       countIf(category = 'detractor') AS detractors, max(kafka_offset) AS kafka_offset
FROM {database:Identifier}.responses_replayed_daily
GROUP BY survey_id, channel, day, kafka_topic, kafka_partition;

CREATE TABLE IF NOT EXISTS {database:Identifier}.rollup_corrections
(
    survey_id       LowCardinality(String) COMMENT 'Survey of the erased response',
    response_id     String COMMENT 'The erased response',
    channel         LowCardinality(String),
    category        LowCardinality(String),
    responded_at    DateTime64(3, 'UTC'),
    kafka_topic     LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset    UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (survey_id, response_id);

INSERT INTO {database:Identifier}.responses_hourly
SELECT survey_id, channel, toStartOfHour(responded_at) AS hour, kafka_topic, kafka_partition,
       countIf(category = 'promoter'), countIf(category = 'passive'),
       countIf(category = 'detractor'), max(kafka_offset)
FROM {database:Identifier}.responses FINAL
GROUP BY survey_id, channel, hour, kafka_topic, kafka_partition;

INSERT INTO {database:Identifier}.responses_daily
SELECT survey_id, channel, toDate(responded_at) AS day, kafka_topic, kafka_partition,
       countIf(category = 'promoter'), countIf(category = 'passive'),
       countIf(category = 'detractor'), max(kafka_offset)
FROM {database:Identifier}.responses FINAL
GROUP BY survey_id, channel, day, kafka_topic, kafka_partition;

-- For data teams: exact counts per survey, channel and hour or day, erasures subtracted.
CREATE VIEW IF NOT EXISTS {database:Identifier}.history_hourly AS
SELECT survey_id, channel, hour, sum(p) AS promoters, sum(s) AS passives, sum(d) AS detractors,
       sum(p) + sum(s) + sum(d) AS responses
FROM (
    SELECT survey_id, channel, hour, toInt64(promoters) AS p, toInt64(passives) AS s,
           toInt64(detractors) AS d
    FROM {database:Identifier}.responses_hourly
    UNION ALL
    SELECT c.survey_id, c.channel, toStartOfHour(c.responded_at), -toInt64(c.category = 'promoter'),
           -toInt64(c.category = 'passive'), -toInt64(c.category = 'detractor')
    FROM {database:Identifier}.rollup_corrections AS c FINAL
    INNER JOIN (
        SELECT kafka_topic, kafka_partition, toYYYYMM(hour) AS m, max(kafka_offset) AS fence
        FROM {database:Identifier}.responses_hourly GROUP BY kafka_topic, kafka_partition, m
    ) AS f
    ON c.kafka_topic = f.kafka_topic AND c.kafka_partition = f.kafka_partition
       AND toYYYYMM(c.responded_at) = f.m
    WHERE c.kafka_offset <= f.fence
)
GROUP BY survey_id, channel, hour
HAVING responses > 0;

CREATE VIEW IF NOT EXISTS {database:Identifier}.history_daily AS
SELECT survey_id, channel, day, sum(p) AS promoters, sum(s) AS passives, sum(d) AS detractors,
       sum(p) + sum(s) + sum(d) AS responses
FROM (
    SELECT survey_id, channel, day, toInt64(promoters) AS p, toInt64(passives) AS s,
           toInt64(detractors) AS d
    FROM {database:Identifier}.responses_daily
    UNION ALL
    SELECT c.survey_id, c.channel, toDate(c.responded_at), -toInt64(c.category = 'promoter'),
           -toInt64(c.category = 'passive'), -toInt64(c.category = 'detractor')
    FROM {database:Identifier}.rollup_corrections AS c FINAL
    INNER JOIN (
        SELECT kafka_topic, kafka_partition, toYYYYMM(day) AS m, max(kafka_offset) AS fence
        FROM {database:Identifier}.responses_daily GROUP BY kafka_topic, kafka_partition, m
    ) AS f
    ON c.kafka_topic = f.kafka_topic AND c.kafka_partition = f.kafka_partition
       AND toYYYYMM(c.responded_at) = f.m
    WHERE c.kafka_offset <= f.fence
)
GROUP BY survey_id, channel, day
HAVING responses > 0;
