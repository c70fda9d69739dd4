"""The dashboard's live figures and the sweeper's last run (`sweeper:last_run`)."""

from __future__ import annotations

from typing import NamedTuple

from shared import valkey
from shared.store.live import keys


class LiveFigures(NamedTuple):
    online: int
    available: int
    busy: int
    sweeper_finished_at: str | None  # ISO 8601, None when Valkey has no record
    sweeper_status: str | None


def live_figures(cutoff_ms: int) -> LiveFigures:
    """Mitras online, available and busy, and the sweeper's last run, in one round trip
    (shared/lua/dashboard_live.lua)."""
    online, available, busy, finished_at, status = valkey.script("dashboard_live")(
        keys=[keys.SWEEPER_LAST_RUN, keys.HEARTBEATS, keys.AVAILABLE], args=[cutoff_ms]
    )
    return LiveFigures(
        online=int(online),
        available=int(available),
        busy=int(busy),
        sweeper_finished_at=str(finished_at) if finished_at else None,
        sweeper_status=str(status) if status else None,
    )


def record_sweep(started_at: str, finished_at: str, status: str, summary: str) -> None:
    """The sweeper's run as the dashboard reads it (ISO 8601 times, summary JSON)."""
    valkey.client().hset(
        keys.SWEEPER_LAST_RUN,
        mapping={
            "started_at": started_at,
            "finished_at": finished_at,
            "status": status,
            "summary": summary,
        },
    )


def last_sweep() -> dict[str, str]:
    return {str(k): str(v) for k, v in valkey.client().hgetall(keys.SWEEPER_LAST_RUN).items()}
