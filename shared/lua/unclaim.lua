-- Undo a claim whose session could not be written to PostgreSQL: give the mitra's capacity
-- unit back and put the request back to searching if its window is still open, else mark it
-- expired. Only the claiming mitra's claim is undone.
--
-- KEYS[1]  pairing:req:<id>      hash  status, mitra_id, expires_at (epoch ms)
-- KEYS[2]  presence:load         hash  mitra id -> sessions held
-- ARGV[1]  mitra id that holds the claim
-- ARGV[2]  now, epoch ms
-- Returns the request's status afterwards: searching | expired when undone; otherwise the
-- unchanged status (or 'unknown' when the request is gone), and nothing is written.
local request_key, load_key = KEYS[1], KEYS[2]
local mitra_id, now = ARGV[1], tonumber(ARGV[2])

local state = redis.call('HMGET', request_key, 'status', 'mitra_id', 'expires_at')
local status, holder, expires_at = state[1], state[2], tonumber(state[3])
if not status then
  return 'unknown'
end
if status ~= 'claimed' or holder ~= mitra_id then
  return status
end
local next_status = 'searching'
if now >= expires_at then
  next_status = 'expired'
end
redis.call('HSET', request_key, 'status', next_status)
redis.call('HDEL', request_key, 'mitra_id', 'claimed_at')
local held = tonumber(redis.call('HGET', load_key, mitra_id)) or 0
if held <= 1 then
  redis.call('HDEL', load_key, mitra_id)
else
  redis.call('HINCRBY', load_key, mitra_id, -1)
end
return next_status
