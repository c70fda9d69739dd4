-- The requests open to one mitra now: every request still searching inside its window,
-- not declined by the mitra, not excluding it (a reroute's current mitra) — and none at
-- all unless the mitra is available (fresh heartbeat, below capacity). O(open requests):
-- bounded by the clients searching, not by the number of mitras.
--
-- The per-request keys are derived here from the ids in the index (Memorystore runs with
-- cluster mode disabled, so every key lives on the one primary).
--
-- KEYS[1]  pairing:searching    zset  request id -> expires_at, epoch ms
-- KEYS[2]  presence:available   zset  mitra id -> last heartbeat, epoch ms
-- ARGV[1]  mitra id
-- ARGV[2]  now, epoch ms
-- ARGV[3]  fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- ARGV[4]  request key prefix ('pairing:req:')
-- Returns the open request ids, earliest expiry first.
local searching, available = KEYS[1], KEYS[2]
local mitra_id, now, cutoff, prefix = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

local score = redis.call('ZSCORE', available, mitra_id)
if not score or tonumber(score) < cutoff then
  return {}
end
local open = {}
for _, request_id in ipairs(redis.call('ZRANGEBYSCORE', searching, '(' .. now, '+inf')) do
  local key = prefix .. request_id
  local state = redis.call('HMGET', key, 'status', 'exclude')
  if state[1] == 'searching' and state[2] ~= mitra_id
      and redis.call('SISMEMBER', key .. ':declined', mitra_id) == 0 then
    open[#open + 1] = request_id
  end
end
return open
