"""The `pairing_requests` table: one row per press of *Mulai Curhat*, with its outcome for
the dashboard. Who was offered a request, and who declined it, lives only in Valkey while
the request searches (docs/pairing.md): nothing per mitra is written here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


Status = Literal["searching", "matched", "expired", "cancelled", "no_bestie"]

COLUMNS = (
    "id, client_id, status, idempotency_key, offered_count, created_at, expires_at, closed_at,"
    " session_id, matched_mitra_id, time_to_match_ms, reroute_session"
)


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: UUID
    client_id: UUID
    status: str
    idempotency_key: str | None
    offered_count: int
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    session_id: UUID | None
    matched_mitra_id: UUID | None
    time_to_match_ms: int | None
    # Set when the request re-blasts an existing session (a reroute): its accept moves that
    # session to the winner instead of starting a new one.
    reroute_session: UUID | None


@dataclass(frozen=True, slots=True)
class OfferRow:
    request_id: UUID
    client_display_name: str | None
    created_at: datetime
    expires_at: datetime


def _row(result: sa.Row | None) -> RequestRow | None:
    return RequestRow(**result._mapping) if result is not None else None


def insert(
    connection: Connection,
    *,
    client_id: UUID,
    idempotency_key: str | None,
    created_at: datetime,
    expires_at: datetime,
    reroute_session: UUID | None = None,
) -> RequestRow:
    """A new searching request. The partial unique indexes refuse a second open request for
    the client and a reused idempotency key (IntegrityError; the caller names which)."""
    return RequestRow(
        **connection.execute(
            sa.text(
                f"INSERT INTO pairing_requests (client_id, status, idempotency_key, created_at,"
                f" expires_at, reroute_session) VALUES (:client_id, 'searching', :key,"
                f" :created_at, :expires_at, :reroute_session) RETURNING {COLUMNS}"
            ),
            {
                "client_id": client_id,
                "key": idempotency_key,
                "created_at": created_at,
                "expires_at": expires_at,
                "reroute_session": reroute_session,
            },
        )
        .one()
        ._mapping
    )


def by_id(connection: Connection, request_id: UUID | str) -> RequestRow | None:
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM pairing_requests WHERE id = :id"), {"id": request_id}
        ).one_or_none()
    )


def by_idempotency_key(connection: Connection, client_id: UUID, key: str) -> RequestRow | None:
    return _row(
        connection.execute(
            sa.text(
                f"SELECT {COLUMNS} FROM pairing_requests"
                f" WHERE client_id = :client_id AND idempotency_key = :key"
            ),
            {"client_id": client_id, "key": key},
        ).one_or_none()
    )


def open_for_client(connection: Connection, client_id: UUID) -> RequestRow | None:
    return _row(
        connection.execute(
            sa.text(
                f"SELECT {COLUMNS} FROM pairing_requests"
                f" WHERE client_id = :client_id AND status = 'searching'"
            ),
            {"client_id": client_id},
        ).one_or_none()
    )


def set_offered_count(connection: Connection, request_id: UUID, offered: int) -> None:
    """How many mitras were available when the request was blasted (`offered_to`)."""
    connection.execute(
        sa.text("UPDATE pairing_requests SET offered_count = :n WHERE id = :id"),
        {"id": request_id, "n": offered},
    )


def close(connection: Connection, request_id: UUID, status: Status) -> RequestRow | None:
    """Close a searching request (cancelled, expired, no_bestie); None if it was not searching
    any more, so a close is recorded — and announced — exactly once."""
    return _row(
        connection.execute(
            sa.text(
                f"UPDATE pairing_requests SET status = :status, closed_at = now()"
                f" WHERE id = :id AND status = 'searching' RETURNING {COLUMNS}"
            ),
            {"id": request_id, "status": status},
        ).one_or_none()
    )


def mark_matched(
    connection: Connection, request_id: UUID, *, session_id: UUID, mitra_id: UUID | str
) -> RequestRow | None:
    """Record the match and the time it took; None if the request was not searching."""
    return _row(
        connection.execute(
            sa.text(
                f"""
                UPDATE pairing_requests
                   SET status = 'matched', closed_at = now(), session_id = :session_id,
                       matched_mitra_id = :mitra_id,
                       time_to_match_ms = GREATEST(0, (EXTRACT(EPOCH FROM (now() - created_at))
                                                      * 1000)::integer)
                 WHERE id = :id AND status = 'searching'
                RETURNING {COLUMNS}
                """
            ),
            {"id": request_id, "session_id": session_id, "mitra_id": mitra_id},
        ).one_or_none()
    )


def open_offers_among(connection: Connection, request_ids: Sequence[str]) -> list[OfferRow]:
    """Display fields of the given requests that are still searching in their window."""
    rows = connection.execute(
        sa.text(
            """
            SELECT r.id AS request_id, c.display_name AS client_display_name,
                   r.created_at, r.expires_at
              FROM pairing_requests r
              JOIN clients c ON c.id = r.client_id
             WHERE r.id = ANY(string_to_array(:ids, ',')::uuid[])
               AND r.status = 'searching' AND r.expires_at > now()
             ORDER BY r.created_at
            """
        ),
        {"ids": ",".join(request_ids)},
    ).all()
    return [OfferRow(**row._mapping) for row in rows]


def overdue_ids(connection: Connection, limit: int = 500) -> list[UUID]:
    """Searching requests whose window is over (the sweeper makes their expiry durable)."""
    return list(
        connection.execute(
            sa.text(
                "SELECT id FROM pairing_requests WHERE status = 'searching'"
                " AND expires_at <= now() ORDER BY expires_at LIMIT :limit"
            ),
            {"limit": limit},
        ).scalars()
    )


def searching_ids(connection: Connection, limit: int = 2000) -> list[UUID]:
    return list(
        connection.execute(
            sa.text(
                "SELECT id FROM pairing_requests WHERE status = 'searching'"
                " ORDER BY created_at LIMIT :limit"
            ),
            {"limit": limit},
        ).scalars()
    )
