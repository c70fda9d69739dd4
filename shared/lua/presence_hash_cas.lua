-- Compare-and-set hash fields: set each field only if it still holds what the caller read,
-- so a rebuild from PostgreSQL never overwrites a change made meanwhile (a claim's
-- HINCRBY on presence:load, an operator's edit of presence:capacity).
--
-- KEYS[1]  the hash (presence:load or presence:capacity: mitra id -> integer)
-- ARGV     triples: field, expected value ('' = absent), new value ('' = delete the field)
--
-- Returns the number of fields changed.
local hash = KEYS[1]

local changed = 0
for i = 1, #ARGV, 3 do
  local field = ARGV[i]
  local expected = ARGV[i + 1]
  local wanted = ARGV[i + 2]
  local current = redis.call('HGET', hash, field) or ''
  if current == expected then
    if wanted == '' then
      redis.call('HDEL', hash, field)
    else
      redis.call('HSET', hash, field, wanted)
    end
    changed = changed + 1
  end
end
return changed
