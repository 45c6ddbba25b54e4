-- Begins erasing a respondent: marks them erased up to now, or up to the latest receivedAt in
-- their index (so a clock behind ingest's cannot leave an indexed record outside the cut), or up
-- to an earlier cut if that is later, and counts the erasure.
--
-- KEYS[1]  the respondent's erased mark (erased:<tag>)
-- KEYS[2]  the respondent index (resp:<respondentId>)
-- KEYS[3]  the erasure counter (erasures)
-- ARGV[1]  now, ms
-- Reply: { cut (ms, a string), the index as HGETALL returns it }

local cut = tonumber(ARGV[1])
local entries = redis.call('HGETALL', KEYS[2])
for e = 2, #entries, 2 do
  local received = tonumber(string.match(entries[e], '^[^\t]*\t[^\t]*\t[^\t]*\t([^\t]*)'))
  if received and received > cut then cut = received end
end
local before = tonumber(redis.call('GET', KEYS[1]) or '0')
if before > cut then cut = before end
redis.call('SET', KEYS[1], string.format('%d', cut))
redis.call('INCR', KEYS[3])
return { string.format('%d', cut), entries }
