"""The dashboard's PostgreSQL figures: one statement, whatever the size of the day's data.

Day figures cover one Asia/Jakarta day and read index ranges only: `pairing_requests_day_idx`
(created_at INCLUDE status, time_to_match_ms, the clients' own presses) and
`sessions_started_idx`. Current counts read partial indexes (`sessions_active_by_mitra`,
`sessions_orphaned`, `pairing_requests_searching_idx`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


TIME_ZONE = "Asia/Jakarta"
ORPHANS_LISTED = 50


@dataclass(frozen=True, slots=True)
class OrphanRow:
    session_id: UUID
    client_id: UUID
    mitra_id: UUID
    orphaned_at: datetime
    handled_at: datetime | None


@dataclass(frozen=True, slots=True)
class Figures:
    clients_searching: int
    sessions_active: int
    sessions_orphaned: int
    sessions_today: int
    requests_today: int
    no_bestie_today: int
    time_to_match_p50_ms: float | None
    time_to_match_p90_ms: float | None
    orphans: tuple[OrphanRow, ...]


def figures(connection: Connection, day: date) -> Figures:
    """Current counts and the figures of `day` (Asia/Jakarta). Re-blast requests made by
    reroutes (`reroute_session` set) are not a client pressing *Mulai Curhat*, so they are
    left out of searching clients, time to match and the no-bestie rate."""
    row = connection.execute(
        sa.text(
            f"""
            WITH day AS (
                SELECT CAST(:day AS date)::timestamp AT TIME ZONE '{TIME_ZONE}' AS lo,
                       (CAST(:day AS date) + 1)::timestamp AT TIME ZONE '{TIME_ZONE}' AS hi
            ), requests AS (
                SELECT count(*) AS total,
                       count(*) FILTER (WHERE r.status = 'no_bestie') AS no_bestie,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.time_to_match_ms)
                           FILTER (WHERE r.status = 'matched') AS p50_ms,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY r.time_to_match_ms)
                           FILTER (WHERE r.status = 'matched') AS p90_ms
                  FROM day, pairing_requests r
                 WHERE r.created_at >= day.lo AND r.created_at < day.hi
                   AND r.reroute_session IS NULL
            ), orphans AS (
                SELECT id, client_id, mitra_id, orphaned_at, orphan_handled_at
                  FROM sessions WHERE status = 'active' AND orphaned_at IS NOT NULL
                 ORDER BY orphaned_at LIMIT {ORPHANS_LISTED}
            )
            SELECT
                (SELECT count(*) FROM pairing_requests
                  WHERE status = 'searching' AND expires_at > now()
                    AND reroute_session IS NULL) AS clients_searching,
                (SELECT count(*) FROM sessions WHERE status = 'active') AS sessions_active,
                (SELECT count(*) FROM sessions
                  WHERE status = 'active' AND orphaned_at IS NOT NULL) AS sessions_orphaned,
                (SELECT count(*) FROM day, sessions s
                  WHERE s.started_at >= day.lo AND s.started_at < day.hi) AS sessions_today,
                requests.total AS requests_today,
                requests.no_bestie AS no_bestie_today,
                requests.p50_ms, requests.p90_ms,
                (SELECT COALESCE(json_agg(json_build_array(
                            id, client_id, mitra_id, orphaned_at, orphan_handled_at)
                            ORDER BY orphaned_at), '[]'::json)
                   FROM orphans) AS orphans
              FROM requests
            """
        ),
        {"day": day},
    ).one()
    return Figures(
        clients_searching=int(row.clients_searching),
        sessions_active=int(row.sessions_active),
        sessions_orphaned=int(row.sessions_orphaned),
        sessions_today=int(row.sessions_today),
        requests_today=int(row.requests_today),
        no_bestie_today=int(row.no_bestie_today),
        time_to_match_p50_ms=_float(row.p50_ms),
        time_to_match_p90_ms=_float(row.p90_ms),
        orphans=tuple(_orphan(item) for item in _json(row.orphans)),
    )


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _json(value: Any) -> list[Any]:
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value or [])


def _orphan(item: list[Any]) -> OrphanRow:
    session_id, client_id, mitra_id, orphaned_at, handled_at = item
    return OrphanRow(
        session_id=UUID(session_id),
        client_id=UUID(client_id),
        mitra_id=UUID(mitra_id),
        orphaned_at=datetime.fromisoformat(orphaned_at),
        handled_at=datetime.fromisoformat(handled_at) if handled_at else None,
    )
