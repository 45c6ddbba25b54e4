-- The processor's ClickHouse fence is the highest stored offset of a partition of its topic: the
-- topic is kept with each row, so that a new topic (renamed, or deleted and created again, its
-- offsets starting over) is not taken for a replay of the old one. Rows stored before this
-- migration have an empty topic.
ALTER TABLE {database:Identifier}.responses
    ADD COLUMN IF NOT EXISTS kafka_topic LowCardinality(String) DEFAULT ''
        COMMENT 'Kafka topic the record came from' AFTER kafka_offset;

ALTER TABLE {database:Identifier}.responses_replayed
    ADD COLUMN IF NOT EXISTS kafka_topic LowCardinality(String) DEFAULT '' AFTER kafka_offset;
