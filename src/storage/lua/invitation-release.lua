-- Takes back what invitation-reserve created, each key only while it still holds the value the
-- reservation set, so a rollback never removes a later contact's mark.
--
-- KEYS[1]  the invitation (inv:<invitationId>)
-- KEYS[2]  the recontact mark (recontact:<respondentId>)
-- ARGV[1]  the invitation's value as reserved
-- ARGV[2]  the recontact mark's value as reserved ('' when there was none)
-- Reply: 0.

if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 0
