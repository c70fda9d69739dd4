-- Recompute whether each given mitra belongs in presence:available, from the truth the
-- other hashes hold: a member iff it is in presence:heartbeats (online; freshness stays
-- lazy, so it keeps its heartbeat score) and its load is below its capacity. Atomic per
-- call, so it never undoes a change made meanwhile: it reads the state it writes from.
--
-- KEYS[1]  presence:heartbeats  zset  mitra id -> last heartbeat, epoch ms
-- KEYS[2]  presence:available   zset  mitra id -> last heartbeat, epoch ms
-- KEYS[3]  presence:load        hash  mitra id -> sessions held
-- KEYS[4]  presence:capacity    hash  mitra id -> max customers (absent = default)
-- ARGV[1]  default capacity (settings.max_customers_per_mitra)
-- ARGV[2..] mitra ids
-- Returns the number of mitras whose membership (or score) changed.
local heartbeats, available, load_key, capacity_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local default_capacity = tonumber(ARGV[1])

local changed = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local beat = redis.call('ZSCORE', heartbeats, id)
  local held = tonumber(redis.call('HGET', load_key, id)) or 0
  local capacity = tonumber(redis.call('HGET', capacity_key, id)) or default_capacity
  if beat and held < capacity then
    if redis.call('ZSCORE', available, id) ~= beat then
      redis.call('ZADD', available, beat, id)
      changed = changed + 1
    end
  else
    changed = changed + redis.call('ZREM', available, id)
  end
end
return changed
