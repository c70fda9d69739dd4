"""The Xendit stand-in must be usable by the REAL xendit-python SDK and send real webhooks.

These tests pin the stand-in to the SDK's wire format (paths, required response fields,
error shape and status) so that the payments code runs unchanged against it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import xendit
from xendit.apis import InvoiceApi
from xendit.invoice.model import CreateInvoiceRequest

from devstack.xendit_standin import XenditStandin

API_KEY = "xnd_development_standin_test"
TOKEN = "test-callback-token"
ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    """A tiny webhook receiver that records what it gets and answers ``reply_status``."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.reply_status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.calls.append((headers, body))
                self.send_response(receiver.reply_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/shared/webhooks/xendit/invoice"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def standin(receiver: Receiver) -> Iterator[XenditStandin]:
    with XenditStandin(0, receiver.url, TOKEN, api_key=API_KEY) as s:
        yield s


def invoice_api(standin: XenditStandin, api_key: str = API_KEY) -> InvoiceApi:
    """Exactly how production builds the client, except for ``host``."""
    configuration = xendit.Configuration(host=standin.base_url, api_key=api_key)
    return InvoiceApi(xendit.ApiClient(configuration))


def create(api: InvoiceApi, external_id: str = "pay-1", amount: float = 150000.0) -> Any:
    request = CreateInvoiceRequest(
        external_id=external_id,
        amount=amount,  # the SDK insists on a float
        payer_email="client@example.com",
        description="Paket 5 sesi",
        invoice_duration=3600.0,
        currency="IDR",
        metadata={"payment_id": external_id},
    )
    return api.create_invoice(create_invoice_request=request)


def test_sdk_create_get_and_list(standin: XenditStandin) -> None:
    api = invoice_api(standin)
    invoice = create(api)
    assert invoice.status.value == "PENDING"  # enum models, not str
    assert invoice.external_id == "pay-1"
    assert invoice.amount == 150000
    assert invoice.currency.value == "IDR"
    assert invoice.invoice_url == f"{standin.base_url}/web/invoices/{invoice.id}"
    assert invoice.expiry_date > invoice.created
    fetched = api.get_invoice_by_id(invoice_id=invoice.id)
    assert (fetched.id, fetched.status.value) == (invoice.id, "PENDING")
    assert [i.id for i in api.get_invoices(external_id="pay-1")] == [invoice.id]
    assert [i["id"] for i in standin.invoices()] == [invoice.id]


def test_sdk_sees_paid_invoice_and_expire(standin: XenditStandin, receiver: Receiver) -> None:
    api = invoice_api(standin)
    paid, pending = create(api, "pay-1"), create(api, "pay-2")
    assert standin.pay(paid.id).http_status == 200
    after = api.get_invoice_by_id(invoice_id=paid.id)
    assert after.status.value == "PAID"
    assert after.payment_method.value == "BANK_TRANSFER"
    expired = api.expire_invoice(invoice_id=pending.id)
    assert expired.status.value == "EXPIRED"
    assert [body["status"] for _, body in receiver.calls] == ["PAID", "EXPIRED"]
    assert receiver.calls[1][1]["external_id"] == "pay-2"
    assert receiver.calls[1][0]["x-callback-token"] == TOKEN


def test_wrong_api_key_is_401(standin: XenditStandin) -> None:
    with pytest.raises(xendit.XenditSdkException) as caught:
        create(invoice_api(standin, api_key="xnd_development_wrong"))
    assert caught.value.status == "401"  # the SDK keeps the status as a string
    assert caught.value.errorCode == "INVALID_API_KEY"
    assert standin.invoices() == []


def test_unknown_invoice_is_404(standin: XenditStandin) -> None:
    with pytest.raises(xendit.XenditSdkException) as caught:
        invoice_api(standin).get_invoice_by_id(invoice_id="000000000000000000000000")
    assert caught.value.status == "404"
    assert caught.value.errorCode == "INVOICE_NOT_FOUND_ERROR"


def test_fail_next_fails_creations_then_recovers(standin: XenditStandin) -> None:
    api = invoice_api(standin)
    standin.fail_next(500, count=2)
    for _ in range(2):
        with pytest.raises(xendit.XenditSdkException) as caught:
            create(api)
        assert (caught.value.status, caught.value.errorCode) == ("500", "SERVER_ERROR")
    assert standin.invoices() == []
    create(api)
    assert len(standin.invoices()) == 1


def test_http_hooks_fail_next_list_and_reset(standin: XenditStandin) -> None:
    base = standin.base_url
    assert httpx.post(f"{base}/_standin/fail-next", json={"status": 503, "count": 1}).is_success
    with pytest.raises(xendit.XenditSdkException) as caught:
        create(invoice_api(standin))
    assert caught.value.status == "503"
    create(invoice_api(standin))
    assert len(httpx.get(f"{base}/_standin/invoices").json()["items"]) == 1
    assert httpx.post(f"{base}/_standin/reset").is_success
    assert httpx.get(f"{base}/_standin/invoices").json()["items"] == []


def test_validation_errors_are_400(standin: XenditStandin) -> None:
    url = f"{standin.base_url}/v2/invoices/"
    auth = (API_KEY, "")
    for body in ({"amount": 1000}, {"external_id": "x", "amount": 0}, {"external_id": "x"}):
        answer = httpx.post(url, json=body, auth=auth)
        assert answer.status_code == 400
        assert answer.json()["error_code"] == "API_VALIDATION_ERROR"
    odd = httpx.post(url, json={"external_id": "x", "amount": 1, "currency": "EUR"}, auth=auth)
    assert (odd.status_code, odd.json()["error_code"]) == (400, "UNSUPPORTED_CURRENCY")
    assert standin.invoices() == []


def test_idempotency_key_returns_first_invoice(standin: XenditStandin) -> None:
    def post() -> str:
        answer = httpx.post(
            f"{standin.base_url}/v2/invoices/",
            json={"external_id": "a", "amount": 1},
            headers={"x-idempotency-key": "k-1"},
            auth=(API_KEY, ""),
        )
        return str(answer.json()["id"])

    assert post() == post()
    assert len(standin.invoices()) == 1


def test_invoice_page_pay_sends_webhook(standin: XenditStandin, receiver: Receiver) -> None:
    invoice = create(invoice_api(standin))
    page = httpx.get(invoice.invoice_url)
    assert page.status_code == 200
    assert "150,000" in page.text and "Paket 5 sesi" in page.text and "PENDING" in page.text
    assert f'action="{invoice.invoice_url}/pay"' in page.text
    assert f'action="{invoice.invoice_url}/expire"' in page.text

    answer = httpx.post(f"{invoice.invoice_url}/pay")
    assert answer.json() == {"id": invoice.id, "status": "PAID", "webhook_status": 200}
    ((headers, body),) = receiver.calls
    assert headers["x-callback-token"] == TOKEN
    assert headers["content-type"] == "application/json"
    assert body["id"] == invoice.id
    assert body["external_id"] == "pay-1"
    assert body["status"] == "PAID"
    assert body["amount"] == body["paid_amount"] == 150000
    assert body["currency"] == "IDR"
    assert body["payer_email"] == "client@example.com"
    for field in (
        "user_id",
        "is_high",
        "payment_method",
        "merchant_name",
        "bank_code",
        "paid_at",
        "description",
        "payment_channel",
        "payment_destination",
        "created",
        "updated",
    ):
        assert field in body, field
    assert standin.invoice(invoice.id)["status"] == "PAID"
    assert httpx.post(f"{invoice.invoice_url}/expire").status_code == 409


def test_browser_form_post_redirects_back(standin: XenditStandin, receiver: Receiver) -> None:
    invoice = create(invoice_api(standin))
    answer = httpx.post(
        f"{invoice.invoice_url}/expire",
        headers={"Accept": "text/html,application/xhtml+xml"},
        data={},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "EXPIRED" in answer.text and "webhook answered 200" in answer.text
    assert receiver.calls[0][1]["status"] == "EXPIRED"
    paid_late = httpx.post(f"{invoice.invoice_url}/pay")
    assert paid_late.status_code == 409
    assert len(receiver.calls) == 1


def test_wrong_amount_currency_token_and_failing_receiver(
    standin: XenditStandin, receiver: Receiver
) -> None:
    invoice = create(invoice_api(standin))
    standin.pay(invoice.id, amount=1000, currency="USD")
    body = receiver.calls[-1][1]
    assert (body["amount"], body["paid_amount"], body["currency"]) == (1000, 1000, "USD")

    standin.send_webhook(invoice.id, "PAID", callback_token="forged")
    assert receiver.calls[-1][0]["x-callback-token"] == "forged"
    standin.send_webhook(invoice.id, "PAID", amount=1)
    assert receiver.calls[-1][1]["amount"] == 1

    scripted = httpx.post(f"{invoice.invoice_url}/pay", json={"amount": 7, "currency": "IDR"})
    assert scripted.json()["webhook_status"] == 200
    assert (receiver.calls[-1][1]["amount"], receiver.calls[-1][1]["currency"]) == (7, "IDR")
    assert httpx.post(f"{invoice.invoice_url}/pay", json={"amount": "7"}).status_code == 400

    receiver.reply_status = 500
    answer = httpx.post(f"{invoice.invoice_url}/pay")  # replays the PAID callback
    assert answer.json()["webhook_status"] == 500
    assert [d.http_status for d in standin.webhooks()] == [200, 200, 200, 200, 500]


def test_unreachable_receiver_is_reported(receiver: Receiver) -> None:
    with XenditStandin(0, "http://127.0.0.1:1/nothing", TOKEN) as standin:
        invoice = create(invoice_api(standin, api_key="any-key-is-fine-without-api_key"))
        answer = httpx.post(f"{invoice.invoice_url}/pay").json()
    assert answer["status"] == "PAID"
    assert answer["webhook_status"] is None and answer["webhook_error"]


def test_runs_as_a_process(receiver: Receiver) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "devstack.xendit_standin",
        "--port",
        str(port),
        "--callback-url",
        receiver.url,
        "--callback-token",
        TOKEN,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        created = httpx.post(
            f"http://127.0.0.1:{port}/v2/invoices/", json={"external_id": "p", "amount": 5000}
        ).json()
        assert httpx.post(f"{created['invoice_url']}/pay").json()["webhook_status"] == 200
        assert receiver.calls[0][0]["x-callback-token"] == TOKEN
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
