"""Mitra online/offline transitions: the flip of `mitras.is_online` and its row in
`mitra_online_log`, written by one statement each, so a transition is never half-written
and the `WHERE is_online` / `WHERE NOT is_online` guard makes each real transition log
exactly one row however many callers race for it. (The control center reads the log in
`shared.store.online_logs`.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared.lazy import lazy_module

Reason = Literal["manual", "heartbeat_timeout", "admin_forced", "logout", "suspended"]

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


def go_online(connection: Connection, mitra_id: UUID | str, reason: Reason) -> bool:
    """Put an active, offline mitra online; False (and nothing written) otherwise."""
    return (
        connection.execute(
            sa.text(
                """
                WITH changed AS (
                    UPDATE mitras SET is_online = true, online_since = now(), updated_at = now()
                     WHERE id = :id AND NOT is_online AND status = 'active'
                    RETURNING id
                )
                INSERT INTO mitra_online_log (mitra_id, status, reason)
                SELECT id, 'online', :reason FROM changed
                RETURNING mitra_id
                """
            ),
            {"id": mitra_id, "reason": reason},
        ).one_or_none()
        is not None
    )


def go_offline(
    connection: Connection,
    mitra_ids: Sequence[UUID | str],
    reason: Reason,
    operator_id: UUID | None = None,
) -> list[str]:
    """Take the online ones among `mitra_ids` offline; the ids that really changed."""
    if not mitra_ids:
        return []
    rows = connection.execute(
        sa.text(
            """
            WITH changed AS (
                UPDATE mitras SET is_online = false, online_since = NULL, updated_at = now()
                 WHERE id = ANY(CAST(:ids AS uuid[])) AND is_online
                RETURNING id
            )
            INSERT INTO mitra_online_log (mitra_id, status, reason, operator_id)
            SELECT id, 'offline', :reason, :operator_id FROM changed
            RETURNING mitra_id
            """
        ),
        {"ids": [str(i) for i in mitra_ids], "reason": reason, "operator_id": operator_id},
    )
    return [str(row.mitra_id) for row in rows]


def go_offline_if_unchanged(
    connection: Connection, seen: Sequence[tuple[str, datetime | None]], reason: Reason
) -> list[str]:
    """Take offline the mitras still online since the time seen (a mitra that toggled off
    and on meanwhile has a new `online_since` and is left alone); the ids that changed."""
    if not seen:
        return []
    rows = connection.execute(
        sa.text(
            """
            WITH seen AS (
                SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:since AS timestamptz[]))
                    AS s(id, online_since)
            ), changed AS (
                UPDATE mitras m
                   SET is_online = false, online_since = NULL, updated_at = now()
                  FROM seen
                 WHERE m.id = seen.id AND m.is_online
                   AND m.online_since IS NOT DISTINCT FROM seen.online_since
                RETURNING m.id
            )
            INSERT INTO mitra_online_log (mitra_id, status, reason)
            SELECT id, 'offline', :reason FROM changed
            RETURNING mitra_id
            """
        ),
        {
            "ids": [mitra_id for mitra_id, _ in seen],
            "since": [since.isoformat() if since else None for _, since in seen],
            "reason": reason,
        },
    )
    return [str(row.mitra_id) for row in rows]
