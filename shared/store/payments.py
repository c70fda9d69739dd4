"""The `payments` table (one row per purchase attempt, the anchor of its Xendit invoice) and
`payment_webhook_events` (every invoice callback received, with what we did about it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


from shared.store.paging import Keyset, keyset_page_params, keyset_page_sql

COLUMNS = (
    "id, client_id, package_id, sessions, amount, currency, status, idempotency_key,"
    " xendit_invoice_id, invoice_url, expires_at, paid_at, created_at, updated_at,"
    " failure_reason"
)

Status = Literal["pending", "paid", "expired", "failed"]
Outcome = Literal["credited", "duplicate", "expired", "mismatch", "unknown_payment", "ignored"]
Source = Literal["webhook", "reconciliation"]


@dataclass(frozen=True, slots=True)
class PaymentRow:
    id: UUID
    client_id: UUID
    package_id: UUID
    sessions: int
    amount: int
    currency: str
    status: str
    idempotency_key: str | None
    xendit_invoice_id: str | None
    invoice_url: str | None
    expires_at: datetime | None
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime
    failure_reason: str | None = None


def _row(result: sa.Row | None) -> PaymentRow | None:
    return PaymentRow(**result._mapping) if result is not None else None


def insert_pending(
    connection: Connection,
    *,
    client_id: UUID,
    package_id: UUID,
    sessions: int,
    amount: int,
    currency: str,
    idempotency_key: str | None,
) -> tuple[PaymentRow, bool]:
    """A new pending payment, or the client's existing one with this idempotency key:
    (row, created). Safe under concurrent calls with the same key."""
    inserted = connection.execute(
        sa.text(
            f"""
            INSERT INTO payments (client_id, package_id, sessions, amount, currency,
                                  idempotency_key)
            VALUES (:client_id, :package_id, :sessions, :amount, :currency, :key)
            ON CONFLICT (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL
            DO NOTHING
            RETURNING {COLUMNS}
            """
        ),
        {
            "client_id": client_id,
            "package_id": package_id,
            "sessions": sessions,
            "amount": amount,
            "currency": currency,
            "key": idempotency_key,
        },
    ).one_or_none()
    if inserted is not None:
        return PaymentRow(**inserted._mapping), True
    existing = _row(
        connection.execute(
            sa.text(
                f"SELECT {COLUMNS} FROM payments"
                " WHERE client_id = :client_id AND idempotency_key = :key"
            ),
            {"client_id": client_id, "key": idempotency_key},
        ).one_or_none()
    )
    assert existing is not None
    return existing, False


def by_id(
    connection: Connection, payment_id: UUID | str, *, lock: bool = False
) -> PaymentRow | None:
    suffix = " FOR UPDATE" if lock else ""
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM payments WHERE id = :id{suffix}"), {"id": payment_id}
        ).one_or_none()
    )


def claim_retry(
    connection: Connection, payment_id: UUID, *, stale_after_s: int
) -> PaymentRow | None:
    """Take a payment whose invoice attempt failed (or was abandoned mid-way: pending with no
    invoice for longer than any provider call takes) back to pending for one more attempt.
    None when someone else holds the attempt or the payment already has its invoice."""
    return _row(
        connection.execute(
            sa.text(
                f"""
                UPDATE payments SET status = 'pending', updated_at = now()
                 WHERE id = :id AND invoice_url IS NULL
                   AND (status = 'failed'
                        OR (status = 'pending'
                            AND updated_at < now() - make_interval(secs => :stale)))
                RETURNING {COLUMNS}
                """
            ),
            {"id": payment_id, "stale": stale_after_s},
        ).one_or_none()
    )


def attach_invoice(
    connection: Connection,
    payment_id: UUID,
    *,
    invoice_id: str,
    invoice_url: str,
    expires_at: datetime | None,
) -> PaymentRow:
    return PaymentRow(
        **connection.execute(
            sa.text(
                f"""
                UPDATE payments
                   SET xendit_invoice_id = :invoice_id, invoice_url = :url,
                       expires_at = :expires_at, updated_at = now()
                 WHERE id = :id
                RETURNING {COLUMNS}
                """
            ),
            {
                "id": payment_id,
                "invoice_id": invoice_id,
                "url": invoice_url,
                "expires_at": expires_at,
            },
        )
        .one()
        ._mapping
    )


def mark_failed(connection: Connection, payment_id: UUID) -> None:
    connection.execute(
        sa.text(
            "UPDATE payments SET status = 'failed', updated_at = now()"
            " WHERE id = :id AND status = 'pending' AND invoice_url IS NULL"
        ),
        {"id": payment_id},
    )


def set_status(
    connection: Connection,
    payment_id: UUID,
    status: Status,
    *,
    invoice_id: str | None = None,
    paid_at: datetime | None = None,
) -> None:
    connection.execute(
        sa.text(
            """
            UPDATE payments
               SET status = :status,
                   xendit_invoice_id = COALESCE(xendit_invoice_id, :invoice_id),
                   paid_at = COALESCE(paid_at, :paid_at), updated_at = now()
             WHERE id = :id
            """
        ),
        {"id": payment_id, "status": status, "invoice_id": invoice_id, "paid_at": paid_at},
    )


def record_webhook(
    connection: Connection,
    *,
    external_id: str | None,
    invoice_id: str | None,
    status: str | None,
    amount: Decimal | None,
    currency: str | None,
    outcome: Outcome,
    payload: dict[str, Any],
    source: Source = "webhook",
) -> None:
    connection.execute(
        sa.text(
            """
            INSERT INTO payment_webhook_events (external_id, invoice_id, status, amount,
                                                currency, outcome, payload, source)
            VALUES (:external_id, :invoice_id, :status, :amount, :currency, :outcome,
                    CAST(:payload AS jsonb), :source)
            """
        ),
        {
            "source": source,
            "external_id": external_id,
            "invoice_id": invoice_id,
            "status": status,
            "amount": amount,
            "currency": currency,
            "outcome": outcome,
            "payload": json.dumps(payload, default=str),
        },
    )


# -- reconciliation --------------------------------------------------------------------------


def overdue_pending(connection: Connection, *, margin_s: int, limit: int) -> list[PaymentRow]:
    """Pending payments with an invoice whose expiry passed more than `margin_s` ago (their
    webhook should have come), least recently looked at first, at most `limit`."""
    rows = connection.execute(
        sa.text(
            f"""
            SELECT {COLUMNS} FROM payments
             WHERE status = 'pending' AND xendit_invoice_id IS NOT NULL
               AND expires_at < now() - make_interval(secs => :margin)
             ORDER BY updated_at, expires_at LIMIT :limit
            """
        ),
        {"margin": margin_s, "limit": limit},
    )
    return [PaymentRow(**row._mapping) for row in rows]


def touch_pending(connection: Connection, payment_id: UUID) -> None:
    """Note that reconciliation looked at a payment it could not settle yet."""
    connection.execute(
        sa.text("UPDATE payments SET updated_at = now() WHERE id = :id AND status = 'pending'"),
        {"id": payment_id},
    )


def fail_pending(connection: Connection, payment_id: UUID, reason: str) -> bool:
    """Mark a still-pending payment failed with its reason; False when it was settled
    meanwhile (a webhook won the race)."""
    return (
        connection.execute(
            sa.text(
                "UPDATE payments SET status = 'failed', failure_reason = :reason,"
                " updated_at = now() WHERE id = :id AND status = 'pending' RETURNING id"
            ),
            {"id": payment_id, "reason": reason[:500]},
        ).one_or_none()
        is not None
    )


# -- the control center's list ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookEventRow:
    id: int
    received_at: datetime
    status: str | None
    outcome: str
    source: str


def admin_page(
    connection: Connection,
    *,
    status: str | None,
    client_id: UUID | None,
    after: Keyset | None,
    limit: int,
) -> list[PaymentRow]:
    """Newest first, by status and client."""
    rows = connection.execute(
        sa.text(
            f"""
            SELECT {COLUMNS} FROM payments
             WHERE (CAST(:status AS text) IS NULL OR status = :status)
               AND (CAST(:client_id AS uuid) IS NULL OR client_id = :client_id)
               AND {keyset_page_sql("created_at", "id", "uuid")}
            """
        ),
        {"status": status, "client_id": client_id, **keyset_page_params(after, UUID, limit)},
    )
    return [PaymentRow(**row._mapping) for row in rows]


def webhook_events_of(
    connection: Connection, payment_ids: list[UUID]
) -> dict[UUID, list[WebhookEventRow]]:
    """Every recorded callback (and reconciliation) per payment, oldest first."""
    found: dict[UUID, list[WebhookEventRow]] = {pid: [] for pid in payment_ids}
    if not payment_ids:
        return found
    rows = connection.execute(
        sa.text(
            """
            SELECT id, received_at, status, outcome, source, external_id
              FROM payment_webhook_events
             WHERE external_id = ANY(CAST(:ids AS text[]))
             ORDER BY received_at, id
            """
        ),
        {"ids": [str(pid) for pid in payment_ids]},
    )
    for row in rows:
        key = UUID(row.external_id)
        found[key].append(
            WebhookEventRow(
                id=row.id,
                received_at=row.received_at,
                status=row.status,
                outcome=row.outcome,
                source=row.source,
            )
        )
    return found


def lock_client_package(connection: Connection, client_id: UUID, package_id: UUID) -> None:
    """Serialize payment creation per client and package until the transaction ends, so two
    presses at once cannot both find no pending invoice and both create one."""
    connection.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"payment:{client_id}:{package_id}"},
    )


def open_pending(
    connection: Connection, client_id: UUID, package_id: UUID, *, min_left_s: int
) -> PaymentRow | None:
    """The client's newest pending payment for this package whose invoice is still open for
    at least `min_left_s` (or is still being created: no invoice yet)."""
    row = connection.execute(
        sa.text(
            f"""
            SELECT {COLUMNS} FROM payments
             WHERE client_id = :client_id AND package_id = :package_id AND status = 'pending'
               AND (expires_at IS NULL OR expires_at > now() + make_interval(secs => :left))
             ORDER BY created_at DESC LIMIT 1
            """
        ),
        {"client_id": client_id, "package_id": package_id, "left": min_left_s},
    ).one_or_none()
    return PaymentRow(**row._mapping) if row is not None else None
