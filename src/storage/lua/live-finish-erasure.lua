-- Finishes erasing a respondent: takes each still-indexed record out of the buckets that still
-- exist (an expired bucket no longer counts in any window) and out of the index.
--
-- KEYS[1]  the respondent index (resp:<respondentId>)
-- ARGV[1]  record count n
-- then per record: index field (responseId), category field (p, s or d), bucket count, bucket keys
-- Reply: how many records it took out.

local n = tonumber(ARGV[1])
local i = 2
local removed = 0
for r = 1, n do
  local indexField, field, nb = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('HDEL', KEYS[1], indexField) == 1 then
    removed = removed + 1
    for b = 1, nb do
      local key = ARGV[i + 2 + b]
      if redis.call('EXISTS', key) == 1 then redis.call('HINCRBY', key, field, -1) end
    end
  end
  i = i + 3 + nb
end
return removed
