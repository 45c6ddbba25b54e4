-- Every change people make to a case, append-only: who (the API key's name), when, and what
-- (a status, an assignee, a note). A case's state is its opened row folded with its changes in
-- time order. A retried PATCH with the same Idempotency-Key has the same change_id and folds
-- into the first row (reads use FINAL), so a note is never kept twice.
CREATE TABLE IF NOT EXISTS {database:Identifier}.case_changes
(
    change_id    String COMMENT 'Derived from the Idempotency-Key when given, else random',
    case_id      String,
    survey_id    LowCardinality(String),
    changed_by   String COMMENT 'Name of the API key that made the change',
    at           DateTime64(3, 'UTC') COMMENT 'When it was made; strictly increasing per case',
    status       LowCardinality(String) COMMENT 'open, contacted or resolved; empty when unchanged',
    assignee_set UInt8 COMMENT '1 when the change sets the assignee',
    assignee     String COMMENT 'The assignee set; empty for none',
    note         Nullable(String) COMMENT 'A note added; null for none'
)
ENGINE = ReplacingMergeTree
ORDER BY (case_id, change_id);
