-- Step (inlined where a script says `--! include release_unit`): give back one unit of a
-- mitra's capacity, never below zero, and put the mitra back in presence:available (with
-- its heartbeat score) when it is still online and now below capacity, in the same step,
-- so the set never disagrees with load and capacity. A session that ends or moves
-- (release_load.lua) and a claim whose match failed (unclaim.lua) release through this.
--   heartbeats    presence:heartbeats  zset  mitra id -> last heartbeat, epoch ms
--   available     presence:available   zset  online mitras below capacity
--   load_key      presence:load        hash  mitra id -> sessions held
--   capacity_key  presence:capacity    hash  mitra id -> max customers (absent = default)
-- Returns the load afterwards.
local function release_unit(heartbeats, available, load_key, capacity_key, mitra_id,
                            default_capacity)
  local held = tonumber(redis.call('HGET', load_key, mitra_id)) or 0
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
end
