-- Release one unit of a mitra's load (a session ended or moved away), never below zero,
-- keeping presence:available right (steps/release_unit.lua).
--
-- KEYS[1]  presence:heartbeats   zset  mitra id -> last heartbeat, epoch ms
-- KEYS[2]  presence:available    zset  online mitras below capacity
-- KEYS[3]  presence:load         hash  mitra id -> sessions held
-- KEYS[4]  presence:capacity     hash  mitra id -> max customers (absent = default)
-- ARGV[1]  mitra id
-- ARGV[2]  default capacity
-- Returns the load after release.
local heartbeats, available, load_key, capacity_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mitra_id, default_capacity = ARGV[1], tonumber(ARGV[2])
--! include release_unit

return release_unit(heartbeats, available, load_key, capacity_key, mitra_id, default_capacity)
