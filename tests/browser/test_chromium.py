"""The control center and the apps' web builds in a real browser: Debian's Chromium, driven
through Playwright, running JavaScript on a page served from another origin than the APIs.
Every request below is Chromium's own, under Chromium's CORS rules (see `scenario`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.conftest import SEEDED_EMAIL, SEEDED_PASSWORD
from tests.browser import scenario


@pytest.fixture(scope="module")
def verdicts(stack, browser, origin, make_client, make_mitra) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    targets = scenario.Targets(
        admin_url=stack.admin_url,
        public_url=stack.public_url,
        operator_email=SEEDED_EMAIL,
        operator_password=SEEDED_PASSWORD,
        client_token=make_client().account.id_token,
        mitra_token=make_mitra().account.id_token,
    )
    return scenario.run(browser, origin, targets)


def test_operator_logs_in_through_a_preflighted_fetch(verdicts):
    login = verdicts["operator login (preflighted fetch)"]

    assert login["page"]["status"] == 200
    assert login["page"]["body"]["admin"]["email"] == SEEDED_EMAIL
    assert login["page"]["request_id"]  # an exposed header the page can read
    assert "OPTIONS /api/admin/auth/login → 204" in login["chromium_responses"]
    assert login["console"] == []


def test_the_dashboard_is_read_with_the_token(verdicts):
    read = verdicts["dashboard read"]

    assert read["page"]["status"] == 200
    assert "online" in read["page"]["body"]["mitras"]
    assert "OPTIONS /api/admin/dashboard → 204" in read["chromium_responses"]


@pytest.mark.parametrize(
    ("audience", "first_event"),
    [("admin", "dashboard"), ("client", "snapshot"), ("mitra", "snapshot")],
)
def test_native_event_source_opens_with_a_ticket_once(verdicts, audience, first_event):
    without = verdicts[f"{audience}: EventSource without a ticket"]
    issued = verdicts[f"{audience}: stream ticket"]
    opened = verdicts[f"{audience}: EventSource with the ticket"]
    replayed = verdicts[f"{audience}: EventSource with the same ticket again"]

    # EventSource cannot send Authorization: refused, and the page may read that it was.
    assert without["page"]["error"] == "EventSource error"
    assert any(line.endswith("→ 401") for line in without["chromium_responses"])
    assert issued["page"]["status"] == 201
    assert opened["page"] == {"event": first_event, "type": first_event, "id": opened["page"]["id"]}
    assert replayed["page"]["error"] == "EventSource error"
    assert any(line.endswith("?ticket=… → 401") for line in replayed["chromium_responses"])


def test_a_page_on_a_disallowed_origin_is_blocked_by_the_browser(verdicts):
    blocked = verdicts["login from a disallowed origin"]

    assert blocked["page"] == {"error": "TypeError: Failed to fetch"}
    assert any("blocked by CORS policy" in line for line in blocked["console"])
