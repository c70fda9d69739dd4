-- A mitra's heartbeat in one round trip: resolve the caller's Firebase UID to a mitra and
-- refresh its last-heartbeat time, unless the mitra is offline or has already lapsed.
-- presence:available carries the same score for the mitras below capacity, so it is
-- refreshed in the same step (XX: a mitra at capacity is not a member and stays out).
--
-- KEYS[1]  presence:uid:<firebase uid>  string: mitra id (cache of mitras.firebase_uid,
--                                       written only for active mitras, deleted on suspend)
-- KEYS[2]  presence:heartbeats          zset: mitra id -> last heartbeat, epoch milliseconds
-- KEYS[3]  presence:available           zset: the online mitras below capacity, same score
-- KEYS[4]  presence:load                hash: mitra id -> sessions held
-- KEYS[5]  presence:capacity            hash: mitra id -> max customers (absent = default)
-- ARGV[1]  now, epoch milliseconds (the server's clock, passed in: see docs/presence.md)
-- ARGV[2]  cutoff, epoch milliseconds: a last heartbeat below it has lapsed (offline)
-- ARGV[3]  '' to read the cache; else the mitra id PostgreSQL resolved, to cache and use
-- ARGV[4]  cache lifetime, seconds (used with ARGV[3])
-- ARGV[5]  '1' to re-add the mitra when it is missing from the set (PostgreSQL says it is
--          online, so Valkey lost it); '0' otherwise
-- ARGV[6]  default capacity (settings.max_customers_per_mitra), for a re-added mitra
-- ARGV[7]  active sessions PostgreSQL holds for the mitra (used with ARGV[5] = '1')
-- ARGV[8]  the mitra's max_customers override, '' for none (used with ARGV[5] = '1')
--
-- A re-added mitra gets its load and capacity from ARGV[7]/ARGV[8] in the same step, so it
-- is never available with a load Valkey forgot: a full mitra stays out of
-- presence:available (docs/presence.md, "After Valkey loses everything"). The load is only
-- raised, never lowered (a claim taken meanwhile keeps its unit).
--
-- Returns {code, mitra id}: 'ok'; 'not_online' (absent or lapsed: the mitra must toggle
-- back on; never re-added here, or an auto-offlined app would stay online forever);
-- 'unknown' (cache miss: resolve in PostgreSQL and call again with ARGV[3]).
local uid_key, heartbeats, available, load_key, capacity_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local cutoff = tonumber(ARGV[2])
local resolved = ARGV[3]
local cache_ttl_s = ARGV[4]
local restore = ARGV[5] == '1'
local default_capacity = tonumber(ARGV[6])
local truth, override = tonumber(ARGV[7]) or 0, ARGV[8] or ''
--! include restore_load

local mitra_id = resolved
if mitra_id == '' then
  mitra_id = redis.call('GET', uid_key)
  if not mitra_id then
    return {'unknown', ''}
  end
else
  redis.call('SET', uid_key, mitra_id, 'EX', cache_ttl_s)
end

local last = redis.call('ZSCORE', heartbeats, mitra_id)
if not last then
  if restore then
    redis.call('ZADD', heartbeats, 'NX', now, mitra_id)
    local held, capacity =
      restore_load(load_key, capacity_key, mitra_id, truth, override, default_capacity)
    if held < capacity then
      redis.call('ZADD', available, now, mitra_id)
    end
    return {'ok', mitra_id}
  end
  return {'not_online', mitra_id}
end
if tonumber(last) < cutoff then
  return {'not_online', mitra_id}
end
-- GT: a heartbeat carrying an older clock (another instance, skew) never moves time back.
redis.call('ZADD', heartbeats, 'XX', 'GT', now, mitra_id)
redis.call('ZADD', available, 'XX', 'GT', now, mitra_id)
return {'ok', mitra_id}
