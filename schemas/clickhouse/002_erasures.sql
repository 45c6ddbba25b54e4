-- Erased respondents (GDPR Art. 17), kept for good: responses of theirs received up to
-- erased_before are deleted and never stored again, whenever Kafka replays them. The respondent
-- is remembered by a keyed hash, not by their id.
CREATE TABLE IF NOT EXISTS {database:Identifier}.erasures
(
    respondent_tag String COMMENT 'Keyed HMAC of the erased respondent id (not the id itself)',
    erased_before  DateTime64(3, 'UTC') COMMENT 'Responses received up to this instant are erased',
    requested_at   DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When the erasure was asked for'
)
ENGINE = ReplacingMergeTree(erased_before)
ORDER BY respondent_tag;

-- Finding one respondent's responses (erasure, "contact the critics") without reading every part.
ALTER TABLE {database:Identifier}.responses
    ADD INDEX IF NOT EXISTS respondent_idx respondent_id TYPE bloom_filter GRANULARITY 4;
