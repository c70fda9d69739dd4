"""Keep `presence:available` right when a test writes presence state by hand: after
setting a heartbeat score, a load or a capacity directly, `resync` runs the same script the
sweeper's rebuild runs (shared/lua/presence_available_sync.lua) for those mitras."""

from __future__ import annotations

from typing import Any

from shared import valkey
from shared.domain import settings
from shared.store.live import keys
from shared.store.live import presence as heartbeats


def resync(*mitra_ids: Any) -> None:
    heartbeats.sync_available(
        [str(m) for m in mitra_ids], settings.current().max_customers_per_mitra
    )


def set_beat(mitra_id: Any, beat_ms: float) -> None:
    """The mitra's heartbeat score, as if it had beaten at that instant."""
    valkey.client().zadd(keys.HEARTBEATS, {str(mitra_id): beat_ms})
    resync(mitra_id)


def drop(*mitra_ids: Any) -> None:
    """Out of presence entirely (heartbeat, availability, load, capacity)."""
    if mitra_ids:
        ids = [str(m) for m in mitra_ids]
        pipe = valkey.client().pipeline(transaction=True)
        pipe.zrem(keys.HEARTBEATS, *ids)
        pipe.zrem(keys.AVAILABLE, *ids)
        pipe.hdel(keys.LOAD, *ids)
        pipe.hdel(keys.CAPACITY, *ids)
        pipe.execute()


def available_mismatches(mitra_ids: list[str]) -> list[str]:
    """The mitras whose `presence:available` membership or score disagrees with heartbeats,
    load and capacity (empty when the invariant holds)."""
    default = settings.current().max_customers_per_mitra
    client = valkey.client()
    beats = client.zmscore(keys.HEARTBEATS, mitra_ids)
    listed = client.zmscore(keys.AVAILABLE, mitra_ids)
    loads = client.hmget(keys.LOAD, mitra_ids)
    capacities = client.hmget(keys.CAPACITY, mitra_ids)
    wrong = []
    for mitra_id, beat, score, held, capacity in zip(
        mitra_ids, beats, listed, loads, capacities, strict=True
    ):
        belongs = beat is not None and int(held or 0) < int(capacity or default)
        if (score is not None) != belongs or (belongs and score != beat):
            wrong.append(mitra_id)
    return wrong
