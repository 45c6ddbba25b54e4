-- Invitation facts (created, opened) written by the stream processor from the invitations topic,
-- for the response-rate funnel. One row per (invitation, stage): a fact Kafka delivers again (a
-- replay, a retried invitation, two opens) repeats the same key and folds at the next merge, and
-- the funnel counts distinct invitation ids per stage, so repeats never count twice even before
-- that merge. "Responded" and "commented" are not stored: they are read from nps.responses at
-- query time (a link's response has responseId = invitationId), which stays exact under replay.
CREATE TABLE IF NOT EXISTS {database:Identifier}.invitations
(
    invitation_id   String,
    stage           LowCardinality(String) COMMENT 'created or opened',
    survey_id       String,
    channel         LowCardinality(String) COMMENT 'web, sms or email',
    respondent_id   Nullable(String) COMMENT 'Pseudonymous respondent id; null when anonymous',
    segment         Map(String, String),
    created_at      DateTime64(3, 'UTC') COMMENT 'First creation of the invitation (a retry keeps it)',
    expires_at      DateTime64(3, 'UTC') COMMENT 'The link is refused after this instant',
    at              DateTime64(3, 'UTC') COMMENT 'When this stage happened',
    kafka_partition UInt16,
    kafka_offset    UInt64,
    inserted_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (survey_id, invitation_id, stage);

-- Erasure finds one respondent's invitations without reading every part.
ALTER TABLE {database:Identifier}.invitations
    ADD INDEX IF NOT EXISTS invitation_respondent_idx respondent_id TYPE bloom_filter GRANULARITY 4;
