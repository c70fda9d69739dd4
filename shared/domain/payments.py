"""Buying sessions: packages, Xendit invoices, and the invoice callback that credits them.

Idempotency anchors (see docs/payments.md):
- a purchase is our `payments` row, created *before* Xendit is called; its id is the
  invoice's `external_id`, and (client, Idempotency-Key) is unique, so a retried POST finds
  the first payment instead of making a second invoice;
- a credit is the ledger entry `purchase:<payment id>`, unique, so however many times and
  however concurrently Xendit delivers PAID, the sessions are credited once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared import db, payments_provider, signals
from shared.domain import entitlement
from shared.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    PaymentProviderError,
    RegistrationRequired,
)
from shared.log import get_logger, log_event
from shared.store import ledger, packages, payments
from shared.store.clients import ClientRow
from shared.store.packages import PackageRow
from shared.store.payments import Outcome, PaymentRow, Source

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

INVOICE_DURATION_S = 3600
# A pending invoice with less time left than this is not handed out again: the client
# could hardly finish paying on it, so a press makes a new one.
REUSE_MIN_LEFT_S = 300
# Longer than any provider call may take (10 s timeout), so a pending payment with no
# invoice after this long was abandoned (crashed instance) and may be retried.
ABANDONED_AFTER_S = 60
# A replayed Idempotency-Key waits this long for its twin press's invoice (just over the
# provider's 10 s timeout, so the twin has either attached its invoice or failed by then).
REPLAY_WAIT_S = 12.0
REPLAY_POLL_S = 0.05
PAID_STATUSES = frozenset({"PAID", "SETTLED"})
# Only these callback fields are stored: payer emails, phones, addresses and the like are
# dropped before anything is written (allow-list, so a new Xendit field is dropped too).
STORED_CALLBACK_FIELDS = frozenset(
    {
        "id",
        "external_id",
        "user_id",
        "status",
        "amount",
        "paid_amount",
        "currency",
        "paid_at",
        "created",
        "updated",
        "payment_method",
        "payment_channel",
        "bank_code",
        "ewallet_type",
        "retail_outlet_name",
        "payment_id",
        "is_high",
        "fees_paid_amount",
        "adjusted_received_amount",
        "merchant_name",
        "metadata",
    }
)

logger = get_logger("halo.payments")


@dataclass(frozen=True, slots=True)
class Entitlement:
    trial_sessions_left: int
    credits: int
    registered: bool


@dataclass(frozen=True, slots=True)
class InvoiceCallback:
    """The fields of a Xendit invoice callback we act on, plus the whole body."""

    invoice_id: str
    external_id: str
    status: str
    amount: Decimal | None
    paid_amount: Decimal | None
    currency: str | None
    paid_at: datetime | None
    body: dict[str, Any]


def entitlement_of(client: ClientRow) -> Entitlement:
    current = entitlement.balance(client.id)
    return Entitlement(
        trial_sessions_left=current.trial_sessions,
        credits=current.credits,
        registered=client.registered,
    )


def active_packages() -> list[PackageRow]:
    with db.read() as connection:
        return packages.list_active(connection)


def payment_of(client: ClientRow, payment_id: UUID) -> PaymentRow:
    with db.read() as connection:
        payment = payments.by_id(connection, payment_id)
    if payment is None or payment.client_id != client.id:
        raise NotFound("No payment with that id.")
    return payment


# -- buying --------------------------------------------------------------------------------


def start_payment(
    client: ClientRow, package_id: UUID, idempotency_key: str | None
) -> tuple[PaymentRow, bool]:
    """A pending payment with its Xendit invoice URL: (payment, created). With an
    Idempotency-Key, a retry returns the first payment; a retry after a provider failure
    tries Xendit again for the same payment (same `external_id`). Without one, a pending
    invoice of the same package still open for `REUSE_MIN_LEFT_S` is returned instead of a
    new one (one pending invoice per package: tapping *Buy* again opens the same page)."""
    if not client.registered:
        raise RegistrationRequired("Register (Google, Apple or phone) to buy sessions.")
    with db.transaction() as connection:
        package = packages.by_id(connection, package_id)
        if package is None or not package.active:
            raise InvalidRequest(
                "There is no package with that id on sale.",
                fields=[{"field": "package_id", "error": "unknown_package"}],
            )
        existing = None
        if idempotency_key is None:
            payments.lock_client_package(connection, client.id, package.id)
            existing = payments.open_pending(
                connection, client.id, package.id, min_left_s=REUSE_MIN_LEFT_S
            )
        if existing is not None:
            payment, created = existing, False
        else:
            payment, created = payments.insert_pending(
                connection,
                client_id=client.id,
                package_id=package.id,
                sessions=package.sessions,
                amount=package.price,
                currency=package.currency,
                idempotency_key=idempotency_key,
            )
    if not created:
        payment = _replay(payment, package)
        if payment.invoice_url is not None:
            return payment, False
    return _open_invoice(payment, package), created


def _replay(payment: PaymentRow, package: PackageRow) -> PaymentRow:
    """The first press's payment once it has its invoice. A twin press still talking to
    Xendit is waited for (it finishes within the provider timeout), so concurrent presses
    with one key all answer the same payment; a failed or abandoned attempt is taken over by
    exactly one press (`claim_retry`), which the others then wait for in turn."""
    if payment.package_id != package.id:
        raise Conflict(
            "This Idempotency-Key was already used to buy another package.",
            payment_id=str(payment.id),
        )
    deadline = time.monotonic() + REPLAY_WAIT_S
    while payment.invoice_url is None:
        with db.transaction() as connection:
            retried = payments.claim_retry(connection, payment.id, stale_after_s=ABANDONED_AFTER_S)
        if retried is not None:
            return retried
        if time.monotonic() >= deadline:
            raise Conflict(
                "This payment is still being created. Retry in a moment.",
                payment_id=str(payment.id),
                retry_after_s=1,
            )
        time.sleep(REPLAY_POLL_S)
        with db.read() as connection:
            current = payments.by_id(connection, payment.id)
        assert current is not None
        payment = current
    return payment


def _open_invoice(payment: PaymentRow, package: PackageRow) -> PaymentRow:
    try:
        invoice = payments_provider.create_invoice(
            external_id=str(payment.id),
            amount=payment.amount,
            currency=payment.currency,
            description=f"Halo Bestie: {package.name}",
            duration_s=INVOICE_DURATION_S,
            metadata={"payment_id": str(payment.id)},
        )
    except payments_provider.ProviderFailed:
        with db.transaction() as connection:
            payments.mark_failed(connection, payment.id)
        raise PaymentProviderError() from None
    with db.transaction() as connection:
        return payments.attach_invoice(
            connection,
            payment.id,
            invoice_id=invoice.id,
            invoice_url=invoice.url,
            expires_at=invoice.expires_at,
        )


# -- Xendit's invoice callback ---------------------------------------------------------------


# What each recorded outcome counts as in the `xendit_webhook` signal (shared.signals).
SIGNAL_OUTCOMES: dict[str, signals.WebhookOutcome] = {
    "credited": "credited",
    "duplicate": "replayed",
    "expired": "expired",
    "mismatch": "mismatch",
    "ignored": "ignored",
    "unknown_payment": "rejected",
}


def handle_invoice_callback(callback: InvoiceCallback, source: Source = "webhook") -> Outcome:
    """Apply one (authenticated) callback and record it with its outcome, in one
    transaction. The payment row is locked, so concurrent deliveries apply one at a time.

    Reconciliation (shared.domain.reconciliation) settles through here too, with what
    Xendit's GET says of the invoice in place of the callback (`source="reconciliation"`),
    so a webhook arriving afterwards finds the same ledger reference and credits nothing."""
    with db.transaction() as connection:
        outcome = _apply(connection, callback)
        payments.record_webhook(
            connection,
            external_id=callback.external_id,
            invoice_id=callback.invoice_id,
            status=callback.status,
            amount=callback.paid_amount if callback.paid_amount is not None else callback.amount,
            currency=callback.currency,
            outcome=outcome,
            payload=stripped(callback.body),
            source=source,
        )
    if source == "webhook":
        signals.xendit_webhook(
            SIGNAL_OUTCOMES[outcome],
            external_id=callback.external_id,
            invoice_id=callback.invoice_id,
        )
    level = 30 if outcome in ("mismatch", "unknown_payment") else 20
    log_event(
        logger,
        level,
        "xendit invoice callback",
        outcome=outcome,
        status=callback.status,
        external_id=callback.external_id,
        invoice_id=callback.invoice_id,
        source=source,
    )
    return outcome


def _apply(connection: Connection, callback: InvoiceCallback) -> Outcome:
    payment_id = _as_uuid(callback.external_id)
    payment = payments.by_id(connection, payment_id, lock=True) if payment_id else None
    if payment is None:
        return "unknown_payment"
    if callback.status in PAID_STATUSES:
        if not _pays_in_full(callback, payment):
            return "mismatch"
        credited = ledger.append(
            connection,
            client_id=payment.client_id,
            bucket="credit",
            kind="purchase",
            sessions=payment.sessions,
            reference=f"purchase:{payment.id}",
            payment_id=payment.id,
        )
        if payment.status != "paid":
            # Money received is credited even after EXPIRED or a failed attempt.
            payments.set_status(
                connection,
                payment.id,
                "paid",
                invoice_id=callback.invoice_id,
                paid_at=callback.paid_at or datetime.now(UTC),
            )
        return "credited" if credited else "duplicate"
    if callback.status == "EXPIRED":
        if payment.status in ("pending", "failed"):
            payments.set_status(connection, payment.id, "expired", invoice_id=callback.invoice_id)
            return "expired"
        return "ignored"  # a paid payment stays paid; its credits stay
    return "ignored"


def _pays_in_full(callback: InvoiceCallback, payment: PaymentRow) -> bool:
    amounts = [a for a in (callback.amount, callback.paid_amount) if a is not None]
    expected = Decimal(payment.amount)
    return (
        bool(amounts)
        and all(amount == expected for amount in amounts)
        and callback.currency == payment.currency
    )


def _as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def stripped(body: dict[str, Any]) -> dict[str, Any]:
    """The callback body without personal fields (allow-list)."""
    return {key: value for key, value in body.items() if key in STORED_CALLBACK_FIELDS}
