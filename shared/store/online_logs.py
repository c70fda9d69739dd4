"""The mitra online log as the control center reads it: transitions newest first, and
online time per mitra per Asia/Jakarta day, computed in SQL from the transitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.lazy import lazy_module
from shared.store.paging import Keyset, keyset_page_params, keyset_page_sql

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")

TIME_ZONE = "Asia/Jakarta"


@dataclass(frozen=True, slots=True)
class TransitionRow:
    id: int
    mitra_id: UUID
    mitra_name: str
    status: str
    reason: str
    operator_id: UUID | None
    at: datetime


@dataclass(frozen=True, slots=True)
class DurationRow:
    mitra_id: UUID
    mitra_name: str
    day: date
    day_start: datetime
    online_s: float


def transitions(
    connection: Connection,
    *,
    mitra_id: UUID | None,
    at_from: datetime | None,
    at_to: datetime | None,
    after: Keyset | None,
    limit: int,
) -> list[TransitionRow]:
    """Newest first, keyset on (at, id): `mitra_online_log_mitra_idx` serves one mitra,
    `mitra_online_log_at_idx` all of them."""
    rows = connection.execute(
        sa.text(
            f"""
            SELECT l.id, l.mitra_id, m.name AS mitra_name, l.status, l.reason, l.operator_id,
                   l.at
              FROM mitra_online_log l JOIN mitras m ON m.id = l.mitra_id
             WHERE (CAST(:mitra_id AS uuid) IS NULL OR l.mitra_id = :mitra_id)
               AND (CAST(:at_from AS timestamptz) IS NULL OR l.at >= :at_from)
               AND (CAST(:at_to AS timestamptz) IS NULL OR l.at < :at_to)
               AND {keyset_page_sql("l.at", "l.id", "bigint")}
            """
        ),
        {
            "mitra_id": mitra_id,
            "at_from": at_from,
            "at_to": at_to,
            **keyset_page_params(after, int, limit),
        },
    )
    return [TransitionRow(**row._mapping) for row in rows]


def durations(
    connection: Connection,
    *,
    mitra_id: UUID | None,
    at_from: datetime,
    at_to: datetime,
    after: Keyset | None,
    limit: int,
) -> list[DurationRow]:
    """Seconds online per mitra per Asia/Jakarta day within [at_from, at_to), newest day
    first, keyset on (day start, mitra id). Days with no online time are left out.

    Spans run from an `online` transition to the next transition of the same mitra (or to
    now, while still online); a span begun before `at_from` is found through each mitra's
    last transition before it (one index probe per mitra), then every span is clipped to the
    range and split at Jakarta midnights."""
    rows = connection.execute(
        sa.text(
            f"""
            WITH bounds AS (
                SELECT CAST(:lo AS timestamptz) AS lo, CAST(:hi AS timestamptz) AS hi
            ), prior AS (
                SELECT m.id AS mitra_id, p.status, bounds.lo AS at, 0::bigint AS id
                  FROM bounds, mitras m
                  CROSS JOIN LATERAL (
                      SELECT l.status FROM mitra_online_log l
                       WHERE l.mitra_id = m.id AND l.at < bounds.lo
                       ORDER BY l.at DESC, l.id DESC LIMIT 1) p
                 WHERE CAST(:mitra_id AS uuid) IS NULL OR m.id = :mitra_id
            ), inside AS (
                SELECT l.mitra_id, l.status, l.at, l.id
                  FROM bounds, mitra_online_log l
                 WHERE l.at >= bounds.lo AND l.at < bounds.hi
                   AND (CAST(:mitra_id AS uuid) IS NULL OR l.mitra_id = :mitra_id)
            ), spans AS (
                SELECT t.mitra_id, t.status, t.at AS span_start,
                       COALESCE(lead(t.at) OVER (PARTITION BY t.mitra_id ORDER BY t.at, t.id),
                                LEAST(now(), bounds.hi)) AS span_end
                  FROM bounds, (SELECT * FROM prior UNION ALL SELECT * FROM inside) t
            ), days AS (
                SELECT d::date AS day,
                       d::date::timestamp AT TIME ZONE '{TIME_ZONE}' AS day_start,
                       (d::date + 1)::timestamp AT TIME ZONE '{TIME_ZONE}' AS day_end
                  FROM bounds, generate_series(
                       (bounds.lo AT TIME ZONE '{TIME_ZONE}')::date,
                       ((bounds.hi - interval '1 microsecond') AT TIME ZONE '{TIME_ZONE}')::date,
                       interval '1 day') AS d
            ), per_day AS (
                SELECT s.mitra_id, days.day, days.day_start,
                       sum(EXTRACT(EPOCH FROM LEAST(s.span_end, days.day_end, bounds.hi)
                                            - GREATEST(s.span_start, days.day_start, bounds.lo)))
                           AS online_s
                  FROM bounds, spans s
                  JOIN days ON s.span_start < days.day_end AND s.span_end > days.day_start
                 WHERE s.status = 'online' AND s.span_end > s.span_start
                 GROUP BY s.mitra_id, days.day, days.day_start
            )
            SELECT p.mitra_id, m.name AS mitra_name, p.day, p.day_start,
                   CAST(p.online_s AS double precision) AS online_s
              FROM per_day p JOIN mitras m ON m.id = p.mitra_id
             WHERE p.online_s > 0
               AND {keyset_page_sql("p.day_start", "p.mitra_id", "uuid")}
            """
        ),
        {
            "lo": at_from,
            "hi": at_to,
            "mitra_id": mitra_id,
            **keyset_page_params(after, UUID, limit),
        },
    )
    return [DurationRow(**row._mapping) for row in rows]
