"""The issue's browser scenario, step by step, as verdicts (see `harness`): the control center
logs in and reads the dashboard from another origin, opens the dashboard stream with a
ticket, replays the ticket; a client's and a mitra's app do the same with their streams; a
page on an origin that is on no list tries to log in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.browser.harness import OriginServer, Page


@dataclass(frozen=True)
class Targets:
    admin_url: str
    public_url: str
    operator_email: str
    operator_password: str
    client_token: str
    mitra_token: str
    # Used only when the browser's own login failed, so the later steps still show what
    # the browser sees (the "before" record).
    fallback_operator_token: str | None = None


def run(browser: Any, origin: OriginServer, targets: Targets) -> dict[str, dict[str, Any]]:
    verdicts: dict[str, dict[str, Any]] = {}
    page = Page(browser, origin.allowed)
    try:
        admin, public = targets.admin_url, targets.public_url
        login = page.fetch(
            f"{admin}/api/admin/auth/login",
            "POST",
            json_body={"email": targets.operator_email, "password": targets.operator_password},
        )
        verdicts["operator login (preflighted fetch)"] = login.summary()
        token = (login.js.get("body") or {}).get("token") if "status" in login.js else None
        token = token or targets.fallback_operator_token
        if token is None:
            return verdicts
        verdicts["dashboard read"] = page.fetch(
            f"{admin}/api/admin/dashboard", token=token
        ).summary()
        _stream_steps(
            page,
            verdicts,
            "admin",
            ticket_url=f"{admin}/api/admin/stream-tickets",
            stream_url=f"{admin}/api/admin/dashboard/stream",
            event="dashboard",
            token=token,
        )
        _stream_steps(
            page,
            verdicts,
            "client",
            ticket_url=f"{public}/api/client/stream-tickets",
            stream_url=f"{public}/api/client/events",
            event="snapshot",
            token=targets.client_token,
        )
        _stream_steps(
            page,
            verdicts,
            "mitra",
            ticket_url=f"{public}/api/mitra/stream-tickets",
            stream_url=f"{public}/api/mitra/events",
            event="snapshot",
            token=targets.mitra_token,
        )
    finally:
        page.close()

    stranger = Page(browser, origin.disallowed)
    try:
        verdicts["login from a disallowed origin"] = stranger.fetch(
            f"{targets.admin_url}/api/admin/auth/login",
            "POST",
            json_body={"email": targets.operator_email, "password": targets.operator_password},
        ).summary()
    finally:
        stranger.close()
    return verdicts


def _stream_steps(
    page: Page,
    verdicts: dict[str, dict[str, Any]],
    audience: str,
    *,
    ticket_url: str,
    stream_url: str,
    event: str,
    token: str,
) -> None:
    # What the browser does today without tickets: EventSource cannot send Authorization.
    verdicts[f"{audience}: EventSource without a ticket"] = page.event_source(
        stream_url, event, timeout_ms=4000
    ).summary()
    issued = page.fetch(ticket_url, "POST", token=token)
    verdicts[f"{audience}: stream ticket"] = issued.summary()
    ticket = (issued.js.get("body") or {}).get("ticket") if issued.js.get("status") == 201 else None
    if ticket is None:
        return
    verdicts[f"{audience}: EventSource with the ticket"] = page.event_source(
        f"{stream_url}?ticket={ticket}", event
    ).summary()
    verdicts[f"{audience}: EventSource with the same ticket again"] = page.event_source(
        f"{stream_url}?ticket={ticket}", event, timeout_ms=4000
    ).summary()
