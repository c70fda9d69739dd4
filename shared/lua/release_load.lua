-- Release one unit of a mitra's load, never below zero.
-- KEYS[1]  presence:load   hash mitra id -> sessions held
-- ARGV[1]  mitra id
-- Returns the load after release.
local load_key = KEYS[1]
local mitra_id = ARGV[1]

local held = tonumber(redis.call('HGET', load_key, mitra_id) or '0')
if held <= 1 then
  redis.call('HDEL', load_key, mitra_id)
  return 0
end
return redis.call('HINCRBY', load_key, mitra_id, -1)
