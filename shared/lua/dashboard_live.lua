-- The dashboard's live figures and the sweeper's last run, in one round trip.
--
-- A mitra is online iff its heartbeat is fresh (score at or after the cutoff: lazy expiry,
-- the same rule as pairing); available iff online and its load is below its capacity
-- (per-mitra override, else the default); busy iff online and at (or over) capacity.
-- presence:available holds exactly the online mitras below capacity, with their heartbeat
-- score (every script that changes heartbeats, load or capacity keeps it so), so both
-- counts are ZCOUNTs — O(log M) — and busy = online − available is the definition itself.
--
-- KEYS[1]  sweeper:last_run      hash  finished_at (ISO 8601), status, ...
-- KEYS[2]  presence:heartbeats   zset  mitra id -> last heartbeat, epoch ms
-- KEYS[3]  presence:available    zset  the online mitras below capacity, same score
-- ARGV[1]  fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- Returns {online, available, busy, sweeper finished_at or false, sweeper status or false}.
local last_run_key, heartbeats, available_key = KEYS[1], KEYS[2], KEYS[3]
local cutoff = ARGV[1]

local online = redis.call('ZCOUNT', heartbeats, cutoff, '+inf')
local available = redis.call('ZCOUNT', available_key, cutoff, '+inf')
-- Never negative, even while a rebuild is catching up with a flushed set.
local busy = math.max(online - available, 0)
available = math.min(available, online)
local last_run = redis.call('HMGET', last_run_key, 'finished_at', 'status')
return {online, available, busy, last_run[1], last_run[2]}
