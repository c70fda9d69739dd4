"""Xendit's invoice callback, sent by the stand-in exactly as Xendit sends it: authenticated
by the callback token, idempotent under replays and concurrent duplicates, amount-checked."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

WEBHOOK = "/api/shared/webhooks/xendit/invoice"


@pytest.fixture
def bought(api, make_buyer, package, stack):
    """A buyer with a pending payment and its invoice at the stand-in."""
    buyer = make_buyer()
    payment = api.post(
        "/api/client/payments", headers=buyer.headers, json={"package_id": package["id"]}
    ).json()
    [invoice] = [i for i in stack.xendit.invoices() if i["external_id"] == payment["id"]]
    return buyer, payment, invoice["id"]


def _entitlement(api, buyer) -> dict:
    return api.get("/api/client/entitlement", headers=buyer.headers).json()


def _payment(api, buyer, payment) -> dict:
    return api.get(f"/api/client/payments/{payment['id']}", headers=buyer.headers).json()


def _events(database, external_id: str) -> list[sa.Row]:
    with database.connect() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT outcome, status, payload FROM payment_webhook_events"
                    " WHERE external_id = :id ORDER BY id"
                ),
                {"id": external_id},
            )
        )


def _event_count(database) -> int:
    with database.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM payment_webhook_events")).scalar()


def test_paid_invoice_credits_the_package_sessions(api, stack, bought, database):
    buyer, payment, invoice_id = bought

    delivery = stack.xendit.pay(invoice_id)

    assert delivery.http_status == 200
    assert _entitlement(api, buyer)["credits"] == 3
    paid = _payment(api, buyer, payment)
    assert paid["status"] == "paid" and paid["paid_at"] is not None
    assert [e.outcome for e in _events(database, payment["id"])] == ["credited"]


def test_settled_after_paid_does_not_credit_again(api, stack, bought, database):
    buyer, payment, invoice_id = bought
    stack.xendit.pay(invoice_id)

    delivery = stack.xendit.send_webhook(invoice_id, "SETTLED")

    assert delivery.http_status == 200
    assert _entitlement(api, buyer)["credits"] == 3
    assert [e.outcome for e in _events(database, payment["id"])] == ["credited", "duplicate"]


def test_ten_concurrent_deliveries_of_the_same_paid_webhook_credit_once(
    api, stack, bought, database
):
    buyer, payment, invoice_id = bought
    stack.xendit.pay(invoice_id)  # the invoice is PAID; now Xendit "retries" at once

    with ThreadPoolExecutor(max_workers=10) as pool:
        deliveries = list(
            pool.map(lambda _: stack.xendit.send_webhook(invoice_id, "PAID"), range(10))
        )

    assert [d.http_status for d in deliveries] == [200] * 10
    assert _entitlement(api, buyer)["credits"] == 3
    outcomes = [e.outcome for e in _events(database, payment["id"])]
    assert outcomes.count("credited") == 1 and outcomes.count("duplicate") == 10
    with database.connect() as connection:
        entries = connection.execute(
            sa.text("SELECT count(*) FROM credit_ledger WHERE payment_id = :id"),
            {"id": payment["id"]},
        ).scalar_one()
    assert entries == 1


def test_ten_concurrent_first_deliveries_credit_once(api, stack, bought, database):
    buyer, payment, invoice_id = bought

    with ThreadPoolExecutor(max_workers=10) as pool:
        deliveries = list(
            pool.map(
                lambda _: stack.xendit.send_webhook(invoice_id, "PAID", paid_amount=99000),
                range(10),
            )
        )

    assert [d.http_status for d in deliveries] == [200] * 10
    assert _entitlement(api, buyer)["credits"] == 3
    outcomes = sorted(e.outcome for e in _events(database, payment["id"]))
    assert outcomes == ["credited"] + ["duplicate"] * 9


def test_expired_after_paid_keeps_the_credits_and_the_paid_status(api, stack, bought, database):
    buyer, payment, invoice_id = bought
    stack.xendit.pay(invoice_id)

    delivery = stack.xendit.send_webhook(invoice_id, "EXPIRED")

    assert delivery.http_status == 200
    assert _entitlement(api, buyer)["credits"] == 3
    assert _payment(api, buyer, payment)["status"] == "paid"
    assert _events(database, payment["id"])[-1].outcome == "ignored"


def test_expired_invoice_marks_the_payment_expired_without_credits(api, stack, bought):
    buyer, payment, invoice_id = bought

    delivery = stack.xendit.expire(invoice_id)

    assert delivery.http_status == 200
    assert _payment(api, buyer, payment)["status"] == "expired"
    assert _entitlement(api, buyer)["credits"] == 0


@pytest.mark.parametrize(
    "overrides",
    [{"amount": 1000, "paid_amount": 1000}, {"currency": "USD"}, {"paid_amount": 98999}],
    ids=["underpaid", "wrong-currency", "paid-amount-differs"],
)
def test_amount_or_currency_mismatch_is_recorded_and_not_credited(
    api, stack, bought, database, overrides
):
    buyer, payment, invoice_id = bought

    delivery = stack.xendit.send_webhook(invoice_id, "PAID", **overrides)

    assert delivery.http_status == 200
    assert _entitlement(api, buyer)["credits"] == 0
    assert _payment(api, buyer, payment)["status"] == "pending"
    assert [e.outcome for e in _events(database, payment["id"])] == ["mismatch"]


@pytest.mark.parametrize(
    "forge",
    [lambda real: "", lambda real: "forged-token", lambda real: real[:-1], lambda real: real + "x"],
    ids=["empty", "other", "prefix", "longer"],
)
def test_forged_or_missing_callback_token_is_401_and_credits_nothing(
    api, stack, bought, database, forge
):
    buyer, payment, invoice_id = bought
    token = forge(stack.xendit.callback_token)

    delivery = stack.xendit.send_webhook(invoice_id, "PAID", callback_token=token)

    assert delivery.http_status == 401
    assert _entitlement(api, buyer)["credits"] == 0
    assert _events(database, payment["id"]) == []


def test_no_token_header_at_all_is_401(api, bought):
    _, payment, invoice_id = bought

    response = api.post(
        WEBHOOK, json={"id": invoice_id, "external_id": payment["id"], "status": "PAID"}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"id": "abc", "status": "PAID"}',
        b'{"id": "abc", "external_id": "x", "status": "PAID", "amount": "lots"}',
        b'{"id": "abc", "external_id": "x", "status": "PAID", "amount": true}',
    ],
    ids=["not-json", "array", "no-external-id", "amount-text", "amount-bool"],
)
def test_malformed_callback_is_400_and_recorded_nowhere(api, stack, database, body):
    before = _event_count(database)

    response = api.post(
        WEBHOOK,
        content=body,
        headers={
            "Content-Type": "application/json",
            "x-callback-token": stack.xendit.callback_token,
        },
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert _event_count(database) == before


def test_unknown_external_id_is_recorded_and_answered_200_without_credit(
    api, stack, bought, database
):
    buyer, _, invoice_id = bought
    stranger = str(uuid.uuid4())

    for external_id in (stranger, "order-7"):
        delivery = stack.xendit.send_webhook(invoice_id, "PAID", external_id=external_id)
        assert delivery.http_status == 200
        assert [e.outcome for e in _events(database, external_id)] == ["unknown_payment"]
    assert _entitlement(api, buyer)["credits"] == 0


def test_stored_callbacks_carry_no_payer_email_or_phone(api, stack, bought, database):
    _, payment, invoice_id = bought

    stack.xendit.send_webhook(
        invoice_id,
        "PAID",
        payer_email="sari@example.com",
        customer={"mobile_number": "+6281234567890", "given_names": "Sari"},
    )

    [event] = _events(database, payment["id"])
    stored = json.dumps(event.payload)
    assert "sari@example.com" not in stored
    assert "+6281234567890" not in stored and "Sari" not in stored
    assert event.payload["external_id"] == payment["id"]
    assert event.payload["status"] == "PAID"
