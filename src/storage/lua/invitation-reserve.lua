-- Reserves one invitation: created (marking its respondent), found again (a retry), throttled
-- (its respondent was contacted within the recontact window) or in conflict (its id names another
-- invitation). Checks and sets the recontact mark in one step, so two processes inviting one
-- person at once let only one through.
--
-- KEYS[1]  the invitation (inv:<invitationId>) = "<fingerprint>|<created ms>"
-- KEYS[2]  the recontact mark (recontact:<respondentId>; any key when there is no respondent)
-- ARGV[1]  fingerprint
-- ARGV[2]  now, ms
-- ARGV[3]  recontact window, ms (0: off)
-- ARGV[4]  invitation ttl, ms
-- ARGV[5]  invitation id
-- ARGV[6]  '1' when there is a respondent
-- Reply: { code, ms }: CREATED with now, EXISTING with the first creation, THROTTLED with the end
-- of the window, CONFLICT with 0.
--
-- Reply codes are owned by src/storage/invitation-marks.ts; loading checks these lines.
local CREATED = 1
local EXISTING = 2
local THROTTLED = 3
local CONFLICT = 4

local existing = redis.call('GET', KEYS[1])
if existing then
  local fp, created = string.match(existing, '^(.*)|(%d+)$')
  if fp ~= ARGV[1] then return { CONFLICT, '0' } end
  return { EXISTING, created }
end
local now, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local watched = ARGV[6] == '1' and window > 0
if watched then
  local mark = redis.call('GET', KEYS[2])
  local at = mark and tonumber(string.match(mark, '|(%d+)$'))
  if at and at + window > now then return { THROTTLED, string.format('%d', at + window) } end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[4])
if watched then redis.call('SET', KEYS[2], ARGV[5] .. '|' .. ARGV[2], 'PX', window) end
return { CREATED, ARGV[2] }
