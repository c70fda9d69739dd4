"""The `sessions` table and its `session_assignments` history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

COLUMNS = (
    "id, client_id, mitra_id, status, started_at, ended_at, ended_by, end_reason, orphaned_at"
)


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
        ).one()._mapping
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
