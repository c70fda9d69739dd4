"""Everything held about one client, read for their data export (UU PDP's right of access).

Plain rows as dicts, one query per table, all in one read transaction so the export is one
consistent snapshot. A client's rows are bounded by their own use of the service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


_QUERIES: dict[str, str] = {
    "sessions": """
        SELECT s.id, s.status, s.started_at, s.ended_at, s.ended_by, s.end_reason,
               s.mitra_id, m.name AS mitra_name, m.photo_url AS mitra_photo_url
          FROM sessions s JOIN mitras m ON m.id = s.mitra_id
         WHERE s.client_id = :id ORDER BY s.started_at, s.id
    """,
    "pairing_requests": """
        SELECT id, status, created_at, expires_at, closed_at, session_id, time_to_match_ms
          FROM pairing_requests WHERE client_id = :id ORDER BY created_at, id
    """,
    "payments": """
        SELECT id, package_id, sessions, amount, currency, status, invoice_url, expires_at,
               paid_at, failure_reason, created_at
          FROM payments WHERE client_id = :id ORDER BY created_at, id
    """,
    "ledger": """
        SELECT id, bucket, kind, sessions, payment_id, session_id, reason, created_at
          FROM credit_ledger WHERE client_id = :id ORDER BY id
    """,
    "chat_messages": """
        SELECT m.id, m.session_id, m.seq, m.sender, m.sent_at
          FROM chat_messages m JOIN sessions s ON s.id = m.session_id
         WHERE s.client_id = :id ORDER BY s.started_at, m.session_id, m.seq
    """,
    "devices": """
        SELECT token, platform, app_version, locale, created_at, last_seen_at
          FROM devices WHERE owner_kind = 'client' AND owner_id = :id ORDER BY created_at
    """,
}


def client_rows(connection: Connection, client_id: UUID) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [dict(row._mapping) for row in connection.execute(sa.text(sql), {"id": client_id})]
        for name, sql in _QUERIES.items()
    }
