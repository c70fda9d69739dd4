"""Revocation and erasure state in Valkey (shared.identity.revocation, shared.domain.erasure):
`revoked:<sha256(uid)>`, `erased:<sha256(uid)>`, and the check lists `identity:seen` (uid →
last request, epoch ms) and `identity:due` (uid → when the sweeper next asks Firebase)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared import valkey
from shared.store.live import keys, presence


def admit(uid: str, now_ms: int) -> bool:
    """Whether the uid is revoked; notes it as seen and due (NX) unless it is revoked or
    erased, in one round trip (shared/lua/identity_admit.lua)."""
    revoked = valkey.script("identity_admit")(
        keys=[keys.revoked(uid), keys.erased(uid), keys.SEEN, keys.DUE], args=[uid, now_ms]
    )
    return bool(revoked)


def is_revoked(uid: str) -> bool:
    return bool(valkey.client().exists(keys.revoked(uid)))


def forget(uids: Sequence[str]) -> None:
    """The uids leave the check lists."""
    if not uids:
        return
    pipe = valkey.client().pipeline(transaction=False)
    pipe.zrem(keys.SEEN, *uids)
    pipe.zrem(keys.DUE, *uids)
    pipe.execute()


def mark_revoked(uids: Iterable[str], ttl_s: int) -> None:
    for uid in uids:
        # Mark first, then drop the heartbeat's UID cache: a beat that misses after this
        # finds the mark.
        valkey.client().set(keys.revoked(uid), "1", ex=ttl_s)
        presence.forget_uid(uid)
        forget([uid])


def seen_before(before_ms: int) -> list[str]:
    return [str(uid) for uid in valkey.client().zrangebyscore(keys.SEEN, "-inf", before_ms)]


def note_seen(uids: Sequence[str], now_ms: int) -> None:
    """Seen now, and due now unless already due."""
    if not uids:
        return
    pipe = valkey.client().pipeline(transaction=False)
    pipe.zadd(keys.SEEN, dict.fromkeys(uids, now_ms))
    pipe.zadd(keys.DUE, dict.fromkeys(uids, now_ms), nx=True)
    pipe.execute()


def due(now_ms: int, limit: int) -> list[str]:
    return [
        str(uid)
        for uid in valkey.client().zrangebyscore(keys.DUE, "-inf", now_ms, start=0, num=limit)
    ]


def reschedule(uids: Sequence[str], next_check_ms: int) -> None:
    if uids:
        valkey.client().zadd(keys.DUE, dict.fromkeys(uids, next_check_ms), xx=True)


def mark_erased(uid: str, client_id: str, ttl_s: int) -> None:
    valkey.client().set(keys.erased(uid), client_id, ex=ttl_s)


def erased_client_id(uid: str) -> str | None:
    raw = valkey.client().get(keys.erased(uid))
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def is_erased(uid: str) -> bool:
    return bool(valkey.client().exists(keys.erased(uid)))
