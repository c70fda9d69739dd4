-- Take one unit of a named mitra's capacity for a session an operator reroutes to it,
-- atomically with the presence and capacity checks: the same rule as pairing's accept
-- (claim.lua), written once in steps/take_unit.lua.
--
-- KEYS[1]  presence:heartbeats          zset  mitra id -> last heartbeat, epoch ms
-- KEYS[2]  presence:available           zset  online mitras below capacity
-- KEYS[3]  presence:load                hash  mitra id -> sessions held
-- KEYS[4]  presence:capacity            hash  mitra id -> max customers (absent = default)
-- ARGV[1]  mitra id
-- ARGV[2]  fresh cutoff, epoch ms (now - heartbeat_timeout_s * 1000)
-- ARGV[3]  default capacity
-- Returns one code: claimed | not_online | at_capacity. Only `claimed` changes anything
-- (the caller gives the unit back with release_load.lua if the move then fails).
local heartbeats, available, load_key, capacity_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mitra_id = ARGV[1]
local cutoff, default_capacity = tonumber(ARGV[2]), tonumber(ARGV[3])
--! include take_unit

return take_unit(heartbeats, available, load_key, capacity_key, mitra_id, cutoff,
                 default_capacity)
