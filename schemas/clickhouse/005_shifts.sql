-- NPS shifts found by the stream processor's detectors (src/domain/shift.ts), one row per shift.
-- The processor inserts a shift again when it crashed after the insert and before it forgot the
-- shift in Redis; the repeat has the same shift_id and folds into the first row (read with FINAL,
-- a small table).
CREATE TABLE IF NOT EXISTS {database:Identifier}.shifts
(
    shift_id               String COMMENT 'Stable id of the shift',
    survey_id              String,
    channel                LowCardinality(String) COMMENT 'web, sms or email; empty for all channels together',
    direction              LowCardinality(String) COMMENT 'up or down',
    `before`               Float64 COMMENT 'NPS of the baseline before the change, points',
    `after`                Float64 COMMENT 'NPS of the answers since the change, points',
    detected_at            DateTime64(3, 'UTC') COMMENT 'Receipt time of the answer that made the change evident',
    responses_since_change UInt32 COMMENT 'Answers since the estimated start of the change',
    inserted_at            DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (survey_id, shift_id);
