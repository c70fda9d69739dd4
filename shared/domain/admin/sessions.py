"""Sessions from the control center: list with filters, one session with its history, and
an operator ending one (both apps are told, as when a participant ends it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from shared import db
from shared.domain import audit, pairing, time_range
from shared.domain import sessions as session_rules
from shared.errors import NotFound
from shared.store import sessions
from shared.store.admin import sessions as store
from shared.store.admin.sessions import AdminSessionRow, StintRow
from shared.store.paging import Keyset


@dataclass(frozen=True, slots=True)
class AdminSessionView:
    row: AdminSessionRow
    history: list[StintRow]


def session_page(
    *,
    status: str | None,
    mitra_id: UUID | None,
    client_id: UUID | None,
    started_from: datetime | None,
    started_to: datetime | None,
    orphaned: bool | None,
    after: Keyset | None,
    limit: int,
) -> list[AdminSessionView]:
    """Newest first; `limit` rows (callers fetch one extra to know whether more exist)."""
    time_range.check(started_from, started_to)
    with db.read() as connection:
        rows = store.page(
            connection,
            status=status,
            mitra_id=mitra_id,
            client_id=client_id,
            started_from=started_from,
            started_to=started_to,
            orphaned=orphaned,
            after=after,
            limit=limit,
        )
        history = store.history(connection, [row.id for row in rows])
    return [AdminSessionView(row=row, history=history[row.id]) for row in rows]


def get_session(session_id: UUID) -> AdminSessionView:
    with db.read() as connection:
        row = store.by_id(connection, session_id)
        if row is None:
            raise NotFound("No session with that id.")
        history = store.history(connection, [row.id])
    return AdminSessionView(row=row, history=history[row.id])


def _state(row: Any) -> dict[str, Any]:
    return {"status": row.status, "mitra_id": str(row.mitra_id)}


def end_session(operator_id: UUID, session_id: UUID, reason: str) -> AdminSessionView:
    """End an active session as an operator (audited in the same transaction). Idempotent:
    an ended session is returned unchanged, with no second audit entry or event."""
    with db.transaction() as connection:
        ended = sessions.end(
            connection, session_id, ended_by="operator", reason=reason, operator_id=operator_id
        )
        if ended is not None:
            audit.record(
                connection,
                operator_id,
                "session.end",
                "session",
                ended.id,
                {"status": "active", "mitra_id": str(ended.mitra_id)},
                {**_state(ended), "end_reason": reason},
            )
    if ended is not None:
        session_rules.announce_end(ended)
        # A re-blast still searching for this session has nothing left to move.
        pairing.cancel_open_request(ended.client_id)
    return get_session(session_id)
