"""The control center's payments list: filters, cursor pages, and each payment's recorded
webhook outcomes."""

from __future__ import annotations

import uuid


def _buy(api, buyer, package) -> dict:
    # A key per purchase: two buys of one package are two payments (a keyless press would
    # get the pending invoice back).
    response = api.post(
        "/api/client/payments",
        headers=buyer.headers | {"Idempotency-Key": f"buy-{uuid.uuid4()}"},
        json={"package_id": package["id"]},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _invoice_of(stack, payment_id: str) -> str:
    [invoice] = [i for i in stack.xendit.invoices() if i["external_id"] == payment_id]
    return invoice["id"]


def test_payments_of_a_client_with_their_webhook_outcomes(
    api, admin_api, admin, make_buyer, package, stack
):
    buyer = make_buyer()
    paid, open_ = _buy(api, buyer, package), _buy(api, buyer, package)
    invoice = _invoice_of(stack, paid["id"])
    stack.xendit.pay(invoice)
    stack.xendit.send_webhook(invoice, "PAID")  # a replay

    listed = admin_api.get(
        "/api/admin/payments", params={"client_id": buyer.id}, headers=admin.headers
    )
    only_paid = admin_api.get(
        "/api/admin/payments",
        params={"client_id": buyer.id, "status": "paid"},
        headers=admin.headers,
    )
    first_page = admin_api.get(
        "/api/admin/payments", params={"client_id": buyer.id, "limit": 1}, headers=admin.headers
    )
    second_page = admin_api.get(
        "/api/admin/payments",
        params={"client_id": buyer.id, "limit": 1, "cursor": first_page.json()["next_cursor"]},
        headers=admin.headers,
    )

    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [i["id"] for i in items] == [open_["id"], paid["id"]]  # newest first
    shown = items[1]
    assert shown["status"] == "paid" and shown["client_id"] == buyer.id
    assert [(e["source"], e["outcome"]) for e in shown["webhook_events"]] == [
        ("webhook", "credited"),
        ("webhook", "duplicate"),
    ]
    assert items[0]["webhook_events"] == []
    assert [i["id"] for i in only_paid.json()["items"]] == [paid["id"]]
    assert [i["id"] for i in first_page.json()["items"]] == [open_["id"]]
    assert [i["id"] for i in second_page.json()["items"]] == [paid["id"]]
    assert second_page.json()["next_cursor"] is None


def test_payments_list_refuses_viewers_and_bad_filters(admin_api, admin, viewer):
    assert admin_api.get("/api/admin/payments", headers=viewer.headers).status_code == 403
    bad = admin_api.get("/api/admin/payments", params={"status": "lost"}, headers=admin.headers)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_request"
    forged = admin_api.get("/api/admin/payments", params={"cursor": "x"}, headers=admin.headers)
    assert forged.status_code == 400
