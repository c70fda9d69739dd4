-- Release one unit of a mitra's load, never below zero, and put the mitra back in
-- presence:available (with its heartbeat score) when it is still online and now below
-- capacity — in the same step, so the set never disagrees with load and capacity.
--
-- KEYS[1]  presence:load         hash  mitra id -> sessions held
-- KEYS[2]  presence:heartbeats   zset  mitra id -> last heartbeat, epoch ms
-- KEYS[3]  presence:capacity     hash  mitra id -> max customers (absent = default)
-- KEYS[4]  presence:available    zset  online mitras below capacity
-- ARGV[1]  mitra id
-- ARGV[2]  default capacity
-- Returns the load after release.
local load_key, heartbeats, capacity_key, available = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mitra_id, default_capacity = ARGV[1], tonumber(ARGV[2])

local held = tonumber(redis.call('HGET', load_key, mitra_id) or '0')
if held <= 1 then
  redis.call('HDEL', load_key, mitra_id)
  held = 0
else
  held = redis.call('HINCRBY', load_key, mitra_id, -1)
end
local beat = redis.call('ZSCORE', heartbeats, mitra_id)
local capacity = tonumber(redis.call('HGET', capacity_key, mitra_id)) or default_capacity
if beat and held < capacity then
  redis.call('ZADD', available, beat, mitra_id)
end
return held
