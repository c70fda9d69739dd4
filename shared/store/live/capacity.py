"""Mitra capacity in Valkey: the live load (`presence:load`, sessions held now), the
per-mitra override (`presence:capacity`), and `presence:available` kept right with both.

A unit is taken by a claim (pairing's accept, `shared.store.live.requests.claim`, or an
operator's reroute, `take_unit`) and given back when a session ends or moves (`release`),
each through the one rule in shared/lua/steps/. PostgreSQL's active sessions are the truth;
the sweeper reconciles these hashes with them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from shared import valkey
from shared.store.live import keys


class Take(StrEnum):
    CLAIMED = "claimed"
    NOT_ONLINE = "not_online"
    AT_CAPACITY = "at_capacity"


def take_unit(mitra_id: UUID | str, cutoff_ms: int, default_capacity: int) -> Take:
    """Take one unit of the mitra's capacity if it is online and below capacity
    (shared/lua/reroute_claim.lua); `release` gives it back."""
    return Take(
        valkey.script("reroute_claim")(
            keys=keys.PRESENCE, args=[str(mitra_id), cutoff_ms, default_capacity]
        )
    )


def release(mitra_id: UUID | str, default_capacity: int) -> int:
    """Give back one unit of the mitra's capacity; never goes below zero. The new load."""
    return int(
        valkey.script("release_load")(keys=keys.PRESENCE, args=[str(mitra_id), default_capacity])
    )


def restore_load(mitra_id: str, held: int, max_customers: int | None, default_capacity: int) -> int:
    """Raise the mitra's load to PostgreSQL's `held` (never lower it), set its capacity
    override and fix its `presence:available` membership, atomically; the load after."""
    return int(queue_restore_load(valkey.client(), mitra_id, held, max_customers, default_capacity))


def queue_restore_load(
    client: Any, mitra_id: str, held: int, max_customers: int | None, default_capacity: int
) -> Any:
    """`restore_load` on a given client or pipeline (its reply, or the pipeline)."""
    return valkey.script("presence_load_restore")(
        keys=keys.PRESENCE,
        args=[default_capacity, mitra_id, held, "" if max_customers is None else max_customers],
        client=client,
    )


def set_capacity(mitra_id: str, max_customers: int | None, default_capacity: int) -> None:
    """Set (or clear, None) a mitra's capacity override and fix its place in
    `presence:available` in one MULTI/EXEC: the very next claim or blast sees both."""
    pipe = valkey.client().pipeline(transaction=True)
    if max_customers is None:
        pipe.hdel(keys.CAPACITY, mitra_id)
    else:
        pipe.hset(keys.CAPACITY, mitra_id, max_customers)
    queue_sync_available(pipe, [mitra_id], default_capacity)
    pipe.execute()


def queue_sync_available(client: Any, mitra_ids: list[str], default_capacity: int) -> Any:
    """Recompute `presence:available` membership of these mitras from heartbeats, load and
    capacity (shared/lua/presence_available_sync.lua), on a given client or pipeline: how
    many memberships changed (or the pipeline)."""
    return valkey.script("presence_available_sync")(
        keys=keys.PRESENCE, args=[default_capacity, *mitra_ids], client=client
    )
