"""The `sessions` table and its `session_assignments` history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from shared.lazy import lazy_module
from shared.store.paging import Keyset, keyset_page_params, keyset_page_sql

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")

_Row = TypeVar("_Row")

COLUMNS = "id, client_id, mitra_id, status, started_at, ended_at, ended_by, end_reason, orphaned_at"


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: UUID
    client_id: UUID
    mitra_id: UUID
    status: str
    started_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    orphaned_at: datetime | None


def insert_active(connection: Connection, *, client_id: UUID, mitra_id: UUID) -> SessionRow:
    """Start a session and its first assignment. The partial unique index
    `sessions_one_active_per_client` refuses a second active session for the client."""
    row = SessionRow(
        **connection.execute(
            sa.text(
                f"INSERT INTO sessions (client_id, mitra_id) VALUES (:client_id, :mitra_id)"
                f" RETURNING {COLUMNS}"
            ),
            {"client_id": client_id, "mitra_id": mitra_id},
        )
        .one()
        ._mapping
    )
    connection.execute(
        sa.text(
            "INSERT INTO session_assignments (session_id, mitra_id, assigned_at)"
            " VALUES (:session_id, :mitra_id, :at)"
        ),
        {"session_id": row.id, "mitra_id": mitra_id, "at": row.started_at},
    )
    return row


def active_for_client(connection: Connection, client_id: UUID) -> SessionRow | None:
    result = connection.execute(
        sa.text(f"SELECT {COLUMNS} FROM sessions WHERE client_id = :id AND status = 'active'"),
        {"id": client_id},
    ).one_or_none()
    return SessionRow(**result._mapping) if result is not None else None


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    session_id: UUID
    mitra_id: UUID
    assigned_at: datetime
    unassigned_at: datetime | None


def _row(result: sa.Row | None) -> SessionRow | None:
    return SessionRow(**result._mapping) if result is not None else None


def by_id(connection: Connection, session_id: UUID | str) -> SessionRow | None:
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM sessions WHERE id = :id"), {"id": session_id}
        ).one_or_none()
    )


def end(
    connection: Connection,
    session_id: UUID | str,
    *,
    ended_by: str,
    reason: str | None,
    client_id: UUID | None = None,
    mitra_id: UUID | None = None,
    operator_id: UUID | None = None,
) -> SessionRow | None:
    """End an active session and close its current assignment; None when it was not active
    (or not held by the given client/mitra). The status condition is the compare-and-set:
    of two concurrent enders exactly one gets the row back."""
    result = connection.execute(
        sa.text(
            f"""
            UPDATE sessions
               SET status = 'ended', ended_at = now(), ended_by = :ended_by,
                   end_reason = :reason, ended_by_operator = :operator_id
             WHERE id = :id AND status = 'active'
               AND (CAST(:client_id AS uuid) IS NULL OR client_id = :client_id)
               AND (CAST(:mitra_id AS uuid) IS NULL OR mitra_id = :mitra_id)
            RETURNING {COLUMNS}
            """
        ),
        {
            "id": session_id,
            "ended_by": ended_by,
            "reason": reason,
            "operator_id": operator_id,
            "client_id": client_id,
            "mitra_id": mitra_id,
        },
    ).one_or_none()
    ended = _row(result)
    if ended is not None:
        connection.execute(
            sa.text(
                "UPDATE session_assignments SET unassigned_at = :at"
                " WHERE session_id = :id AND unassigned_at IS NULL"
            ),
            {"id": ended.id, "at": ended.ended_at},
        )
    return ended


def assignments(connection: Connection, session_ids: list[UUID]) -> dict[UUID, list[AssignmentRow]]:
    """Every mitra each session had, oldest first."""
    return rows_per_session(
        connection,
        session_ids,
        "SELECT session_id, mitra_id, assigned_at, unassigned_at FROM session_assignments"
        " WHERE session_id = ANY(CAST(:ids AS uuid[])) ORDER BY assigned_at, id",
        AssignmentRow,
    )


def rows_per_session(
    connection: Connection, session_ids: list[UUID], sql: str, row_type: Callable[..., _Row]
) -> dict[UUID, list[_Row]]:
    """`sql`'s rows grouped by their `session_id` column, in the order the query gives them;
    `sql` takes the sessions as `:ids` (cast it to uuid[]). Every session asked about has a
    list, empty when it has no rows, and no ids means no query."""
    found: dict[UUID, list[_Row]] = {session_id: [] for session_id in session_ids}
    if not session_ids:
        return found
    rows = connection.execute(
        sa.text(sql), {"ids": [str(session_id) for session_id in session_ids]}
    )
    for row in rows:
        found[row.session_id].append(row_type(**row._mapping))
    return found


@dataclass(frozen=True, slots=True)
class SessionDetail:
    """A session with what its participants may be shown of each other (before anonymity
    settings are applied) — one joined query, so a page of 200 is one round trip."""

    session: SessionRow
    client_display_name: str | None  # None once the client's account was erased
    mitra_name: str
    mitra_photo_url: str | None


_DETAIL = (
    "SELECT s.id, s.client_id, s.mitra_id, s.status, s.started_at, s.ended_at, s.ended_by,"
    " s.end_reason, s.orphaned_at,"
    " CASE WHEN c.erased_at IS NULL THEN c.display_name END AS client_display_name,"
    " m.name AS mitra_name, m.photo_url AS mitra_photo_url"
    " FROM sessions s JOIN clients c ON c.id = s.client_id JOIN mitras m ON m.id = s.mitra_id"
)


def _detail(row: sa.Row) -> SessionDetail:
    values = dict(row._mapping)
    return SessionDetail(
        client_display_name=values.pop("client_display_name"),
        mitra_name=values.pop("mitra_name"),
        mitra_photo_url=values.pop("mitra_photo_url"),
        session=SessionRow(**values),
    )


def detail_by_id(connection: Connection, session_id: UUID | str) -> SessionDetail | None:
    row = connection.execute(sa.text(f"{_DETAIL} WHERE s.id = :id"), {"id": session_id})
    found = row.one_or_none()
    return _detail(found) if found is not None else None


def page_for_client(
    connection: Connection, client_id: UUID, *, limit: int, after: Keyset | None
) -> list[SessionDetail]:
    """Newest first, keyset-paginated on (started_at, id); `limit` rows at most."""
    return _page(connection, "s.client_id = :owner", {"owner": client_id}, limit, after)


def page_for_mitra(
    connection: Connection,
    mitra_id: UUID,
    *,
    status: str | None,
    limit: int,
    after: Keyset | None,
) -> list[SessionDetail]:
    """The sessions the mitra holds now or held when they ended, newest first."""
    where = "s.mitra_id = :owner" + (" AND s.status = :status" if status else "")
    params: dict[str, object] = {"owner": mitra_id}
    if status:
        params["status"] = status
    return _page(connection, where, params, limit, after)


def _page(
    connection: Connection,
    where: str,
    params: dict[str, object],
    limit: int,
    after: Keyset | None,
) -> list[SessionDetail]:
    rows = connection.execute(
        sa.text(
            f"""
            {_DETAIL}
             WHERE {where}
               AND {keyset_page_sql("s.started_at", "s.id", "uuid")}
            """
        ),
        {**params, **keyset_page_params(after, UUID, limit)},
    )
    return [_detail(row) for row in rows]


# -- reroute and orphans (shared.domain.reroute, shared.domain.orphans) ---------------------


def lock_active(connection: Connection, session_id: UUID | str) -> SessionRow | None:
    """The session if it is active, row-locked until the transaction ends (a reroute and an
    end racing for it are serialized here)."""
    return _row(
        connection.execute(
            sa.text(
                f"SELECT {COLUMNS} FROM sessions WHERE id = :id AND status = 'active' FOR UPDATE"
            ),
            {"id": session_id},
        ).one_or_none()
    )


def reassign(
    connection: Connection, session_id: UUID, *, to_mitra_id: UUID | str, reason: str
) -> SessionRow:
    """Move a session locked with `lock_active` to another mitra: the current assignment
    closes and the new one opens at the same instant (the transaction's now()), and the
    session's orphan marks are cleared (its new mitra is online)."""
    connection.execute(
        sa.text(
            "UPDATE session_assignments SET unassigned_at = now()"
            " WHERE session_id = :id AND unassigned_at IS NULL"
        ),
        {"id": session_id},
    )
    connection.execute(
        sa.text(
            "INSERT INTO session_assignments (session_id, mitra_id, assigned_at, reason)"
            " VALUES (:id, :mitra_id, now(), :reason)"
        ),
        {"id": session_id, "mitra_id": to_mitra_id, "reason": reason},
    )
    return SessionRow(
        **connection.execute(
            sa.text(
                f"UPDATE sessions SET mitra_id = :mitra_id, orphaned_at = NULL,"
                f" orphan_handled_at = NULL WHERE id = :id RETURNING {COLUMNS}"
            ),
            {"id": session_id, "mitra_id": to_mitra_id},
        )
        .one()
        ._mapping
    )


def mark_orphaned(connection: Connection, mitra_ids: list[str] | list[UUID]) -> int:
    """The active sessions of mitras that just went offline are orphaned from now (a session
    already orphaned keeps its first time)."""
    if not mitra_ids:
        return 0
    return connection.execute(
        sa.text(
            "UPDATE sessions SET orphaned_at = now() WHERE mitra_id = ANY(CAST(:ids AS uuid[]))"
            " AND status = 'active' AND orphaned_at IS NULL"
        ),
        {"ids": [str(mitra_id) for mitra_id in mitra_ids]},
    ).rowcount


def clear_orphaned(connection: Connection, mitra_id: UUID | str) -> int:
    """The mitra is back: its active sessions are no longer orphaned (a later absence is a
    new orphaning, handled afresh)."""
    return connection.execute(
        sa.text(
            "UPDATE sessions SET orphaned_at = NULL, orphan_handled_at = NULL"
            " WHERE mitra_id = :id AND status = 'active' AND orphaned_at IS NOT NULL"
        ),
        {"id": mitra_id},
    ).rowcount


def claim_orphans(connection: Connection, grace_s: int, limit: int = 100) -> list[SessionRow]:
    """Mark handled, and return, the sessions orphaned for longer than the grace period and
    not yet handled. SKIP LOCKED plus the repeated `orphan_handled_at IS NULL` guard give
    each orphan to exactly one of two sweepers running at once."""
    rows = connection.execute(
        sa.text(
            f"""
            UPDATE sessions SET orphan_handled_at = now()
             WHERE id IN (SELECT id FROM sessions
                           WHERE status = 'active' AND orphaned_at IS NOT NULL
                             AND orphan_handled_at IS NULL
                             AND orphaned_at <= now() - make_interval(secs => :grace)
                           ORDER BY orphaned_at LIMIT :limit
                           FOR UPDATE SKIP LOCKED)
               AND status = 'active' AND orphan_handled_at IS NULL
            RETURNING {COLUMNS}
            """
        ),
        {"grace": grace_s, "limit": limit},
    )
    return [SessionRow(**row._mapping) for row in rows]


def overdue_active(connection: Connection, *, max_age_s: int, limit: int) -> list[UUID]:
    """Active sessions started more than `max_age_s` ago, oldest first, at most `limit`."""
    rows = connection.execute(
        sa.text(
            "SELECT id FROM sessions WHERE status = 'active'"
            " AND started_at < now() - make_interval(secs => :age)"
            " ORDER BY started_at LIMIT :limit"
        ),
        {"age": max_age_s, "limit": limit},
    )
    return [row.id for row in rows]
