"""Payment reconciliation: the sweeper step `payment_reconcile` asks Xendit about payments
still `pending` more than `RECONCILE_MARGIN_S` after their invoice expired — their webhook
should have come by then — and settles each exactly as the webhook would.

- PAID / SETTLED, EXPIRED → `shared.domain.payments.handle_invoice_callback` with what
  Xendit's GET says (recorded with source `reconciliation`): the same locked row, the same
  ledger reference `purchase:<payment>`, so a webhook arriving afterwards (or a second
  sweeper at once) credits nothing more;
- Xendit answers 404 → the payment is `failed` with the reason, nothing credited;
- a paid amount that does not match → `failed` with the reason (an operator must look;
  money arrived that the ledger does not show), recorded as `mismatch`;
- Xendit down or refusing → left exactly as it was; the next sweep asks again;
- still PENDING at Xendit → left; asked again later.

At most `RECONCILE_BATCH` payments per run and about `TIME_BUDGET_S` seconds, least
recently looked at first, so a payment Xendit keeps failing on cannot starve the others;
the first error ends the step's run (Xendit is probably down; the next run asks again).
"""

from __future__ import annotations

import time
from typing import Any

from shared import db, payments_provider, signals
from shared.config import get_config
from shared.domain.payments import InvoiceCallback, handle_invoice_callback
from shared.log import get_logger
from shared.store import payments
from shared.store.payments import PaymentRow

logger = get_logger("halo.reconciliation")

# Seconds of one run this step may spend asking Xendit (each call may take up to 10 s).
TIME_BUDGET_S = 30
NOT_FOUND_REASON = "Xendit does not know this invoice (404) during reconciliation."
MISMATCH_REASON = "Xendit reports a payment that does not match the invoice amount/currency."

_FROM_SETTLEMENT: dict[str, signals.ReconciledOutcome] = {
    "credited": "credited",
    "duplicate": "replayed",
    "expired": "expired",
    "mismatch": "failed",
    "ignored": "replayed",
    "unknown_payment": "failed",
}


def sweep() -> dict[str, int]:
    """The sweeper's step (shared.domain.sweeper.STEPS)."""
    config = get_config()
    with db.read() as connection:
        due = payments.overdue_pending(
            connection, margin_s=config.reconcile_margin_s, limit=config.reconcile_batch
        )
    counts = {"checked": 0}
    started = time.monotonic()
    for payment in due:
        if time.monotonic() - started > TIME_BUDGET_S:
            break
        outcome = reconcile(payment)
        counts["checked"] += 1
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "error":
            # Xendit is down or refusing: the rest would wait out their timeouts too, and
            # the sweeper's run must stay well inside its 120 s. Next run asks again.
            break
    return counts


def reconcile(payment: PaymentRow) -> signals.ReconciledOutcome:
    outcome = _settle(payment)
    if outcome in ("pending", "error"):
        with db.transaction() as connection:
            payments.touch_pending(connection, payment.id)  # to the back of the queue
    signals.payment_reconciled(outcome, payment_id=str(payment.id))
    return outcome


def _settle(payment: PaymentRow) -> signals.ReconciledOutcome:
    assert payment.xendit_invoice_id is not None
    try:
        state = payments_provider.get_invoice(payment.xendit_invoice_id)
    except payments_provider.InvoiceNotFound:
        return _fail(payment, NOT_FOUND_REASON)
    except payments_provider.ProviderFailed:
        return "error"
    if state.external_id != str(payment.id):
        # An invoice naming another payment: never settle this one from it.
        return _fail(payment, MISMATCH_REASON)
    if state.status not in ("PAID", "SETTLED", "EXPIRED"):
        return "pending"
    settled = handle_invoice_callback(
        InvoiceCallback(
            invoice_id=state.id,
            external_id=state.external_id,
            status=state.status,
            amount=state.amount,
            paid_amount=state.paid_amount,
            currency=state.currency,
            paid_at=state.paid_at,
            body=_callback_body(state),
        ),
        source="reconciliation",
    )
    if settled == "mismatch":
        return _fail(payment, MISMATCH_REASON)
    return _FROM_SETTLEMENT[settled]


def _fail(payment: PaymentRow, reason: str) -> signals.ReconciledOutcome:
    with db.transaction() as connection:
        changed = payments.fail_pending(connection, payment.id, reason)
    return "failed" if changed else "replayed"


def _callback_body(state: payments_provider.InvoiceState) -> dict[str, Any]:
    return {**state.body, "id": state.id}
