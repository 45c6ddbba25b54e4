-- Adds jobs not delivered and not queued yet, so that an event the processor published
-- twice (a replay) or the deliverer consumed twice (a crash before its commit) is one job.
-- KEYS[1] due zset, KEYS[2] jobs hash
-- ARGV[1] done-key prefix; then per job: member, job JSON, due ms
-- Reply: the number of jobs added.
local added = 0
for i = 2, #ARGV, 3 do
  local member = ARGV[i]
  if redis.call('EXISTS', ARGV[1] .. member) == 0 and redis.call('HEXISTS', KEYS[2], member) == 0 then
    redis.call('HSET', KEYS[2], member, ARGV[i + 1])
    redis.call('ZADD', KEYS[1], ARGV[i + 2], member)
    added = added + 1
  end
end
return added
