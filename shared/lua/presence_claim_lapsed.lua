-- Claim lapsed mitras for taking offline: remove from the heartbeat set the members whose
-- last heartbeat is older than the cutoff, and return them.
--
-- Atomic, so a heartbeat landing while a sweep runs either comes first (the member is fresh
-- and is not claimed) or finds the member gone (the mitra is offline and must toggle back
-- on); two sweepers never claim the same member, so each lapse is handled once.
--
-- KEYS[1]  presence:heartbeats  zset: mitra id -> last heartbeat, epoch milliseconds
-- KEYS[2]  presence:available   zset: the online mitras below capacity (claimed ones leave it)
-- ARGV[1]  cutoff, epoch milliseconds: members scored strictly below it have lapsed
-- ARGV[2]  claim at most this many members
-- ARGV[3..] optional: consider only these members (each claimed only if lapsed)
--
-- Returns a flat array {member, score, member, score, ...} of the claimed members.
local heartbeats, available = KEYS[1], KEYS[2]
local cutoff = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])

local claimed = {}
if #ARGV > 2 then
  for i = 3, #ARGV do
    local score = redis.call('ZSCORE', heartbeats, ARGV[i])
    if score and tonumber(score) < cutoff and #claimed < 2 * limit then
      claimed[#claimed + 1] = ARGV[i]
      claimed[#claimed + 1] = score
    end
  end
else
  claimed = redis.call('ZRANGEBYSCORE', heartbeats, '-inf', '(' .. cutoff,
                       'WITHSCORES', 'LIMIT', 0, limit)
end

for i = 1, #claimed, 2 do
  redis.call('ZREM', heartbeats, claimed[i])
  redis.call('ZREM', available, claimed[i])
end
return claimed
