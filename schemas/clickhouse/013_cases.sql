-- Follow-up cases: one row per response the case rule (NPS_CASE_RULE) matches, written by the
-- stream processor before the response's history row. A replay writes the same row again, with
-- the same case_id and the same values (all derived from the response), and it folds into the
-- first one; reads use FINAL (a small table), so they are exact before any merge. What people
-- change on a case is kept apart, in case_changes (014).
CREATE TABLE IF NOT EXISTS {database:Identifier}.cases
(
    case_id       String COMMENT 'Derived from survey and response id: the same response opens the same case',
    survey_id     LowCardinality(String),
    response_id   String,
    channel       LowCardinality(String) COMMENT 'web, sms or email',
    score         UInt8,
    comment       Nullable(String) COMMENT 'The response comment, contacts masked',
    themes        Array(LowCardinality(String)) COMMENT 'Themes the processor tagged',
    respondent_id Nullable(String) COMMENT 'Pseudonymous respondent id (keyed HMAC)',
    responded_at  DateTime64(3, 'UTC') COMMENT 'When the respondent answered',
    opened_at     DateTime64(3, 'UTC') COMMENT 'When ingest accepted the response',
    due_at        DateTime64(3, 'UTC') COMMENT 'opened_at + NPS_CASE_SLA_HOURS at opening',
    inserted_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (survey_id, case_id);
