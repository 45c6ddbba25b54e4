-- Puts a failed job back, only while it is still queued (an erasure or a deletion may have
-- removed it during the attempt, and must not see it come back).
-- KEYS[1] due zset, KEYS[2] jobs hash
-- ARGV[1] member, ARGV[2] job JSON, ARGV[3] due ms
-- Reply: 1 when put back, 0 when gone.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
