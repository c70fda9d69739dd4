"""Payment reconciliation against the Xendit stand-in: payments still pending well past
their invoice's expiry are settled by the sweeper exactly as the webhook would settle them
(same code path, same ledger reference), whatever Xendit says — or fails to say."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa


@pytest.fixture
def overdue(api, make_buyer, package, stack, database):
    """A buyer with a pending payment whose invoice expired 20 minutes ago (past the
    default 10-minute margin) and whose webhook never came."""
    buyer = make_buyer()
    payment = api.post(
        "/api/client/payments", headers=buyer.headers, json={"package_id": package["id"]}
    ).json()
    [invoice] = [i for i in stack.xendit.invoices() if i["external_id"] == payment["id"]]
    with database.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE payments SET expires_at = now() - interval '20 minutes' WHERE id = :id"
            ),
            {"id": payment["id"]},
        )
    return buyer, payment["id"], invoice["id"]


def _state(api, database, buyer, payment_id) -> dict:
    with database.connect() as connection:
        row = connection.execute(
            sa.text("SELECT status, failure_reason, paid_at FROM payments WHERE id = :id"),
            {"id": payment_id},
        ).one()
        entries = connection.execute(
            sa.text("SELECT count(*) FROM credit_ledger WHERE payment_id = :id"),
            {"id": payment_id},
        ).scalar_one()
        recorded = [
            (r.source, r.outcome)
            for r in connection.execute(
                sa.text(
                    "SELECT source, outcome FROM payment_webhook_events"
                    " WHERE external_id = :id ORDER BY id"
                ),
                {"id": payment_id},
            )
        ]
    credits = api.get("/api/client/entitlement", headers=buyer.headers).json()["credits"]
    return {
        "status": row.status,
        "failure_reason": row.failure_reason,
        "paid": row.paid_at is not None,
        "ledger_entries": entries,
        "credits": credits,
        "recorded": recorded,
    }


def test_a_paid_invoice_whose_webhook_never_came_is_credited_once_even_when_it_then_arrives(
    api, stack, database, overdue, server_log
):
    buyer, payment_id, invoice_id = overdue
    stack.xendit.pay_silently(invoice_id)
    sweeper_log = server_log("sweeper")

    with ThreadPoolExecutor(2) as pool:  # two sweepers at once
        statuses = list(pool.map(lambda _: stack.sweep_now(), range(2)))
    after_sweeps = _state(api, database, buyer, payment_id)
    late = stack.xendit.send_webhook(invoice_id, "PAID")  # Xendit finally delivers
    after_webhook = _state(api, database, buyer, payment_id)

    assert statuses == [200, 200]
    assert after_sweeps["status"] == "paid" and after_sweeps["paid"]
    assert after_sweeps["credits"] == 3 and after_sweeps["ledger_entries"] == 1
    # One sweeper credited; the other, if it got there, found the reference taken.
    assert after_sweeps["recorded"][0] == ("reconciliation", "credited")
    assert {o for _, o in after_sweeps["recorded"][1:]} <= {"duplicate"}
    assert late.http_status == 200
    assert after_webhook["credits"] == 3 and after_webhook["ledger_entries"] == 1
    assert after_webhook["recorded"][-1] == ("webhook", "duplicate")
    reconciled = sweeper_log.signals("payment_reconciled", payment_id=payment_id)
    outcomes = [e["outcome"] for e in reconciled]
    assert outcomes.count("credited") == 1


def test_an_expired_invoice_is_closed_without_credit(api, stack, database, overdue):
    buyer, payment_id, invoice_id = overdue
    stack.xendit.expire_silently(invoice_id)

    assert stack.sweep_now() == 200

    state = _state(api, database, buyer, payment_id)
    assert state["status"] == "expired"
    assert (state["credits"], state["ledger_entries"]) == (0, 0)
    assert state["recorded"] == [("reconciliation", "expired")]


def test_an_invoice_xendit_does_not_know_fails_the_payment_with_its_reason(
    api, stack, database, overdue
):
    buyer, payment_id, invoice_id = overdue
    stack.xendit.forget(invoice_id)

    assert stack.sweep_now() == 200

    state = _state(api, database, buyer, payment_id)
    assert state["status"] == "failed"
    assert "404" in state["failure_reason"]
    assert (state["credits"], state["ledger_entries"]) == (0, 0)
    shown = api.get(f"/api/client/payments/{payment_id}", headers=buyer.headers).json()
    assert shown["status"] == "failed"


def test_a_paid_amount_that_does_not_match_fails_the_payment_without_credit(
    api, stack, database, overdue
):
    buyer, payment_id, invoice_id = overdue
    stack.xendit.pay_silently(invoice_id, amount=1000)

    assert stack.sweep_now() == 200

    state = _state(api, database, buyer, payment_id)
    assert state["status"] == "failed" and "match" in state["failure_reason"]
    assert (state["credits"], state["ledger_entries"]) == (0, 0)
    assert state["recorded"] == [("reconciliation", "mismatch")]


def test_xendit_down_leaves_the_payment_pending_and_the_next_sweep_settles_it(
    api, stack, database, overdue
):
    buyer, payment_id, invoice_id = overdue
    stack.xendit.pay_silently(invoice_id)
    stack.xendit.fail_reads(503, count=50)  # every read of this sweep fails
    try:
        assert stack.sweep_now() == 200
        during = _state(api, database, buyer, payment_id)
    finally:
        stack.xendit.stop_failing_reads()
    assert stack.sweep_now() == 200
    after = _state(api, database, buyer, payment_id)

    assert during == {
        "status": "pending",
        "failure_reason": None,
        "paid": False,
        "ledger_entries": 0,
        "credits": 0,
        "recorded": [],
    }
    assert after["status"] == "paid" and after["credits"] == 3
    assert after["recorded"] == [("reconciliation", "credited")]


def test_payments_not_yet_overdue_are_not_asked_about(api, make_buyer, package, stack, database):
    buyer = make_buyer()
    payment = api.post(
        "/api/client/payments", headers=buyer.headers, json={"package_id": package["id"]}
    ).json()
    [invoice] = [i for i in stack.xendit.invoices() if i["external_id"] == payment["id"]]
    stack.xendit.pay_silently(invoice["id"])  # paid, but its webhook may still come

    assert stack.sweep_now() == 200

    assert _state(api, database, buyer, payment["id"])["status"] == "pending"
