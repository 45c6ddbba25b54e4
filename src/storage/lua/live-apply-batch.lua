-- Applies one Kafka partition's records to the live windows, atomically with its offset fence.
--
-- KEYS[1]  the partition's fence (fence:<topic>:<partition>)
-- KEYS[2]  the erasure counter (erasures)
-- ARGV[1]  first-copy mark ttl, seconds
-- ARGV[2]  record count n
-- ARGV[3]  segment values tracked per survey and key
-- then per record:
--   seen key, mark ("partition:offset"), offset, category field (p, s or d),
--   erased key or '', received at (ms),
--   respondent index key or '', index field (responseId), index value, index expire-at (s),
--   bucket count, then (bucket key, expire-at s) pairs,
--   segment count, then (encoded key, tracked-values set key, encoded value) triples
-- Reply: per record one outcome code below, then the erasure counter (n + 1 entries).
--
-- Outcome codes and the `other` segment value are owned by src/storage/live-windows.ts and
-- src/domain/segment.ts; loading this script checks these lines against them.
local FIRST_COPY = 1
local REPEAT = 0
local ERASED = 2
local FIRST_COPY_REPLAYED = 3
local OTHER_SEGMENT = 'other'

local fence = tonumber(redis.call('GET', KEYS[1]) or '-1')
local ttl = ARGV[1]
local n = tonumber(ARGV[2])
local maxValues = tonumber(ARGV[3])
local i = 4
local out = {}
local incr = {}
local expiry = {}
local top = fence
for r = 1, n do
  local seenKey, mark, offset, field = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local erasedKey, receivedAt = ARGV[i + 4], tonumber(ARGV[i + 5])
  local indexKey, indexField, indexValue, indexAt = ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], tonumber(ARGV[i + 9])
  local nb = tonumber(ARGV[i + 10])
  local s = i + 11 + 2 * nb
  local ns = tonumber(ARGV[s])
  local erased = false
  if erasedKey ~= '' then
    local cut = redis.call('GET', erasedKey)
    erased = cut ~= false and receivedAt <= tonumber(cut)
  end
  if erased then
    out[r] = ERASED
  else
    local first = redis.call('SET', seenKey, mark, 'NX', 'EX', ttl)
    if first then first = true else first = (redis.call('GET', seenKey) == mark) end
    if not first then
      out[r] = REPEAT
    elseif offset <= fence then
      out[r] = FIRST_COPY_REPLAYED
    else
      out[r] = FIRST_COPY
      -- Each segment value is mapped here, once: tracked already, admitted while there is room,
      -- else other. Too old to count anywhere (no buckets): nothing to admit.
      local tags = {}
      if nb > 0 and ns > 0 then
        -- The set lives as long as the longest-lived bucket it decided for.
        local lastAt = 0
        for b = 1, nb do
          local at = tonumber(ARGV[i + 10 + 2 * b])
          if lastAt < at then lastAt = at end
        end
        for d = 1, ns do
          local encKey, setKey, value = ARGV[s + 3 * d - 2], ARGV[s + 3 * d - 1], ARGV[s + 3 * d]
          local mapped = OTHER_SEGMENT
          if value ~= OTHER_SEGMENT then
            if redis.call('SISMEMBER', setKey, value) == 1 then
              mapped = value
            elseif redis.call('SCARD', setKey) < maxValues then
              redis.call('SADD', setKey, value)
              mapped = value
            end
          end
          tags[d] = encKey .. '=' .. mapped
          if (expiry[setKey] or 0) < lastAt then expiry[setKey] = lastAt end
        end
      end
      local j = i + 11
      for b = 1, nb do
        local key, at = ARGV[j], tonumber(ARGV[j + 1])
        incr[key] = incr[key] or {}
        incr[key][field] = (incr[key][field] or 0) + 1
        if (expiry[key] or 0) < at then expiry[key] = at end
        for _, tag in ipairs(tags) do
          local sliced = key .. ':' .. tag
          incr[sliced] = incr[sliced] or {}
          incr[sliced][field] = (incr[sliced][field] or 0) + 1
          if (expiry[sliced] or 0) < at then expiry[sliced] = at end
        end
        j = j + 2
      end
      if indexKey ~= '' and nb > 0 then
        local entry = indexValue
        for _, tag in ipairs(tags) do entry = entry .. '\t' .. tag end
        redis.call('HSET', indexKey, indexField, entry)
        if (expiry[indexKey] or 0) < indexAt then expiry[indexKey] = indexAt end
      end
    end
  end
  if offset > top then top = offset end
  i = s + 1 + 3 * ns
end
for key, fields in pairs(incr) do
  for field, count in pairs(fields) do redis.call('HINCRBY', key, field, count) end
end
for key, at in pairs(expiry) do
  if redis.call('EXPIRETIME', key) < at then redis.call('EXPIREAT', key, at) end
end
if top > fence then redis.call('SET', KEYS[1], string.format('%d', top)) end
out[n + 1] = tonumber(redis.call('GET', KEYS[2]) or '0')
return out
