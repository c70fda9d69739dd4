"""Payments as operators see them, with every recorded callback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.identity.operators import ADMIN, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.operations import AdminPaymentOut, AdminPaymentPage, PaymentQuery
from shared.web import Call
from shared.web.pagination import page_of

if TYPE_CHECKING:
    from shared.domain.admin import payments
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    payments = lazy_module("shared.domain.admin.payments")


@api.get("/api/admin/payments", auth=ADMIN, query=PaymentQuery, response=AdminPaymentPage)
def list_payments(call: Call[OperatorCaller, None, PaymentQuery]) -> AdminPaymentPage:
    """Payments, newest first, by status and client, each with its recorded callbacks
    (webhook or reconciliation) and their outcomes."""
    query = call.query
    rows = payments.payment_page(
        status=query.status, client_id=query.client_id, after=query.after, limit=query.limit + 1
    )
    return page_of(
        AdminPaymentPage,
        rows,
        query.limit,
        lambda item: (item[0].created_at, item[0].id),
        AdminPaymentOut.of,
    )
