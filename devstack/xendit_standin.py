"""A local stand-in for Xendit's Invoice API (dev stack and tests only, never deployed).

Why it exists: Xendit has no emulator, yet the payments function must be exercised end to
end locally (``nox -s dev``) and in tests, with the *real* ``xendit-python`` 7.0.0 SDK.
This server speaks the subset of Xendit's wire format that the SDK and our code use, so
the only difference from production is ``xendit.Configuration(host=standin.base_url)``:

* ``POST /v2/invoices/`` (``InvoiceApi.create_invoice``), ``GET /v2/invoices/{id}``
  (``get_invoice_by_id``), ``GET /v2/invoices?external_id=`` (``get_invoices``) and
  ``POST /invoices/{id}/expire!`` (``expire_invoice``). Responses carry every field the
  SDK's ``Invoice`` model requires; errors use Xendit's ``{"error_code", "message"}`` shape.
  Basic auth (``<api_key>:``) is checked when an ``api_key`` is configured.
* ``invoice_url`` (``{base_url}/web/invoices/{id}``) is a small page with *Pay* and
  *Expire* buttons; ``POST {invoice_url}/pay`` and ``POST {invoice_url}/expire`` change the
  status and send a Xendit-shaped invoice callback to ``callback_url`` with the
  ``x-callback-token`` header (JSON answer for scripts, a redirect for browser forms).
* Test hooks under ``/_standin/`` and on the object: make the next creations fail, list
  and reset invoices, and send webhooks with a wrong amount, currency or token; for
  reconciliation, mark an invoice PAID or EXPIRED without sending its webhook
  (``pay_silently``, ``expire_silently``), forget one (reads answer 404) and make the next
  reads fail (``fail_reads``: Xendit down).

Deliberate simplifications: invoices never expire on their own (use *Expire*), PAID never
becomes SETTLED, webhooks are sent once and synchronously (no retries), and state lives in
memory. ``x-idempotency-key`` on create is honoured (the first invoice is returned), but the
SDK's ``create_invoice`` has no parameter for it, so our code must not rely on it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import json
import logging
import os
import secrets
import signal
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType, TracebackType
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from shared.log import redact_request_logs

__all__ = ["StandinError", "WebhookDelivery", "XenditStandin"]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8090
DEFAULT_CALLBACK_URL = "http://127.0.0.1:8080/api/shared/webhooks/xendit/invoice"
DEFAULT_CALLBACK_TOKEN = "dev-callback-token"
WEBHOOK_TIMEOUT_S = 30.0  # Xendit waits this long for a 2xx

USER_ID = "5f1b1a2c3d4e5f6a7b8c9d0e"  # a Xendit business id is 24 hex digits
MERCHANT_NAME = "Halo Bestie"
MERCHANT_PICTURE = "https://du8nwjtfkinx.cloudfront.net/xendit.png"
CURRENCIES = frozenset({"IDR", "USD", "THB", "VND", "PHP", "MYR"})
DEFAULT_DURATION_S = 86_400
MAX_DURATION_S = 31_536_000
# What a Xendit test-mode invoice in IDR offers; values are members of the SDK's enums.
BANKS = ("BCA", "BNI", "BRI", "MANDIRI", "PERMATA", "BSI")
RETAIL_OUTLETS = ("ALFAMART", "INDOMARET")
EWALLETS = ("OVO", "DANA", "SHOPEEPAY", "LINKAJA")
QR_CODES = ("QRIS",)
DIRECT_DEBITS = ("DD_BRI", "DD_MANDIRI")
PAYLATERS = ("KREDIVO", "AKULAKU")
# How a stand-in payment is "made": a BCA virtual account transfer.
PAID_WITH = {
    "payment_method": "BANK_TRANSFER",
    "bank_code": "BCA",
    "payment_channel": "BCA",
    "payment_destination": "8808999912345678",
}
_FAIL_CODES = {401: "INVALID_API_KEY", 403: "ACCESS_SUSPENDED", 429: "RATE_LIMIT_EXCEEDED"}


class StandinError(Exception):
    """An error answered with Xendit's JSON shape (also raised by the Python helpers)."""

    def __init__(
        self, status: int, error_code: str, message: str, errors: list[Any] | None = None
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.body: dict[str, Any] = {"error_code": error_code, "message": message}
        if errors:
            self.body["errors"] = errors


@dataclass(frozen=True)
class WebhookDelivery:
    """One invoice callback sent to ``callback_url`` (``http_status`` None if unreachable)."""

    invoice_id: str
    body: dict[str, Any]
    token: str
    http_status: int | None
    error: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    """Xendit's timestamp format: UTC with milliseconds, e.g. ``2026-05-01T10:00:00.000Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _validation_error(field: str, message: str) -> StandinError:
    return StandinError(
        400, "API_VALIDATION_ERROR", message, [{"path": [field], "message": message}]
    )


def _validate_create(body: Any) -> dict[str, Any]:
    """Check a create-invoice body the way Xendit does for the fields we use."""
    if not isinstance(body, dict):
        raise StandinError(400, "API_VALIDATION_ERROR", "Request body must be a JSON object")
    external_id = body.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip():
        raise _validation_error("external_id", '"external_id" is required')
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
        raise _validation_error("amount", '"amount" must be a number greater than 0')
    currency = body.get("currency", "IDR")
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise StandinError(400, "UNSUPPORTED_CURRENCY", f"Currency {currency!r} is not supported")
    for name in ("payer_email", "description", "success_redirect_url", "failure_redirect_url"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise _validation_error(name, f'"{name}" must be a string')
    payer_email = body.get("payer_email")
    if payer_email is not None and "@" not in payer_email:
        raise _validation_error("payer_email", '"payer_email" must be a valid email')
    duration = body.get("invoice_duration", DEFAULT_DURATION_S)
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not 1 <= duration <= MAX_DURATION_S
    ):
        raise _validation_error(
            "invoice_duration", f'"invoice_duration" must be between 1 and {MAX_DURATION_S}'
        )
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _validation_error("metadata", '"metadata" must be an object')
    return body


class XenditStandin:
    """The stand-in server; in-process for tests, or ``python -m devstack.xendit_standin``."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        callback_url: str | None = DEFAULT_CALLBACK_URL,
        callback_token: str = DEFAULT_CALLBACK_TOKEN,
        api_key: str | None = None,
    ) -> None:
        """``port=0`` picks a free port; ``api_key=None`` accepts any key."""
        self.callback_url = callback_url
        self.callback_token = callback_token
        self.api_key = api_key
        self._port = port
        self._lock = threading.Lock()
        self._invoices: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, str] = {}
        self._failures: list[int] = []
        self._read_failures: list[int] = []
        self._deliveries: list[WebhookDelivery] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._urls = Map(
            [
                Rule("/v2/invoices/", methods=["POST"], endpoint="api_create"),
                Rule("/v2/invoices", methods=["POST"], endpoint="api_create"),
                Rule("/v2/invoices", methods=["GET"], endpoint="api_list"),
                Rule("/v2/invoices/<invoice_id>", methods=["GET"], endpoint="api_get"),
                Rule("/invoices/<invoice_id>/expire!", methods=["POST"], endpoint="api_expire"),
                Rule("/web/invoices/<invoice_id>", methods=["GET"], endpoint="web_page"),
                Rule("/web/invoices/<invoice_id>/pay", methods=["POST"], endpoint="web_pay"),
                Rule("/web/invoices/<invoice_id>/expire", methods=["POST"], endpoint="web_expire"),
                Rule("/_standin/health", methods=["GET"], endpoint="hook_health"),
                Rule("/_standin/invoices", methods=["GET"], endpoint="hook_invoices"),
                Rule("/_standin/fail-next", methods=["POST"], endpoint="hook_fail_next"),
                Rule("/_standin/reset", methods=["POST"], endpoint="hook_reset"),
            ],
            strict_slashes=False,
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (the real port once started with ``port=0``)."""
        if self._server is not None:
            return f"http://{HOST}:{self._server.server_port}"
        if self._port == 0:
            raise RuntimeError("base_url is known only after start() when port=0")
        return f"http://{HOST}:{self._port}"

    def start(self) -> XenditStandin:
        """Listen on 127.0.0.1 and serve from a daemon thread; returns self."""
        if self._server is not None:
            return self
        # werkzeug's server logs every request line; no query string reaches a log.
        redact_request_logs("werkzeug")
        self._server = make_server(HOST, self._port, self._wsgi, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick stop() in tests
            name="xendit-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> XenditStandin:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ test hooks

    def fail_next(self, status: int = 500, count: int = 1) -> None:
        """Make the next ``count`` invoice creations answer ``status`` with Xendit's error."""
        if not 400 <= status <= 599 or count < 1:
            raise ValueError("status must be 4xx/5xx and count >= 1")
        with self._lock:
            self._failures.extend([status] * count)

    def invoices(self) -> list[dict[str, Any]]:
        """Every invoice created so far, oldest first, as Xendit would return it."""
        with self._lock:
            return [dict(invoice) for invoice in self._invoices.values()]

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        """One invoice as Xendit would return it (StandinError 404 if unknown)."""
        with self._lock:
            return dict(self._get(invoice_id))

    def webhooks(self) -> list[WebhookDelivery]:
        """Every callback sent so far, oldest first."""
        with self._lock:
            return list(self._deliveries)

    def reset(self) -> None:
        """Forget invoices, idempotency keys, pending failures and sent webhooks."""
        with self._lock:
            self._invoices.clear()
            self._idempotency.clear()
            self._failures.clear()
            self._read_failures.clear()
            self._deliveries.clear()

    def pay(
        self, invoice_id: str, amount: float | None = None, currency: str | None = None
    ) -> WebhookDelivery:
        """Mark PAID and send the PAID callback; ``amount``/``currency`` may be made wrong.

        Paying a PAID invoice replays its callback (as Xendit's retries would); paying an
        EXPIRED one raises StandinError 409.
        """
        body = self._mark_paid(invoice_id, amount, currency)
        return self._deliver(invoice_id, body, self.callback_token)

    def pay_silently(self, invoice_id: str, amount: float | None = None) -> dict[str, Any]:
        """Mark PAID without sending the callback (a webhook Xendit never delivered, for
        reconciliation tests; ``amount`` may be made wrong); returns the callback body that
        was *not* sent."""
        return self._mark_paid(invoice_id, amount, None)

    def expire_silently(self, invoice_id: str) -> None:
        """Mark EXPIRED without sending the callback."""
        with self._lock:
            self._expire_locked(invoice_id)

    def forget(self, invoice_id: str) -> None:
        """Drop an invoice, so reading it answers 404 (an invoice Xendit does not know)."""
        with self._lock:
            self._invoices.pop(invoice_id, None)

    def fail_reads(self, status: int = 503, count: int = 1) -> None:
        """Make the next ``count`` invoice reads (GET) answer ``status`` (Xendit down)."""
        if not 400 <= status <= 599 or count < 1:
            raise ValueError("status must be 4xx/5xx and count >= 1")
        with self._lock:
            self._read_failures.extend([status] * count)

    def stop_failing_reads(self) -> None:
        """Forget injected read failures not yet used (Xendit is back)."""
        with self._lock:
            self._read_failures.clear()

    def _mark_paid(
        self, invoice_id: str, amount: float | None, currency: str | None
    ) -> dict[str, Any]:
        with self._lock:
            invoice = self._get(invoice_id)
            if invoice["status"] == "EXPIRED":
                raise StandinError(409, "INVOICE_EXPIRED", "Invoice has expired and cannot be paid")
            paid_amount = invoice.get("paid_amount", invoice["amount"])
            if amount is not None:
                paid_amount = _number(amount)
            if invoice["status"] == "PENDING":
                now = _iso(_now())
                invoice.update(
                    status="PAID", paid_amount=paid_amount, paid_at=now, updated=now, **PAID_WITH
                )
            overrides: dict[str, Any] = {"amount": paid_amount, "paid_amount": paid_amount}
            if currency is not None:
                overrides["currency"] = currency
            return self._callback_body(invoice, "PAID", overrides)

    def expire(self, invoice_id: str) -> WebhookDelivery:
        """Mark EXPIRED and send the EXPIRED callback (StandinError 409 if already paid).

        Expiring an EXPIRED invoice replays its callback.
        """
        with self._lock:
            invoice, _ = self._expire_locked(invoice_id)
            body = self._callback_body(invoice, "EXPIRED", {})
        return self._deliver(invoice_id, body, self.callback_token)

    def send_webhook(
        self,
        invoice_id: str,
        status: str,
        *,
        callback_token: str | None = None,
        **overrides: Any,
    ) -> WebhookDelivery:
        """Send a callback for an invoice without changing it (replays, forgeries, bad tokens).

        ``overrides`` replace body fields; ``callback_token`` replaces the header value.
        """
        with self._lock:
            body = self._callback_body(self._get(invoice_id), status, overrides)
        token = self.callback_token if callback_token is None else callback_token
        return self._deliver(invoice_id, body, token)

    # ------------------------------------------------------------------ state

    def _get(self, invoice_id: str) -> dict[str, Any]:
        invoice = self._invoices.get(invoice_id)
        if invoice is None:
            raise StandinError(404, "INVOICE_NOT_FOUND_ERROR", "Invoice not found")
        return invoice

    def _expire_locked(self, invoice_id: str) -> tuple[dict[str, Any], bool]:
        """Move a PENDING invoice to EXPIRED; returns it and whether it changed."""
        invoice = self._get(invoice_id)
        if invoice["status"] in ("PAID", "SETTLED"):
            raise StandinError(409, "INVOICE_ALREADY_PAID", "Invoice is paid and cannot expire")
        if invoice["status"] != "PENDING":
            return invoice, False
        now = _iso(_now())
        invoice.update(status="EXPIRED", expiry_date=now, updated=now)
        return invoice, True

    def _create(self, body: Any, idempotency_key: str | None) -> dict[str, Any]:
        with self._lock:
            if self._failures:
                status = self._failures.pop(0)
                code = _FAIL_CODES.get(status, "SERVER_ERROR")
                raise StandinError(status, code, f"Stand-in failure injected ({status})")
            if idempotency_key and idempotency_key in self._idempotency:
                return dict(self._invoices[self._idempotency[idempotency_key]])
            data = _validate_create(body)
            invoice = self._new_invoice(data)
            self._invoices[invoice["id"]] = invoice
            if idempotency_key:
                self._idempotency[idempotency_key] = invoice["id"]
            return dict(invoice)

    def _new_invoice(self, data: dict[str, Any]) -> dict[str, Any]:
        invoice_id = secrets.token_hex(12)
        now = _now()
        amount = _number(data["amount"])
        invoice: dict[str, Any] = {
            "id": invoice_id,
            "external_id": data["external_id"],
            "user_id": USER_ID,
            "status": "PENDING",
            "merchant_name": MERCHANT_NAME,
            "merchant_profile_picture_url": MERCHANT_PICTURE,
            "amount": amount,
            "description": data.get("description") or "",
            "expiry_date": _iso(
                now + timedelta(seconds=data.get("invoice_duration", DEFAULT_DURATION_S))
            ),
            "invoice_url": f"{self.base_url}/web/invoices/{invoice_id}",
            "available_banks": [
                {
                    "bank_code": code,
                    "collection_type": "POOL",
                    "transfer_amount": amount,
                    "bank_branch": "Virtual Account",
                    "account_holder_name": MERCHANT_NAME.upper(),
                }
                for code in BANKS
            ],
            "available_retail_outlets": [{"retail_outlet_name": n} for n in RETAIL_OUTLETS],
            "available_ewallets": [{"ewallet_type": n} for n in EWALLETS],
            "available_qr_codes": [{"qr_code_type": n} for n in QR_CODES],
            "available_direct_debits": [{"direct_debit_type": n} for n in DIRECT_DEBITS],
            "available_paylaters": [{"paylater_type": n} for n in PAYLATERS],
            "should_exclude_credit_card": False,
            "should_send_email": bool(data.get("should_send_email", False)),
            "created": _iso(now),
            "updated": _iso(now),
            "currency": data.get("currency", "IDR"),
        }
        for name in ("payer_email", "success_redirect_url", "failure_redirect_url", "metadata"):
            if data.get(name) is not None:
                invoice[name] = data[name]
        return invoice

    def _callback_body(
        self, invoice: dict[str, Any], status: str, overrides: dict[str, Any]
    ) -> dict[str, Any]:
        """Xendit's invoice callback body for ``invoice`` with ``status``."""
        body: dict[str, Any] = {
            "id": invoice["id"],
            "external_id": invoice["external_id"],
            "user_id": invoice["user_id"],
            "is_high": False,
            "status": status,
            "merchant_name": invoice["merchant_name"],
            "amount": invoice["amount"],
            "payer_email": invoice.get("payer_email"),
            "description": invoice["description"],
            "currency": invoice["currency"],
            "created": invoice["created"],
            "updated": invoice["updated"],
        }
        if status in ("PAID", "SETTLED"):
            body.update(PAID_WITH)
            body.update(
                paid_amount=invoice.get("paid_amount", invoice["amount"]),
                paid_at=invoice.get("paid_at", invoice["updated"]),
                payment_id=f"pay-{invoice['id']}",
            )
        if invoice.get("metadata") is not None:
            body["metadata"] = invoice["metadata"]
        body.update(overrides)
        return body

    def _deliver(self, invoice_id: str, body: dict[str, Any], token: str) -> WebhookDelivery:
        """POST the callback (outside the lock: the receiver may call us back)."""
        status: int | None = None
        error: str | None = None
        if not self.callback_url:
            error = "no callback_url configured"
        else:
            request = urllib.request.Request(
                self.callback_url,
                data=json.dumps(body).encode(),
                method="POST",
                headers={"Content-Type": "application/json", "x-callback-token": token},
            )
            try:
                with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as answer:
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (urllib.error.URLError, OSError) as exc:
                error = str(getattr(exc, "reason", exc))
        delivery = WebhookDelivery(invoice_id, body, token, status, error)
        with self._lock:
            self._deliveries.append(delivery)
        return delivery

    # ------------------------------------------------------------------ HTTP

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, args = self._urls.bind_to_environ(environ).match()
            response: Response = getattr(self, f"_{endpoint}")(request, **args)
        except StandinError as exc:
            response = _json(exc.body, exc.status)
        except HTTPException as exc:  # no route, or a method the route does not take
            code = exc.code or 500
            error_code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(code, "SERVER_ERROR")
            response = _json({"error_code": error_code, "message": str(exc.description)}, code)
        except Exception:  # the SDK cannot parse non-JSON errors, so never answer HTML
            log.exception("xendit stand-in failed on %s %s", request.method, request.path)
            response = _json({"error_code": "SERVER_ERROR", "message": "stand-in bug"}, 500)
        return response(environ, start_response)

    def _check_auth(self, request: Request) -> None:
        if self.api_key is None:
            return
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            username = base64.b64decode(encoded, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            username = ""
        if scheme.lower() != "basic" or not secrets.compare_digest(username, self.api_key):
            raise StandinError(401, "INVALID_API_KEY", "API key is not authorized for this API")

    def _api_create(self, request: Request) -> Response:
        self._check_auth(request)
        body = request.get_json(silent=True)
        key = request.headers.get("x-idempotency-key")
        return _json(self._create(body, key), 200)

    def _api_list(self, request: Request) -> Response:
        self._check_auth(request)
        external_id = request.args.get("external_id")
        found = [i for i in self.invoices() if external_id in (None, i["external_id"])]
        return _json(found, 200)

    def _api_get(self, request: Request, invoice_id: str) -> Response:
        self._check_auth(request)
        with self._lock:
            failure = self._read_failures.pop(0) if self._read_failures else None
        if failure is not None:
            code = _FAIL_CODES.get(failure, "SERVER_ERROR")
            raise StandinError(failure, code, f"Stand-in failure injected ({failure})")
        return _json(self.invoice(invoice_id), 200)

    def _api_expire(self, request: Request, invoice_id: str) -> Response:
        self._check_auth(request)
        with self._lock:
            invoice, changed = self._expire_locked(invoice_id)
            body = self._callback_body(invoice, "EXPIRED", {})
            answer = dict(invoice)
        if changed:
            self._deliver(invoice_id, body, self.callback_token)
        return _json(answer, 200)

    def _web_page(self, request: Request, invoice_id: str) -> Response:
        note = request.args.get("note", "")
        return _page(self.invoice(invoice_id), note, 200)

    def _web_pay(self, request: Request, invoice_id: str) -> Response:
        options = request.get_json(silent=True)  # scripts may force a wrong amount/currency
        if not isinstance(options, dict):
            options = {}
        amount, currency = options.get("amount"), options.get("currency")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int | float)):
            raise _validation_error("amount", '"amount" must be a number')
        if currency is not None and not isinstance(currency, str):
            raise _validation_error("currency", '"currency" must be a string')
        return self._web_action(request, invoice_id, lambda: self.pay(invoice_id, amount, currency))

    def _web_expire(self, request: Request, invoice_id: str) -> Response:
        return self._web_action(request, invoice_id, lambda: self.expire(invoice_id))

    def _web_action(
        self, request: Request, invoice_id: str, action: Callable[[], WebhookDelivery]
    ) -> Response:
        """Run Pay/Expire; JSON for scripts, a redirect (or error page) for browsers."""
        wants_html = "text/html" in request.headers.get("Accept", "")
        try:
            delivery = action()
        except StandinError as exc:
            if wants_html and exc.status != 404:
                return _page(self.invoice(invoice_id), exc.body["message"], exc.status)
            raise
        if wants_html:
            note = f"webhook answered {delivery.http_status or delivery.error}"
            query = urllib.parse.urlencode({"note": note})
            return Response(status=303, headers={"Location": f"/web/invoices/{invoice_id}?{query}"})
        result = {
            "id": invoice_id,
            "status": self.invoice(invoice_id)["status"],
            "webhook_status": delivery.http_status,
        }
        if delivery.error:
            result["webhook_error"] = delivery.error
        return _json(result, 200)

    def _hook_health(self, request: Request) -> Response:
        return _json({"status": "ok", "service": "xendit-standin"}, 200)

    def _hook_invoices(self, request: Request) -> Response:
        return _json({"items": self.invoices()}, 200)

    def _hook_fail_next(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            self.fail_next(int(body.get("status", 500)), int(body.get("count", 1)))
        except (TypeError, ValueError) as exc:
            raise StandinError(400, "API_VALIDATION_ERROR", str(exc)) from exc
        with self._lock:
            return _json({"pending_failures": len(self._failures)}, 200)

    def _hook_reset(self, request: Request) -> Response:
        self.reset()
        return _json({"status": "reset"}, 200)


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _page(invoice: dict[str, Any], note: str, status: int) -> Response:
    """The human invoice page (the ``invoice_url``)."""
    esc = html.escape
    url = esc(invoice["invoice_url"])
    pending = invoice["status"] == "PENDING"
    buttons = (
        f'<form method="post" action="{url}/pay"><button>Pay</button></form>'
        f'<form method="post" action="{url}/expire"><button>Expire</button></form>'
        if pending
        else ""
    )
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {esc(invoice["id"])}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto">
<h1>{esc(invoice["merchant_name"])} <small>(Xendit stand-in)</small></h1>
<p><strong>{esc(invoice["currency"])} {invoice["amount"]:,}</strong></p>
<p>{esc(invoice["description"])}</p>
<p>Status: <strong id="status">{esc(invoice["status"])}</strong></p>
<p>External id: <code>{esc(invoice["external_id"])}</code></p>
{f"<p><em>{esc(note)}</em></p>" if note else ""}
{buttons}
</body></html>
"""
    return Response(text, status=status, mimetype="text/html")


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in until Ctrl-C or SIGTERM (the dev stack's entry point)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--callback-url", default=DEFAULT_CALLBACK_URL)
    parser.add_argument(
        "--callback-token",
        default=os.environ.get("XENDIT_CALLBACK_TOKEN", DEFAULT_CALLBACK_TOKEN),
    )
    parser.add_argument("--api-key", default=None, help="require this key (default: any)")
    args = parser.parse_args(argv)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with XenditStandin(args.port, args.callback_url, args.callback_token, args.api_key) as s:
        print(f"xendit stand-in on {s.base_url} (webhooks to {args.callback_url})", flush=True)
        done.wait()


if __name__ == "__main__":
    main()
