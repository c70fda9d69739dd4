-- The dashboard's live figures and the sweeper's last run, in one round trip.
--
-- A mitra is online iff its heartbeat is fresh (score at or after the cutoff: lazy expiry,
-- the same rule as pairing); available iff online and its load is below its capacity
-- (per-mitra override, else the default); busy iff online and at (or over) capacity.
-- Cost: O(online mitras) — one ZRANGEBYSCORE and two HMGETs per 1,000; about 1 ms at 5,000.
--
-- KEYS[1]  presence:heartbeats   zset  mitra id -> last heartbeat, epoch ms
-- KEYS[2]  presence:load         hash  mitra id -> sessions held
-- KEYS[3]  presence:capacity     hash  mitra id -> max customers (absent = default)
-- KEYS[4]  sweeper:last_run      hash  finished_at (ISO 8601), status, ...
-- ARGV[1]  fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- ARGV[2]  default capacity (settings.max_customers_per_mitra)
-- Returns {online, available, busy, sweeper finished_at or false, sweeper status or false}.
local heartbeats, load_key, capacity_key, last_run_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cutoff, default_capacity = ARGV[1], tonumber(ARGV[2])

local online = redis.call('ZRANGEBYSCORE', heartbeats, cutoff, '+inf')
local available, busy = 0, 0
-- HMGET in slices: Lua's unpack has a stack limit of a few thousand values.
local slice = 1000
for first = 1, #online, slice do
  local ids = {}
  for i = first, math.min(first + slice - 1, #online) do
    ids[#ids + 1] = online[i]
  end
  local loads = redis.call('HMGET', load_key, unpack(ids))
  local capacities = redis.call('HMGET', capacity_key, unpack(ids))
  for i = 1, #ids do
    local held = tonumber(loads[i]) or 0
    local capacity = tonumber(capacities[i]) or default_capacity
    if held < capacity then
      available = available + 1
    else
      busy = busy + 1
    end
  end
end

local last_run = redis.call('HMGET', last_run_key, 'finished_at', 'status')
return {#online, available, busy, last_run[1], last_run[2]}
