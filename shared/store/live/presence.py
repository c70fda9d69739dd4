"""Presence state in Valkey (docs/valkey-keys.md): the heartbeat set, the Firebase UID →
mitra cache, `presence:available`, and the load and capacity hashes as the sweeper rebuilds
them (a single unit is taken and released in `shared.store.live.capacity`).

`presence:heartbeats` is a sorted set, mitra id → last heartbeat (epoch ms); a member is a
mitra PostgreSQL has put online, and it is *available* only while its score is at or after
the fresh cutoff (lazy expiry). Every time is passed in by the caller in milliseconds.

`presence:available` is a sorted set with the same scores holding exactly the members of
`presence:heartbeats` whose load is below their capacity, so pairing counts and filters
available mitras without scanning them. Every script that changes heartbeats, load or
capacity keeps it right in the same atomic step; `sync_available` recomputes it for given
mitras (going online, a capacity edit, the sweeper's rebuild).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import cast

from shared import valkey
from shared.store.live import capacity, keys

# A cached UID resolution is re-checked in PostgreSQL at least this often, which bounds how
# long a suspension written straight into SQL (bypassing `forget`) could go unnoticed.
UID_CACHE_TTL_S = 3600

_CHUNK = 500  # members per script call: Lua's unpack and ARGV stay far from their limits


class Beat(StrEnum):
    OK = "ok"
    NOT_ONLINE = "not_online"
    UNKNOWN_UID = "unknown"


def beat(
    firebase_uid: str,
    now_ms: int,
    cutoff_ms: int,
    *,
    resolved_mitra_id: str | None = None,
    restore: bool = False,
    default_capacity: int = 1,
    held: int = 0,
    max_customers: int | None = None,
) -> Beat:
    """Refresh the caller's heartbeat in one round trip (shared/lua/presence_heartbeat.lua).

    Without `resolved_mitra_id` the UID is resolved through the cache (`UNKNOWN_UID` on a
    miss); with it, the resolution is cached and used. `restore` re-adds a mitra missing from
    the set, for when PostgreSQL says it is online, with the load (`held`, PostgreSQL's
    active sessions) and capacity override PostgreSQL gives, and in `presence:available`
    only when below that capacity."""
    # The hot path's script call (valkey.HotScript): every online mitra, every interval.
    reply = valkey.hot_script("presence_heartbeat")(
        (keys.uid_cache(firebase_uid), *keys.PRESENCE),
        (
            now_ms,
            cutoff_ms,
            resolved_mitra_id or "",
            UID_CACHE_TTL_S,
            int(restore),
            default_capacity,
            held,
            "" if max_customers is None else max_customers,
        ),
    )
    return Beat(str(reply[0]))


def cached_mitra_id(firebase_uid: str) -> str | None:
    value = valkey.client().get(keys.uid_cache(firebase_uid))
    return str(value) if value is not None else None


def forget_uid(firebase_uid: str) -> None:
    valkey.client().delete(keys.uid_cache(firebase_uid))


def last_beat_ms(mitra_id: str) -> float | None:
    score = valkey.client().zscore(keys.HEARTBEATS, mitra_id)
    return float(score) if score is not None else None


def enter(
    mitra_id: str,
    firebase_uid: str | None,
    now_ms: int,
    max_customers: int | None,
    default_capacity: int,
    held: int,
) -> None:
    """Put an active mitra in the heartbeat set with a fresh beat, cache its UID, bring its
    load (`held`: PostgreSQL's active sessions) and capacity override in from PostgreSQL,
    and place it in `presence:available` when below capacity: one MULTI/EXEC round trip,
    so no other command sees the mitra half-entered."""
    pipe = valkey.client().pipeline(transaction=True)
    pipe.zadd(keys.HEARTBEATS, {mitra_id: now_ms})
    if firebase_uid:
        pipe.set(keys.uid_cache(firebase_uid), mitra_id, ex=UID_CACHE_TTL_S)
    capacity.queue_restore_load(pipe, mitra_id, held, max_customers, default_capacity)
    pipe.execute()


def leave(mitra_id: str) -> None:
    pipe = valkey.client().pipeline(transaction=True)
    pipe.zrem(keys.HEARTBEATS, mitra_id)
    pipe.zrem(keys.AVAILABLE, mitra_id)
    pipe.execute()


def sync_available(mitra_ids: Iterable[str], default_capacity: int) -> int:
    """Recompute `presence:available` membership for these mitras from heartbeats, load and
    capacity (atomic per chunk of members); how many memberships changed."""
    ids = list(mitra_ids)
    if not ids:
        return 0
    pipe = valkey.client().pipeline(transaction=False)
    for first in range(0, len(ids), _CHUNK):
        capacity.queue_sync_available(pipe, ids[first : first + _CHUNK], default_capacity)
    return sum(int(changed) for changed in pipe.execute())


def available_members() -> list[str]:
    """Every member of `presence:available` (O(M): the sweeper's rebuild only)."""
    return [str(member) for member in valkey.client().zrange(keys.AVAILABLE, 0, -1)]


def claim_lapsed(cutoff_ms: int, limit: int, only: Sequence[str] = ()) -> list[tuple[str, float]]:
    """Atomically remove and return up to `limit` members whose last beat is before the
    cutoff (all lapsed members, or only those of `only`)."""
    flat = valkey.script("presence_claim_lapsed")(
        keys=[keys.HEARTBEATS, keys.AVAILABLE], args=[cutoff_ms, limit, *only]
    )
    return [(str(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]


def members() -> dict[str, float]:
    """Every member with its score, in one round trip (O(online): reconciliation only)."""
    scored = cast(
        list[tuple[str, float]], valkey.client().zrange(keys.HEARTBEATS, 0, -1, withscores=True)
    )
    return {str(member): float(score) for member, score in scored}


def add_missing(mitra_ids: Iterable[str], now_ms: int, default_capacity: int) -> int:
    """Re-add members (never overwriting a beat that arrived meanwhile), each chunk with its
    `presence:available` membership in one MULTI/EXEC; how many were added."""
    ids = list(mitra_ids)
    if not ids:
        return 0
    added = 0
    for first in range(0, len(ids), _CHUNK):
        chunk = ids[first : first + _CHUNK]
        pipe = valkey.client().pipeline(transaction=True)
        pipe.zadd(keys.HEARTBEATS, dict.fromkeys(chunk, now_ms), nx=True)
        capacity.queue_sync_available(pipe, chunk, default_capacity)
        added += int(pipe.execute()[0])
    return added


def forget_unchanged(seen: Mapping[str, float]) -> int:
    """Remove members whose score is still the one in `seen`; how many were removed."""
    items = list(seen.items())
    if not items:
        return 0
    script = valkey.script("presence_forget_unchanged")
    pipe = valkey.client().pipeline(transaction=False)
    for first in range(0, len(items), _CHUNK):
        args = [
            value
            for member, score in items[first : first + _CHUNK]
            for value in (member, repr(score))
        ]
        script(keys=[keys.HEARTBEATS, keys.AVAILABLE], args=args, client=pipe)
    return sum(int(removed) for removed in pipe.execute())


def live_columns(mitra_ids: list[str]) -> list[tuple[float | None, int]]:
    """(last beat or None, load) for each mitra, in order, in one round trip."""
    pipe = valkey.client().pipeline(transaction=False)
    pipe.zmscore(keys.HEARTBEATS, mitra_ids)
    pipe.hmget(keys.LOAD, mitra_ids)
    scores, loads = pipe.execute()
    return [
        (float(score) if score is not None else None, int(load or 0))
        for score, load in zip(scores, loads, strict=True)
    ]


# -- the sweeper's reconciliation of load and capacity ----------------------------------------


def loads() -> dict[str, str]:
    return _read_hash(keys.LOAD)


def capacities() -> dict[str, str]:
    return _read_hash(keys.CAPACITY)


def load_suspects() -> dict[str, str]:
    return _read_hash(keys.LOAD_SUSPECTS)


def fix_loads(changes: Sequence[tuple[str, str, str]]) -> int:
    """Apply (mitra id, expected, wanted) triples to `presence:load` ('' = absent / delete)
    only where the field still holds `expected`; how many changed."""
    return _compare_and_set(keys.LOAD, changes)


def fix_capacities(changes: Sequence[tuple[str, str, str]]) -> int:
    """As `fix_loads`, for `presence:capacity`."""
    return _compare_and_set(keys.CAPACITY, changes)


def replace_load_suspects(values: Mapping[str, str]) -> None:
    pipe = valkey.client().pipeline(transaction=True)
    pipe.delete(keys.LOAD_SUSPECTS)
    for field, value in values.items():
        pipe.hset(keys.LOAD_SUSPECTS, field, value)
    pipe.execute()


def _read_hash(key: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in valkey.client().hgetall(key).items()}


def _compare_and_set(key: str, changes: Sequence[tuple[str, str, str]]) -> int:
    """Apply (field, expected, wanted) triples ('' = absent / delete) only where the field
    still holds `expected` (shared/lua/presence_hash_cas.lua); how many fields changed."""
    if not changes:
        return 0
    script = valkey.script("presence_hash_cas")
    pipe = valkey.client().pipeline(transaction=False)
    for first in range(0, len(changes), _CHUNK):
        args = [value for triple in changes[first : first + _CHUNK] for value in triple]
        script(keys=[key], args=args, client=pipe)
    return sum(int(changed) for changed in pipe.execute())


def is_intact() -> bool:
    return bool(valkey.client().exists(keys.INTACT))


def mark_intact() -> None:
    valkey.client().set(keys.INTACT, "1")
