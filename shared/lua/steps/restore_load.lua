-- Step (inlined where a script says `--! include restore_load`): bring one mitra's load and
-- capacity in from PostgreSQL. The load is only ever raised, never lowered: a claim taken
-- meanwhile is ahead of PostgreSQL by its unit and must keep it (a load left too high costs
-- availability, never capacity; the sweeper lowers it after two runs).
--   load_key      presence:load      hash  mitra id -> sessions held
--   capacity_key  presence:capacity  hash  mitra id -> max customers (absent = default)
--   truth         active sessions PostgreSQL holds for the mitra
--   override      the mitra's max_customers override, '' for none
-- Returns the load and the capacity afterwards.
local function restore_load(load_key, capacity_key, mitra_id, truth, override, default_capacity)
  local held = tonumber(redis.call('HGET', load_key, mitra_id)) or 0
  if truth > held then
    held = truth
    redis.call('HSET', load_key, mitra_id, held)
  end
  local capacity = default_capacity
  if override == '' then
    redis.call('HDEL', capacity_key, mitra_id)
  else
    capacity = tonumber(override)
    redis.call('HSET', capacity_key, mitra_id, capacity)
  end
  return held, capacity
end
