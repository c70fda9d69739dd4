-- Claim a searching request for one mitra and take one unit of that mitra's capacity,
-- atomically: exactly one mitra wins a request, and no mitra ever exceeds its capacity,
-- however many accepts arrive at the same instant. A request is offered to every mitra
-- available while it searches (docs/pairing.md), so eligibility is checked here, not at
-- blast time: not declined by the mitra, not the mitra a reroute moves away from, then the
-- capacity rule every claim shares (steps/take_unit.lua: fresh heartbeat, load below
-- capacity, presence:available kept right in the same step).
--
-- KEYS[1]  pairing:req:<id>             hash  status, expires_at (epoch ms), exclude, ...
-- KEYS[2]  pairing:req:<id>:declined    set   mitra ids that declined the request
-- KEYS[3]  presence:heartbeats          zset  mitra id -> last heartbeat, epoch ms
-- KEYS[4]  presence:available           zset  online mitras below capacity
-- KEYS[5]  presence:load                hash  mitra id -> sessions held
-- KEYS[6]  presence:capacity            hash  mitra id -> max customers (absent = default)
-- ARGV[1]  mitra id
-- ARGV[2]  now, epoch ms
-- ARGV[3]  fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- ARGV[4]  default capacity
-- Returns one code: claimed | unknown | not_offered | already_taken | expired | not_online
--                   | at_capacity. Only `claimed` changes anything.
local request_key, declined_key, heartbeats, available, load_key, capacity_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local mitra_id, now = ARGV[1], tonumber(ARGV[2])
local cutoff, default_capacity = tonumber(ARGV[3]), tonumber(ARGV[4])
--! include take_unit

local state = redis.call('HMGET', request_key, 'status', 'expires_at', 'exclude')
local status, expires_at, exclude = state[1], tonumber(state[2]), state[3]
if not status then
  return 'unknown'
end
if exclude == mitra_id or redis.call('SISMEMBER', declined_key, mitra_id) == 1 then
  return 'not_offered'
end
if status == 'claimed' or status == 'matched' then
  return 'already_taken'
end
if status ~= 'searching' or now >= expires_at then
  return 'expired'
end
local taken = take_unit(heartbeats, available, load_key, capacity_key, mitra_id, cutoff,
                        default_capacity)
if taken == 'claimed' then
  redis.call('HSET', request_key, 'status', 'claimed', 'mitra_id', mitra_id, 'claimed_at', now)
end
return taken
