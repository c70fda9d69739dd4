"""Xendit's Invoice API through the official SDK (xendit-python), wrapped so the rest of the
code sees one small function and one error.

The SDK is imported on first use, not at cold start. Host and API key come from the
configuration (`XENDIT_API_BASE`, `XENDIT_API_KEY`), so the local stand-in and production
differ only there. The SDK's own retries are off: a retried create could make a second
invoice, and our payment row is the idempotency anchor instead (shared.domain.payments).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.config import get_config
from shared.log import get_logger, log_event

REQUEST_TIMEOUT_S = 10
logger = get_logger("halo.xendit")

_lock = threading.Lock()
_api: Any = None


class ProviderFailed(Exception):
    """Xendit refused or did not answer; no invoice may be assumed to exist."""


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    url: str
    expires_at: datetime | None
    status: str


def _invoice_api() -> Any:
    global _api
    if _api is None:
        with _lock:
            if _api is None:
                import xendit
                from xendit.apis import InvoiceApi

                config = get_config()
                configuration = xendit.Configuration(
                    host=config.xendit_api_base,
                    api_key=config.xendit_api_key.get_secret_value(),
                )
                configuration.retries = 0
                _api = InvoiceApi(xendit.ApiClient(configuration))
    return _api


def reset() -> None:
    """Forget the client (tests that change the configuration)."""
    global _api
    with _lock:
        _api = None


def create_invoice(
    *,
    external_id: str,
    amount: int,
    currency: str,
    description: str,
    duration_s: int,
    metadata: dict[str, str],
) -> Invoice:
    """Create a Xendit invoice; raises ProviderFailed on any refusal, error or timeout."""
    import urllib3
    from xendit.exceptions import OpenApiException
    from xendit.invoice.model import CreateInvoiceRequest

    api = _invoice_api()
    try:
        created = api.create_invoice(
            create_invoice_request=CreateInvoiceRequest(
                external_id=external_id,
                amount=float(amount),  # the SDK's model refuses ints
                currency=currency,
                description=description,
                invoice_duration=float(duration_s),
                metadata=metadata,
            ),
            _request_timeout=REQUEST_TIMEOUT_S,
        )
    except (OpenApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        # Only the type and Xendit's status: messages may echo request fields.
        log_event(
            logger,
            40,
            "xendit create_invoice failed",
            error=type(exc).__name__,
            status=str(getattr(exc, "status", "")),
            external_id=external_id,
        )
        raise ProviderFailed(type(exc).__name__) from exc
    return Invoice(
        id=str(created.id),
        url=str(created.invoice_url),
        expires_at=getattr(created, "expiry_date", None),
        status=str(created.status.value),
    )


class InvoiceNotFound(Exception):
    """Xendit answered 404: it does not know this invoice."""


@dataclass(frozen=True, slots=True)
class InvoiceState:
    """What Xendit says of an invoice now, as the fields of its callback would say it."""

    id: str
    external_id: str
    status: str  # PENDING, PAID, SETTLED, EXPIRED
    amount: Decimal | None
    paid_amount: Decimal | None
    currency: str | None
    paid_at: datetime | None
    body: dict[str, Any]


def get_invoice(invoice_id: str) -> InvoiceState:
    """Read an invoice (GET /v2/invoices/{id}); raises InvoiceNotFound on 404 and
    ProviderFailed on any other refusal, error or timeout."""
    import urllib3
    from xendit.exceptions import OpenApiException

    api = _invoice_api()
    try:
        found = api.get_invoice_by_id(invoice_id, _request_timeout=REQUEST_TIMEOUT_S)
    except (OpenApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        status = str(getattr(exc, "status", ""))
        if status == "404":
            raise InvoiceNotFound(invoice_id) from exc
        log_event(
            logger,
            40,
            "xendit get_invoice failed",
            error=type(exc).__name__,
            status=status,
            invoice_id=invoice_id,
        )
        raise ProviderFailed(type(exc).__name__) from exc
    # The SDK's model keeps fields it does not declare (paid_amount, paid_at) as extra
    # properties; to_dict() has both kinds, in Xendit's wire names.
    body = {key: _plain(value) for key, value in found.to_dict().items()}
    return InvoiceState(
        id=str(body.get("id") or invoice_id),
        external_id=str(body.get("external_id", "")),
        status=str(body.get("status", "")),
        amount=_decimal(body.get("amount")),
        paid_amount=_decimal(body.get("paid_amount")),
        currency=str(body["currency"]) if body.get("currency") else None,
        paid_at=_moment(body.get("paid_at")),
        body=body,
    )


def _plain(value: Any) -> Any:
    """SDK enums (status, currency, payment method) as their string values."""
    inner = getattr(value, "value", None)
    return inner if isinstance(inner, str) else value


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    # Xendit sends whole rupiah as 99000 or 99000.0: compare as integers when whole.
    return number.to_integral_value() if number == number.to_integral_value() else number


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
