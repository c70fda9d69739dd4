-- Bring one mitra's load and capacity in line with PostgreSQL and fix its place in
-- presence:available, atomically. Used wherever presence is (re)built from PostgreSQL:
-- going online, and a match PostgreSQL refused because the mitra was already full (Valkey's
-- load was too low: lost data, or drift). The load is only ever raised (steps/restore_load).
--
-- KEYS[1]  presence:heartbeats  zset  mitra id -> last heartbeat, epoch ms
-- KEYS[2]  presence:available   zset  online mitras below capacity, same score
-- KEYS[3]  presence:load        hash  mitra id -> sessions held
-- KEYS[4]  presence:capacity    hash  mitra id -> max customers (absent = default)
-- ARGV[1]  default capacity (settings.max_customers_per_mitra)
-- ARGV[2]  mitra id
-- ARGV[3]  active sessions PostgreSQL holds for the mitra
-- ARGV[4]  the mitra's max_customers override, '' for none
-- Returns the load afterwards.
local heartbeats, available, load_key, capacity_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local default_capacity, mitra_id = tonumber(ARGV[1]), ARGV[2]
local truth, override = tonumber(ARGV[3]), ARGV[4]
--! include restore_load

local held, capacity =
  restore_load(load_key, capacity_key, mitra_id, truth, override, default_capacity)
local beat = redis.call('ZSCORE', heartbeats, mitra_id)
if beat and held < capacity then
  redis.call('ZADD', available, beat, mitra_id)
else
  redis.call('ZREM', available, mitra_id)
end
return held
