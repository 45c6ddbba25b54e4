-- Moves a respondent's recontact mark to their answer, unless it holds a later contact already;
-- nothing when the window after the answer is over.
--
-- KEYS[1]  the recontact mark (recontact:<respondentId>)
-- ARGV[1]  answered at, ms
-- ARGV[2]  recontact window, ms
-- ARGV[3]  now, ms
-- Reply: 1 when the mark moved, else 0.

local at = tonumber(ARGV[1])
local mark = redis.call('GET', KEYS[1])
local before = mark and tonumber(string.match(mark, '|(%d+)$'))
if before and before >= at then return 0 end
local left = at + tonumber(ARGV[2]) - tonumber(ARGV[3])
if left <= 0 then return 0 end
redis.call('SET', KEYS[1], '|' .. ARGV[1], 'PX', string.format('%d', left))
return 1
