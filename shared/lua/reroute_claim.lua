-- Take one unit of a named mitra's capacity for a session an operator reroutes to it,
-- atomically with the presence and capacity checks: the same checks, in the same order and
-- on the same keys, as the tail of claim.lua (pairing's accept). Both scripts run atomically
-- in Valkey, so a reroute and an accept racing for a mitra's last unit are serialized and
-- the mitra never exceeds its capacity. presence:available is kept right in the same step.
--
-- KEYS[1]  presence:heartbeats          zset  mitra id -> last heartbeat, epoch ms
-- KEYS[2]  presence:load                hash  mitra id -> sessions held
-- KEYS[3]  presence:capacity            hash  mitra id -> max customers (absent = default)
-- KEYS[4]  presence:available           zset  online mitras below capacity
-- ARGV[1]  mitra id
-- ARGV[2]  fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- ARGV[3]  default capacity
-- Returns one code: claimed | not_online | at_capacity. Only `claimed` changes anything
-- (the caller gives the unit back with release_load.lua if the move then fails).
local heartbeats, load_key, capacity_key, available = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mitra_id = ARGV[1]
local cutoff, default_capacity = tonumber(ARGV[2]), tonumber(ARGV[3])

local heartbeat = tonumber(redis.call('ZSCORE', heartbeats, mitra_id))
if not heartbeat or heartbeat < cutoff then
  return 'not_online'
end
local held = tonumber(redis.call('HGET', load_key, mitra_id)) or 0
local capacity = tonumber(redis.call('HGET', capacity_key, mitra_id)) or default_capacity
if held >= capacity then
  return 'at_capacity'
end
redis.call('HINCRBY', load_key, mitra_id, 1)
if held + 1 >= capacity then
  redis.call('ZREM', available, mitra_id)
end
return 'claimed'
