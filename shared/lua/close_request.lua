-- Close a searching request as cancelled (by its client) or expired (its window is over).
--
-- KEYS[1]  pairing:req:<id>      hash  status, expires_at (epoch ms)
-- KEYS[2]  pairing:searching     zset  open requests (a closed one leaves it)
-- ARGV[1]  cancelled | expired   what the caller asks for
-- ARGV[2]  now, epoch ms
-- ARGV[3]  request id
-- Returns {status afterwards, 1 if this call changed it else 0}. A request past its window
-- is closed as expired even when asked to cancel; one not yet past it is never expired;
-- a claimed or matched request is never closed here. Missing request → {'unknown', 0}.
local request_key, searching = KEYS[1], KEYS[2]
local wanted, now, request_id = ARGV[1], tonumber(ARGV[2]), ARGV[3]

local state = redis.call('HMGET', request_key, 'status', 'expires_at')
local status, expires_at = state[1], tonumber(state[2])
if not status then
  return {'unknown', 0}
end
if status ~= 'searching' then
  return {status, 0}
end
local overdue = now >= expires_at
if wanted == 'expired' and not overdue then
  return {status, 0}
end
local next_status = wanted
if overdue then
  next_status = 'expired'
end
redis.call('HSET', request_key, 'status', next_status)
redis.call('ZREM', searching, request_id)
return {next_status, 1}
