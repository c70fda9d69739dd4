"""The countable log signals, read from the function servers' own stdout (JSON lines, as
Cloud Logging reads them) after real requests: each carries its top-level `event` and the
fields the log-based metrics count on, and no personal data."""

from __future__ import annotations

import json
import time

from tests.support.admin import go_online


def _wait_for(read, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    """Log lines reach the file a moment after the response; poll briefly."""
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_pairing_outcomes_no_bestie_matched_and_cancelled(
    api, server_log, nobody_online, online_mitras, client_with_credits, pairing_request
):
    log = server_log("public")
    lonely = client_with_credits(credits=1)
    no_bestie = pairing_request(lonely).json()
    (mitra,) = online_mitras(1)
    matched_client, cancelling = client_with_credits(credits=1), client_with_credits(credits=1)
    to_match = pairing_request(matched_client).json()["id"]
    accepted = api.post(f"/api/mitra/pairing-requests/{to_match}/accept", headers=mitra.headers)
    to_cancel = pairing_request(cancelling).json()["id"]
    cancelled = api.delete(f"/api/client/pairing-requests/{to_cancel}", headers=cancelling.headers)

    assert no_bestie["status"] == "no_bestie"
    assert accepted.status_code == 200, accepted.text
    assert cancelled.status_code in (200, 204), cancelled.text
    [lonely_line] = _wait_for(lambda: log.signals("pairing_outcome", request_id=no_bestie["id"]))
    [match_line] = _wait_for(lambda: log.signals("pairing_outcome", request_id=to_match))
    [cancel_line] = _wait_for(lambda: log.signals("pairing_outcome", request_id=to_cancel))
    assert lonely_line["outcome"] == "no_bestie" and "time_to_match_ms" not in lonely_line
    assert match_line["outcome"] == "matched"
    assert isinstance(match_line["time_to_match_ms"], int) and match_line["time_to_match_ms"] >= 0
    assert cancel_line["outcome"] == "cancelled"
    assert {line["severity"] for line in (lonely_line, match_line, cancel_line)} == {"INFO"}


def test_xendit_webhook_outcomes_including_rejected(api, server_log, make_buyer, package, stack):
    log = server_log("public")
    buyer = make_buyer()
    payment = api.post(
        "/api/client/payments", headers=buyer.headers, json={"package_id": package["id"]}
    ).json()
    [invoice] = [i for i in stack.xendit.invoices() if i["external_id"] == payment["id"]]

    stack.xendit.pay(invoice["id"])
    stack.xendit.send_webhook(invoice["id"], "PAID")
    forged = stack.xendit.send_webhook(invoice["id"], "PAID", callback_token="wrong")

    assert forged.http_status == 401
    outcomes = _wait_for(
        lambda: [
            e["outcome"]
            for e in log.signals("xendit_webhook", external_id=payment["id"])
            if len(log.signals("xendit_webhook", external_id=payment["id"])) >= 2
        ]
    )
    assert outcomes == ["credited", "replayed"]
    assert _wait_for(lambda: log.signals("xendit_webhook", outcome="rejected"))


def test_sweeper_run_has_outcome_and_duration(stack, server_log):
    log = server_log("sweeper")

    assert stack.sweep_now() == 200

    [run] = _wait_for(lambda: log.signals("sweeper_run"))
    assert run["outcome"] in ("ok", "failed")
    assert isinstance(run["duration_ms"], int | float) and run["duration_ms"] >= 0


def test_signals_carry_no_personal_data(api, server_log, make_mitra, stack):
    log = server_log("public")
    mitra = make_mitra()
    go_online(api, mitra)
    assert stack.sweep_now() == 200

    text = json.dumps(log.entries())
    assert mitra.phone not in text and mitra.phone[1:] not in text
