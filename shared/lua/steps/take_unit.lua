-- Step (inlined where a script says `--! include take_unit`): take one unit of a mitra's
-- capacity, if it is online (fresh heartbeat) and below its capacity, and keep
-- presence:available right in the same step. Pairing's accept (claim.lua) and an operator's
-- reroute (reroute_claim.lua) both take their unit through this one rule, so a reroute and
-- an accept racing for a mitra's last unit are serialized by Valkey and the mitra never
-- exceeds its capacity.
--   heartbeats    presence:heartbeats  zset  mitra id -> last heartbeat, epoch ms
--   available     presence:available   zset  online mitras below capacity
--   load_key      presence:load        hash  mitra id -> sessions held
--   capacity_key  presence:capacity    hash  mitra id -> max customers (absent = default)
--   cutoff        fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- Returns 'claimed' (the unit is taken) | 'not_online' | 'at_capacity' (nothing written).
local function take_unit(heartbeats, available, load_key, capacity_key, mitra_id, cutoff,
                         default_capacity)
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
end
