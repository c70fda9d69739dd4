-- A mitra declines a request: the request leaves its offers and the mitra can no longer
-- accept it (claim.lua answers not_offered). Idempotent.
--
-- KEYS[1]  pairing:req:<id>            hash  status, exclude, ...
-- KEYS[2]  pairing:req:<id>:declined   set   mitra ids that declined (lives as long as KEYS[1])
-- ARGV[1]  mitra id
-- Returns 'declined' | 'unknown' (no live state) | 'not_offered' (the request excludes this
-- mitra: a reroute moving a session away from it). Only 'declined' writes.
local request_key, declined_key = KEYS[1], KEYS[2]
local mitra_id = ARGV[1]

local state = redis.call('HMGET', request_key, 'status', 'exclude')
if not state[1] then
  return 'unknown'
end
if state[2] == mitra_id then
  return 'not_offered'
end
redis.call('SADD', declined_key, mitra_id)
local ttl = redis.call('PTTL', request_key)
if ttl > 0 then
  redis.call('PEXPIRE', declined_key, ttl)
end
return 'declined'
