"""Helpers for the presence tests: read the online log, age a mitra's heartbeat."""

from __future__ import annotations

import sqlalchemy as sa

from shared import clock, valkey
from shared.domain import presence, settings
from shared.store.live import keys
from tests.support.presence import resync


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
