-- Takes up to ARGV[2] jobs due at ARGV[1] and leases them until ARGV[3] (their due time is
-- pushed there), so that another deliverer does not take them meanwhile; a deliverer killed
-- mid-attempt leaves its jobs to be taken again when the lease ends.
-- KEYS[1] due zset, KEYS[2] jobs hash
-- ARGV[1] now ms, ARGV[2] limit, ARGV[3] lease end ms
-- Reply: flat list member, job JSON (false when the job vanished).
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, member in ipairs(members) do
  redis.call('ZADD', KEYS[1], ARGV[3], member)
  table.insert(out, member)
  table.insert(out, redis.call('HGET', KEYS[2], member))
end
return out
