-- Stores shift detectors' new states and the shifts they found, all or nothing: only when every
-- state is still at the version it was read at (compare-and-set over several keys).
--
-- KEYS[1]       the pending shifts hash (shifts:pending)
-- KEYS[2..n+1]  the detectors' state keys (shift:<detector>), JSON {"v": version, "s": state}
-- ARGV[1]       n
-- then per state key: the version it was read at (0: absent), its new JSON
-- then the shift count, and per shift: its id, its JSON, its shift-last key
-- Reply: SHIFTS_STORED, or SHIFTS_CONFLICT when a state changed (nothing written).
--
-- Reply codes are owned by src/storage/shift-detectors.ts; loading checks these lines.
local SHIFTS_STORED = 1
local SHIFTS_CONFLICT = 0

local n = tonumber(ARGV[1])
for k = 1, n do
  local raw = redis.call('GET', KEYS[k + 1])
  local version = 0
  if raw then version = tonumber(cjson.decode(raw).v) end
  if version ~= tonumber(ARGV[2 * k]) then return SHIFTS_CONFLICT end
end
for k = 1, n do redis.call('SET', KEYS[k + 1], ARGV[2 * k + 1]) end
local i = 2 * n + 2
local m = tonumber(ARGV[i])
for s = 1, m do
  redis.call('HSET', KEYS[1], ARGV[i + 1], ARGV[i + 2])
  redis.call('SET', ARGV[i + 3], ARGV[i + 2])
  i = i + 3
end
return SHIFTS_STORED
