-- Open a request's search in Valkey: count the available mitras and, if there is anyone,
-- store the request's live state and index it as open. O(log M): the maintained set
-- presence:available (online and below capacity, scored by the last heartbeat) is counted,
-- never scanned; delivery is one broadcast that each instance filters for its own streams,
-- and eligibility is re-checked atomically at claim time (claim.lua).
--
-- KEYS[1]  pairing:req:<id>     hash  written: status, client_id, created_at, expires_at,
--                                     exclude (the mitra a reroute moves away from, or '')
-- KEYS[2]  pairing:searching    zset  request id -> expires_at, epoch ms (open requests)
-- KEYS[3]  presence:available   zset  mitra id -> last heartbeat, epoch ms
-- ARGV[1]  fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- ARGV[2]  client id
-- ARGV[3]  created_at, epoch ms
-- ARGV[4]  expires_at, epoch ms
-- ARGV[5]  lifetime of the request hash, ms (window + grace, so a late accept still
--          finds the request and gets `expired`)
-- ARGV[6]  request id
-- ARGV[7]  now, epoch ms
-- ARGV[8]  mitra id never offered this request (a reroute's current mitra), or ''
-- Returns the number of mitras available now (the excluded one not counted); 0 writes
-- nothing (the caller closes the request as no_bestie).
local request_key, searching, available = KEYS[1], KEYS[2], KEYS[3]
local cutoff, client_id = ARGV[1], ARGV[2]
local created_at, expires_at, ttl = ARGV[3], ARGV[4], ARGV[5]
local request_id, now, exclude = ARGV[6], ARGV[7], ARGV[8]

local count = redis.call('ZCOUNT', available, cutoff, '+inf')
if exclude ~= '' then
  local score = redis.call('ZSCORE', available, exclude)
  if score and tonumber(score) >= tonumber(cutoff) then
    count = count - 1
  end
end
if count <= 0 then
  return 0
end

redis.call('HSET', request_key, 'status', 'searching', 'client_id', client_id,
  'created_at', created_at, 'expires_at', expires_at, 'exclude', exclude)
redis.call('PEXPIRE', request_key, ttl)
redis.call('ZADD', searching, expires_at, request_id)
-- Requests whose window is over are no longer open; dropping them here keeps the index
-- as small as the number of clients searching (amortized O(1) per blast).
redis.call('ZREMRANGEBYSCORE', searching, '-inf', '(' .. now)
return count
