-- A Firebase-token request's revocation check, in one round trip (shared.identity.revocation).
--
-- KEYS[1]  revoked:<sha256(uid)>  string  the uid is disabled or deleted in Firebase
-- KEYS[2]  erased:<sha256(uid)>   string  the uid's account was erased (shared.domain.erasure)
-- KEYS[3]  identity:seen          zset    uid → last request, epoch ms
-- KEYS[4]  identity:due           zset    uid → when the sweeper next asks Firebase
-- ARGV[1]  the uid
-- ARGV[2]  now, epoch ms
-- Returns 1 if the uid is revoked, else 0. A revoked or erased uid is never noted again: the
-- sweeper already knows its answer (and forgot it), and a token still in circulation must
-- not write an erased account's uid back into Valkey.
local revoked = redis.call('EXISTS', KEYS[1])
if revoked == 0 and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
  redis.call('ZADD', KEYS[4], 'NX', ARGV[2], ARGV[1])
end
return revoked
