-- Open a pairing request and choose whom to offer it to, in one round trip.
--
-- A mitra is offered the request iff it is online with a fresh heartbeat (its score in
-- presence:heartbeats is at or after the cutoff; suspension removes the member) and its
-- load is below its capacity (per-mitra override, else the default).
--
-- KEYS[1]  presence:heartbeats          zset  mitra id -> last heartbeat, epoch ms
-- KEYS[2]  presence:load                hash  mitra id -> sessions held
-- KEYS[3]  presence:capacity            hash  mitra id -> max customers (absent = default)
-- KEYS[4]  pairing:req:<id>             hash  the request's live state
-- KEYS[5]  pairing:req:<id>:offered     set   mitra ids offered the request
-- ARGV[1]  fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- ARGV[2]  default capacity (settings.max_customers_per_mitra)
-- ARGV[3]  client id
-- ARGV[4]  created at, epoch ms
-- ARGV[5]  expires at, epoch ms
-- ARGV[6]  key lifetime, ms (outlives the search window, so late accepts still get 410)
-- Returns the offered mitra ids; nothing is written when the list is empty.
local heartbeats, load_key, capacity_key, request_key, offered_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local cutoff = ARGV[1]
local default_capacity = tonumber(ARGV[2])
local client_id, created_at, expires_at, ttl = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])

local online = redis.call('ZRANGEBYSCORE', heartbeats, cutoff, '+inf')
local offered = {}
-- HMGET in slices: Lua's unpack has a stack limit of a few thousand values.
local slice = 1000
for first = 1, #online, slice do
  local ids = {}
  for i = first, math.min(first + slice - 1, #online) do
    ids[#ids + 1] = online[i]
  end
  local loads = redis.call('HMGET', load_key, unpack(ids))
  local capacities = redis.call('HMGET', capacity_key, unpack(ids))
  for i, id in ipairs(ids) do
    local held = tonumber(loads[i]) or 0
    local capacity = tonumber(capacities[i]) or default_capacity
    if held < capacity then
      offered[#offered + 1] = id
    end
  end
end

if #offered == 0 then
  return offered
end

redis.call('HSET', request_key, 'status', 'searching', 'client_id', client_id,
  'created_at', created_at, 'expires_at', expires_at)
for first = 1, #offered, slice do
  local ids = {}
  for i = first, math.min(first + slice - 1, #offered) do
    ids[#ids + 1] = offered[i]
  end
  redis.call('SADD', offered_key, unpack(ids))
end
redis.call('PEXPIRE', request_key, ttl)
redis.call('PEXPIRE', offered_key, ttl)
return offered
