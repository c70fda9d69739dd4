"""Sessions as the control center reads them: every session, filtered, with both sides'
names and the full assignment history (which mitras, when, and why each took over)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.lazy import lazy_module
from shared.store.paging import Keyset, keyset_page_params, keyset_page_sql
from shared.store.sessions import rows_per_session

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


@dataclass(frozen=True, slots=True)
class AdminSessionRow:
    id: UUID
    status: str
    client_id: UUID
    client_display_name: str
    mitra_id: UUID
    mitra_name: str
    started_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    ended_by_operator: UUID | None
    orphaned_at: datetime | None
    orphan_handled_at: datetime | None


@dataclass(frozen=True, slots=True)
class StintRow:
    session_id: UUID
    mitra_id: UUID
    mitra_name: str
    assigned_at: datetime
    unassigned_at: datetime | None
    reason: str


_SELECT = """
    SELECT s.id, s.status, s.client_id, c.display_name AS client_display_name,
           s.mitra_id, m.name AS mitra_name, s.started_at, s.ended_at, s.ended_by,
           s.end_reason, s.ended_by_operator, s.orphaned_at, s.orphan_handled_at
      FROM sessions s
      JOIN clients c ON c.id = s.client_id
      JOIN mitras m ON m.id = s.mitra_id
"""


def by_id(connection: Connection, session_id: UUID) -> AdminSessionRow | None:
    row = connection.execute(sa.text(f"{_SELECT} WHERE s.id = :id"), {"id": session_id})
    found = row.one_or_none()
    return AdminSessionRow(**found._mapping) if found is not None else None


def page(
    connection: Connection,
    *,
    status: str | None,
    mitra_id: UUID | None,
    client_id: UUID | None,
    started_from: datetime | None,
    started_to: datetime | None,
    orphaned: bool | None,
    after: Keyset | None,
    limit: int,
) -> list[AdminSessionRow]:
    """Newest first by start, keyset-paginated on (started_at, id). `mitra_id` is the mitra
    holding the session now (or when it ended); each filter is served by an index on
    sessions (by client, by mitra, by status, by start)."""
    rows = connection.execute(
        sa.text(
            f"""
            {_SELECT}
             WHERE (CAST(:status AS text) IS NULL OR s.status = :status)
               AND (CAST(:mitra_id AS uuid) IS NULL OR s.mitra_id = :mitra_id)
               AND (CAST(:client_id AS uuid) IS NULL OR s.client_id = :client_id)
               AND (CAST(:started_from AS timestamptz) IS NULL OR s.started_at >= :started_from)
               AND (CAST(:started_to AS timestamptz) IS NULL OR s.started_at < :started_to)
               AND (CAST(:orphaned AS boolean) IS NULL
                    OR (s.status = 'active' AND s.orphaned_at IS NOT NULL) = :orphaned)
               AND {keyset_page_sql("s.started_at", "s.id", "uuid")}
            """
        ),
        {
            "status": status,
            "mitra_id": mitra_id,
            "client_id": client_id,
            "started_from": started_from,
            "started_to": started_to,
            "orphaned": orphaned,
            **keyset_page_params(after, UUID, limit),
        },
    )
    return [AdminSessionRow(**row._mapping) for row in rows]


def history(connection: Connection, session_ids: list[UUID]) -> dict[UUID, list[StintRow]]:
    """Every mitra each session had, oldest first, with why each took over
    (`matched`, `rerouted` by an operator, `reblast` accepted)."""
    return rows_per_session(
        connection,
        session_ids,
        "SELECT a.session_id, a.mitra_id, m.name AS mitra_name, a.assigned_at,"
        " a.unassigned_at, a.reason FROM session_assignments a"
        " JOIN mitras m ON m.id = a.mitra_id"
        " WHERE a.session_id = ANY(CAST(:ids AS uuid[])) ORDER BY a.assigned_at, a.id",
        StintRow,
    )
