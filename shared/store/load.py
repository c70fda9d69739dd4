"""Live mitra load in Valkey (`presence:load`): how many sessions each mitra holds now.

Taken atomically by the claim script (shared/lua/claim.lua) together with the capacity
check; released here when a session ends or moves (which also puts the mitra back in
`presence:available` when still online and now below capacity). PostgreSQL's active
sessions are the truth; the sweeper reconciles this hash with them.
"""

from __future__ import annotations

from uuid import UUID

from shared import valkey

LOAD_KEY = "presence:load"
CAPACITY_KEY = "presence:capacity"
# Kept here with the other keys the claim scripts share (shared.store.heartbeats re-exports).
HEARTBEATS_KEY = "presence:heartbeats"
AVAILABLE_KEY = "presence:available"


def release(mitra_id: UUID | str, default_capacity: int) -> int:
    """Give back one unit of the mitra's capacity; never goes below zero. The new load."""
    return int(
        valkey.script("release_load")(
            keys=[LOAD_KEY, HEARTBEATS_KEY, CAPACITY_KEY, AVAILABLE_KEY],
            args=[str(mitra_id), default_capacity],
        )
    )


def current(mitra_id: UUID | str) -> int:
    return int(valkey.client().hget(LOAD_KEY, str(mitra_id)) or 0)
