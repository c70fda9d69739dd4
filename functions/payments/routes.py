"""Payments routes: trial and credits, packages, buying through a Xendit invoice, and
Xendit's invoice callback."""

from __future__ import annotations

from uuid import UUID

from shared import ratelimit
from shared.config import get_config
from shared.domain import payments
from shared.errors import Conflict, NotFound, PaymentProviderError, RegistrationRequired
from shared.identity.policies import CLIENT, ClientCaller
from shared.identity.xendit import XENDIT_CALLBACK
from shared.schemas.payments import (
    CallbackOut,
    EntitlementOut,
    InvoiceCallbackIn,
    PackageListOut,
    PaymentIn,
    PaymentOut,
)
from shared.web import Api, Call, Reply

api = Api("payments", title="Halo Bestie payments")


@api.get("/api/client/entitlement", auth=CLIENT, response=EntitlementOut)
def client_entitlement(call: Call[ClientCaller]) -> EntitlementOut:
    """Trial sessions left and bought credits."""
    caller = call.caller
    return EntitlementOut.of(payments.entitlement_of(caller.client))


@api.get("/api/client/packages", auth=CLIENT, response=PackageListOut)
def client_packages(call: Call[ClientCaller]) -> PackageListOut:
    """Packages on sale, in the operators' order."""
    return PackageListOut.of(payments.active_packages())


@api.post(
    "/api/client/payments",
    auth=CLIENT,
    body=PaymentIn,
    response=PaymentOut,
    status=201,
    also={200: "The client's pending invoice for this package, reused (no Idempotency-Key)"},
    errors=(RegistrationRequired, PaymentProviderError, Conflict),
)
def create_payment(call: Call[ClientCaller, PaymentIn]) -> Reply:
    """Buy a package: `201` with a new pending payment and the Xendit invoice URL to open;
    `200` with the existing one when the client already has a pending invoice for this
    package with at least 5 minutes left (without an Idempotency-Key; with one, a retry of
    the same key answers its first payment). At most `PAYMENT_CREATE_RATE` per client
    (429 rate_limited with Retry-After, nothing changed)."""
    caller = call.caller
    ratelimit.hit("payments", str(caller.client.id), get_config().payment_create_rate)
    payment, created = payments.start_payment(
        caller.client, call.body.package_id, call.idempotency_key
    )
    # A keyed retry answers as its first call did (201); only the reuse of a pending invoice
    # by a keyless press is a 200.
    reused = not created and call.idempotency_key is None
    return Reply(PaymentOut.of(payment), status=200 if reused else 201)


@api.get(
    "/api/client/payments/<uuid:payment_id>",
    auth=CLIENT,
    response=PaymentOut,
    errors=(NotFound,),
)
def get_payment(call: Call[ClientCaller]) -> PaymentOut:
    """One of the client's payments."""
    caller = call.caller
    payment_id: UUID = call.params["payment_id"]
    return PaymentOut.of(payments.payment_of(caller.client, payment_id))


@api.post(
    "/api/shared/webhooks/xendit/invoice",
    auth=XENDIT_CALLBACK,
    body=InvoiceCallbackIn,
    response=CallbackOut,
    summary="Xendit invoice callback (x-callback-token header); 200 once handled, also replays",
)
def xendit_invoice_callback(call: Call[None, InvoiceCallbackIn]) -> CallbackOut:
    """Xendit invoice callback."""
    return CallbackOut(outcome=payments.handle_invoice_callback(call.body.to_domain()))
