-- Annotations: what changed when ("new courier from 1 March"), for before/after comparisons and
-- as markers on the trend. A deletion is a newer version of the row with deleted = 1, so a
-- repeated create or delete is harmless (ReplacingMergeTree on the id, newest version wins).
CREATE TABLE IF NOT EXISTS {database:Identifier}.annotations
(
    annotation_id String COMMENT 'Id given by the client (safe retries) or made by the service',
    survey_id     LowCardinality(String) COMMENT 'Survey the annotation belongs to',
    at            DateTime64(3, 'UTC') COMMENT 'When the change happened',
    label         String COMMENT 'What changed, in the words of whoever wrote it',
    created_by    String COMMENT 'Name of the API key that wrote it',
    created_at    DateTime64(3, 'UTC') COMMENT 'When it was written',
    deleted       UInt8 DEFAULT 0 COMMENT '1 once deleted',
    version       UInt64 COMMENT 'Milliseconds of the write; the newest version of an id wins'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (survey_id, annotation_id);
