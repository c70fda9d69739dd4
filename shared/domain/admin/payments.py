"""The control center's payments list: payments by status and client, newest first, each
with every callback recorded for it (webhook or reconciliation) and its outcome."""

from __future__ import annotations

from uuid import UUID

from shared import db
from shared.store import payments
from shared.store.paging import Keyset
from shared.store.payments import PaymentRow, WebhookEventRow


def payment_page(
    *, status: str | None, client_id: UUID | None, after: Keyset | None, limit: int
) -> list[tuple[PaymentRow, list[WebhookEventRow]]]:
    """Fetch `limit + 1` to know whether another page exists."""
    with db.read() as connection:
        rows = payments.admin_page(
            connection, status=status, client_id=client_id, after=after, limit=limit
        )
        events = payments.webhook_events_of(connection, [row.id for row in rows])
    return [(row, events[row.id]) for row in rows]
