"""The balance is the ledger: after a randomized mix of purchases, replays, expiries,
mismatches and sessions, the entitlement the app sees equals the sum of the entries and
the count a simple model of the rules predicts."""

from __future__ import annotations

import random
import uuid

import pytest
import sqlalchemy as sa

from shared import db
from shared.domain import entitlement
from shared.errors import PaymentRequired
from tests.support.sessions import start_session


def _ledger_sums(database, client_id: str) -> dict[str, int]:
    with database.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT bucket, COALESCE(SUM(sessions), 0) FROM credit_ledger"
                " WHERE client_id = :id GROUP BY bucket"
            ),
            {"id": client_id},
        ).all()
    return {"trial": 0, "credit": 0} | dict(rows)


@pytest.mark.parametrize("seed", [7, 2026, random.randrange(1_000_000)])
def test_balance_equals_the_sum_of_ledger_entries_after_a_randomized_run(
    api, stack, database, make_buyer, make_mitra, package, seed
):
    rng = random.Random(seed)
    buyer, mitra = make_buyer(), make_mitra(max_customers=50)
    expected = {"trial": 1, "credit": 0}
    paid_invoices: list[str] = []

    def buy() -> str:
        # A key per purchase: each buy is a new payment (without one, a pending invoice of
        # the same package, e.g. an underpaid one, would be handed out again).
        payment = api.post(
            "/api/client/payments",
            headers=buyer.headers | {"Idempotency-Key": f"buy-{uuid.uuid4()}"},
            json={"package_id": package["id"]},
        ).json()
        return next(i["id"] for i in stack.xendit.invoices() if i["external_id"] == payment["id"])

    def pay() -> None:
        invoice_id = buy()
        stack.xendit.pay(invoice_id)
        paid_invoices.append(invoice_id)
        expected["credit"] += package["sessions"]

    def replay() -> None:
        if paid_invoices:
            stack.xendit.send_webhook(rng.choice(paid_invoices), rng.choice(["PAID", "SETTLED"]))

    def expire_paid() -> None:
        if paid_invoices:
            stack.xendit.send_webhook(rng.choice(paid_invoices), "EXPIRED")

    def expire_unpaid() -> None:
        stack.xendit.expire(buy())

    def underpay() -> None:
        stack.xendit.pay(buy(), amount=package["price"] - 1)

    def session() -> None:
        if expected["trial"] + expected["credit"] == 0:
            with pytest.raises(PaymentRequired), db.transaction() as connection:
                entitlement.consume_for_session(connection, uuid.UUID(buyer.id), uuid.uuid4())
            return
        session_id = start_session(buyer.id, mitra.id)
        expected["trial" if expected["trial"] else "credit"] -= 1
        api.post(f"/api/client/sessions/{session_id}/end", headers=buyer.headers, json={})

    actions = [pay, replay, expire_paid, expire_unpaid, underpay, session, session, session]
    for _ in range(30):
        rng.choice(actions)()

    shown = api.get("/api/client/entitlement", headers=buyer.headers).json()
    sums = _ledger_sums(database, buyer.id)
    assert (shown["trial_sessions_left"], shown["credits"]) == (sums["trial"], sums["credit"])
    assert sums == expected, f"seed {seed}"
