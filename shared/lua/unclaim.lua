-- Undo a claim whose session could not be written to PostgreSQL: give the mitra's capacity
-- unit back (steps/release_unit.lua: also its place in presence:available, when still
-- online and now below capacity) and put the request back to searching if its window is
-- still open, else mark it expired (and drop it from the open-request index). Only the
-- claiming mitra's claim is undone.
--
-- KEYS[1]  pairing:req:<id>      hash  status, mitra_id, expires_at (epoch ms)
-- KEYS[2]  pairing:searching     zset  request id -> expires_at, epoch ms
-- KEYS[3]  presence:heartbeats   zset  mitra id -> last heartbeat, epoch ms
-- KEYS[4]  presence:available    zset  online mitras below capacity
-- KEYS[5]  presence:load         hash  mitra id -> sessions held
-- KEYS[6]  presence:capacity     hash  mitra id -> max customers (absent = default)
-- ARGV[1]  mitra id that holds the claim
-- ARGV[2]  now, epoch ms
-- ARGV[3]  default capacity
-- ARGV[4]  request id
-- Returns the request's status afterwards: searching | expired when undone; otherwise the
-- unchanged status (or 'unknown' when the request is gone), and nothing is written.
local request_key, searching, heartbeats, available, load_key, capacity_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local mitra_id, now = ARGV[1], tonumber(ARGV[2])
local default_capacity, request_id = tonumber(ARGV[3]), ARGV[4]
--! include release_unit

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
  redis.call('ZREM', searching, request_id)
end
redis.call('HSET', request_key, 'status', next_status)
redis.call('HDEL', request_key, 'mitra_id', 'claimed_at')
release_unit(heartbeats, available, load_key, capacity_key, mitra_id, default_capacity)
return next_status
