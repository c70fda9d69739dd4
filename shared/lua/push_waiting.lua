-- "Clients are waiting" recipients for one new pairing request, collapsed per mitra: every
-- available mitra (fresh heartbeat, below capacity) that has no open event stream and got
-- no such push in the last window. Marking the window (SET NX PX) in the same atomic step
-- means concurrent requests, and redeliveries of the same one, choose each mitra at most
-- once per window. O(available mitras), once per request, in the notifier only.
--
-- KEYS[1]  pairing:searching    zset  request id -> expires_at, epoch ms
-- KEYS[2]  presence:available   zset  mitra id -> last heartbeat, epoch ms
-- ARGV[1]  fresh cutoff, epoch ms
-- ARGV[2]  now, epoch ms
-- ARGV[3]  mitra id never to choose (a reroute's current mitra), or ''
-- ARGV[4]  open-stream key prefix ('streams:mitra:'), zset stream token -> lapses at, ms
-- ARGV[5]  collapse key prefix ('push:waiting:')
-- ARGV[6]  collapse window, ms
-- Returns {clients searching now, {chosen mitra ids}}.
local searching, available = KEYS[1], KEYS[2]
local cutoff, now, exclude = ARGV[1], ARGV[2], ARGV[3]
local stream_prefix, collapse_prefix, window = ARGV[4], ARGV[5], ARGV[6]

local chosen = {}
for _, mitra in ipairs(redis.call('ZRANGEBYSCORE', available, cutoff, '+inf')) do
  if mitra ~= exclude and redis.call('ZCOUNT', stream_prefix .. mitra, now, '+inf') == 0 then
    if redis.call('SET', collapse_prefix .. mitra, now, 'NX', 'PX', window) then
      chosen[#chosen + 1] = mitra
    end
  end
end
return {redis.call('ZCOUNT', searching, now, '+inf'), chosen}
