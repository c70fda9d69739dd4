-- Remove heartbeat-set members PostgreSQL says are offline, but only those whose score is
-- still the one the caller read: a member refreshed meanwhile (a toggle back on, a
-- heartbeat) is left for the next reconciliation to look at again.
--
-- KEYS[1]  presence:heartbeats  zset: mitra id -> last heartbeat, epoch milliseconds
-- ARGV     pairs: member, score as read (epoch milliseconds)
--
-- Returns the number of members removed.
local heartbeats = KEYS[1]

local removed = 0
for i = 1, #ARGV, 2 do
  local member = ARGV[i]
  local seen = tonumber(ARGV[i + 1])
  local score = redis.call('ZSCORE', heartbeats, member)
  if score and tonumber(score) == seen then
    removed = removed + redis.call('ZREM', heartbeats, member)
  end
end
return removed
