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
