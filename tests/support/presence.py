"""Presence helpers for tests. Keep `presence:available` right when a test writes presence
state by hand: after setting a heartbeat score, a load or a capacity directly, `resync` runs
the same script the sweeper's rebuild runs (shared/lua/presence_available_sync.lua) for those
mitras. Also: read the online log, age a mitra's heartbeat (`lapse`), ask what pairing sees."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared import clock, valkey
from shared.domain import presence, settings
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


def log_rows(database: sa.Engine, mitra_id: str) -> list[tuple[str, str]]:
    with database.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT status, reason FROM mitra_online_log WHERE mitra_id = :id ORDER BY id"),
            {"id": mitra_id},
        )
        return [(row.status, row.reason) for row in rows]


def is_online_in_database(database: sa.Engine, mitra_id: str) -> bool:
    with database.connect() as connection:
        return bool(
            connection.execute(
                sa.text("SELECT is_online FROM mitras WHERE id = :id"), {"id": mitra_id}
            ).scalar_one()
        )


def lapse(mitra_id: str, extra_s: float = 1.0) -> None:
    """Make the mitra's last heartbeat older than the timeout, as silence would."""
    timeout_s = settings.current().heartbeat_timeout_s
    aged = clock.now_ms() - int((timeout_s + extra_s) * 1000)
    assert valkey.client().zadd(keys.HEARTBEATS, {mitra_id: aged}, xx=True, ch=True) == 1
    resync(mitra_id)


def is_available(mitra_id: str) -> bool:
    """What pairing sees: a member scored at or after the fresh cutoff."""
    score = valkey.client().zscore(keys.HEARTBEATS, mitra_id)
    cutoff = presence.fresh_cutoff_ms(settings.current(), clock.now_ms())
    return score is not None and score >= cutoff
