"""Entitlement, packages and creating a payment: a Xendit invoice made through the real SDK
against the stand-in, idempotent, and nothing half-made when Xendit fails."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa


def _payments_of(database, client_id: str) -> list[sa.Row]:
    with database.connect() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT id, status, invoice_url, xendit_invoice_id FROM payments"
                    " WHERE client_id = :id ORDER BY created_at"
                ),
                {"id": client_id},
            )
        )


def _invoices_for(stack, payment_id: str) -> list[dict]:
    return [i for i in stack.xendit.invoices() if i["external_id"] == payment_id]


def test_new_anonymous_client_has_the_trial_and_no_credits(api, make_client):
    client = make_client()

    response = api.get("/api/client/entitlement", headers=client.headers)

    assert response.status_code == 200
    assert response.json() == {"trial_sessions_left": 1, "credits": 0, "registered": False}


def test_packages_list_only_active_ones_in_sort_order(api, make_client, database, package):
    with database.begin() as connection:
        hidden = connection.execute(
            sa.text(
                "INSERT INTO packages (name, sessions, price, active, sort_order)"
                " VALUES ('lama', 2, 1000, false, 0) RETURNING id"
            )
        ).scalar_one()

    items = api.get("/api/client/packages", headers=make_client().headers).json()["items"]

    ids = [item["id"] for item in items]
    assert str(hidden) not in ids
    assert {
        "id": package["id"],
        "name": "3 sesi uji",
        "sessions": 3,
        "price": 99000,
        "currency": "IDR",
    } in items
    with database.connect() as connection:
        order = dict(connection.execute(sa.text("SELECT id::text, sort_order FROM packages")).all())
    assert [order[i] for i in ids] == sorted(order[i] for i in ids)


def test_anonymous_client_must_register_to_buy(api, make_client, database, package, stack):
    client = make_client()
    invoices_before = len(stack.xendit.invoices())

    response = api.post(
        "/api/client/payments", headers=client.headers, json={"package_id": package["id"]}
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "registration_required"
    assert _payments_of(database, client.id) == []
    assert len(stack.xendit.invoices()) == invoices_before


def test_registered_client_gets_a_pending_payment_with_a_xendit_invoice(
    api, make_buyer, package, stack
):
    buyer = make_buyer()

    response = api.post(
        "/api/client/payments", headers=buyer.headers, json={"package_id": package["id"]}
    )

    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["status"] == "pending"
    assert payment["amount"] == 99000 and payment["currency"] == "IDR"
    assert payment["expires_at"] is not None
    [invoice] = _invoices_for(stack, payment["id"])
    assert payment["invoice_url"] == invoice["invoice_url"]
    assert invoice["amount"] == 99000
    assert invoice["metadata"] == {"payment_id": payment["id"]}
    assert api.get(f"/api/client/payments/{payment['id']}", headers=buyer.headers).json() == (
        payment
    )


def test_twenty_concurrent_presses_with_one_key_make_one_payment_and_one_answer(
    api, make_buyer, package, stack, database
):
    buyer = make_buyer()
    headers = buyer.headers | {"Idempotency-Key": f"beli-{uuid.uuid4()}"}
    start = threading.Barrier(20)

    def buy(_: int) -> dict:
        start.wait()
        response = api.post(
            "/api/client/payments", headers=headers, json={"package_id": package["id"]}
        )
        return {"status": response.status_code, "body": response.json()}

    with ThreadPoolExecutor(max_workers=20) as pool:
        racing = list(pool.map(buy, range(20)))

    # Replays wait for the first press's invoice instead of answering "still being created".
    assert {r["status"] for r in racing} == {201}, racing
    assert all(r["body"] == racing[0]["body"] for r in racing), racing
    assert racing[0]["body"]["invoice_url"]
    assert len(_payments_of(database, buyer.id)) == 1
    assert len(_invoices_for(stack, racing[0]["body"]["id"])) == 1


def test_same_idempotency_key_for_another_package_is_a_conflict(api, make_buyer, package, database):
    buyer = make_buyer()
    headers = buyer.headers | {"Idempotency-Key": "sekali"}
    api.post("/api/client/payments", headers=headers, json={"package_id": package["id"]})
    with database.connect() as connection:
        other = connection.execute(
            sa.text("SELECT id FROM packages WHERE active AND id <> :id LIMIT 1"),
            {"id": package["id"]},
        ).scalar_one()

    response = api.post("/api/client/payments", headers=headers, json={"package_id": str(other)})

    assert response.status_code == 409
    assert len(_payments_of(database, buyer.id)) == 1


def test_provider_failure_is_502_leaves_nothing_pending_and_the_same_key_may_retry(
    api, make_buyer, package, stack, database
):
    buyer = make_buyer()
    headers = buyer.headers | {"Idempotency-Key": f"beli-{uuid.uuid4()}"}
    stack.xendit.fail_next(503)

    failed = api.post("/api/client/payments", headers=headers, json={"package_id": package["id"]})

    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "payment_provider_error"
    [row] = _payments_of(database, buyer.id)
    assert row.status == "failed" and row.invoice_url is None
    assert _invoices_for(stack, str(row.id)) == []

    retried = api.post("/api/client/payments", headers=headers, json={"package_id": package["id"]})

    assert retried.status_code == 201
    assert retried.json()["id"] == str(row.id)
    assert retried.json()["status"] == "pending"
    assert len(_invoices_for(stack, str(row.id))) == 1


def test_provider_refusing_our_key_is_502_too(api, make_buyer, package, stack, database):
    buyer = make_buyer()
    stack.xendit.fail_next(401)

    response = api.post(
        "/api/client/payments", headers=buyer.headers, json={"package_id": package["id"]}
    )

    assert response.status_code == 502
    assert [row.status for row in _payments_of(database, buyer.id)] == ["failed"]


def test_unknown_or_inactive_package_is_400_naming_package_id(api, make_buyer, database):
    buyer = make_buyer()
    with database.begin() as connection:
        inactive = connection.execute(
            sa.text(
                "INSERT INTO packages (name, sessions, price, active) VALUES ('off', 1, 1, false)"
                " RETURNING id"
            )
        ).scalar_one()

    for package_id in (str(uuid.uuid4()), str(inactive), "bukan-uuid"):
        response = api.post(
            "/api/client/payments", headers=buyer.headers, json={"package_id": package_id}
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert [f["field"] for f in error["details"]["fields"]] == ["package_id"]
    assert _payments_of(database, buyer.id) == []


def test_another_clients_payment_is_not_found(api, make_buyer, package):
    owner, other = make_buyer(), make_buyer()
    payment = api.post(
        "/api/client/payments", headers=owner.headers, json={"package_id": package["id"]}
    ).json()

    theirs = api.get(f"/api/client/payments/{payment['id']}", headers=other.headers)
    missing = api.get(f"/api/client/payments/{uuid.uuid4()}", headers=other.headers)

    assert theirs.status_code == 404
    assert theirs.json()["error"] == missing.json()["error"]
