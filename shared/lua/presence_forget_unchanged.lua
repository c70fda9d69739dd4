-- Remove heartbeat-set members PostgreSQL says are offline, but only those whose score is
-- still the one the caller read: a member refreshed meanwhile (a toggle back on, a
-- heartbeat) is left for the next reconciliation to look at again.
--
-- KEYS[1]  presence:heartbeats  zset: mitra id -> last heartbeat, epoch milliseconds
-- KEYS[2]  presence:available   zset: the online mitras below capacity (removed ones leave it)
-- ARGV     pairs: member, score as read (epoch milliseconds)
--
-- Returns the number of members removed.
local heartbeats, available = KEYS[1], KEYS[2]

local removed = 0
for i = 1, #ARGV, 2 do
  local member = ARGV[i]
  local seen = tonumber(ARGV[i + 1])
  local score = redis.call('ZSCORE', heartbeats, member)
  if score and tonumber(score) == seen then
    removed = removed + redis.call('ZREM', heartbeats, member)
    redis.call('ZREM', available, member)
  end
end
return removed
