"""Open streams re-check their caller (every STREAM_RECHECK_S, 1 s in the test stack): a
suspended operator, client or mitra, an operator whose password changed, or a stream whose
token expired, gets one `stream.closed` event naming why, then the stream ends."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from shared import valkey
from tests.browser.conftest import events_until_end
from tests.conftest import bearer


def test_streams_end_with_the_reason_when_their_caller_loses_the_right(
    stack, api, admin_api, root, make_operator, make_client, make_mitra
):
    suspended_op, password_op = make_operator("viewer"), make_operator("admin")
    client, mitra = make_client(), make_mitra()
    ticket = admin_api.post("/api/admin/stream-tickets", headers=suspended_op.headers).json()
    streams: dict[str, tuple[str, dict[str, str] | None]] = {
        # One of each kind opened with a ticket, the rest with the header.
        "operator suspended": (
            f"{stack.admin_url}/api/admin/dashboard/stream?ticket={ticket['ticket']}",
            None,
        ),
        "operator password changed": (
            f"{stack.admin_url}/api/admin/dashboard/stream",
            bearer(password_op.token),
        ),
        "client suspended": (f"{stack.public_url}/api/client/events", client.headers),
        "mitra suspended": (f"{stack.public_url}/api/mitra/events", mitra.headers),
    }
    results: dict[str, Any] = {}
    opened = threading.Barrier(len(streams) + 1)

    def watch(name: str, url: str, headers: dict[str, str] | None) -> None:
        # Each thread signals once its stream is open (first frame read inside the helper
        # would be too late), so the changes below happen to open streams.
        def on_open() -> None:
            opened.wait(timeout=30)

        results[name] = events_until_end(url, headers=headers, on_open=on_open)

    threads = [
        threading.Thread(target=watch, args=(name, url, headers))
        for name, (url, headers) in streams.items()
    ]
    for thread in threads:
        thread.start()
    opened.wait(timeout=30)

    patch = {"headers": root.headers}
    assert (
        admin_api.patch(
            f"/api/admin/admins/{suspended_op.id}", json={"status": "suspended"}, **patch
        ).status_code
        == 200
    )
    assert (
        admin_api.patch(
            f"/api/admin/admins/{password_op.id}",
            json={"password": "a-brand-new-password"},
            **patch,
        ).status_code
        == 200
    )
    assert (
        admin_api.patch(
            f"/api/admin/users/{client.id}", json={"status": "suspended"}, **patch
        ).status_code
        == 200
    )
    assert (
        admin_api.patch(
            f"/api/admin/mitras/{mitra.id}", json={"status": "suspended"}, **patch
        ).status_code
        == 200
    )
    for thread in threads:
        thread.join(timeout=60)

    expected = {
        "operator suspended": "suspended",
        "operator password changed": "password_changed",
        "client suspended": "suspended",
        "mitra suspended": "suspended",
    }
    for name, reason in expected.items():
        status, frames = results[name]
        assert status == 200, name
        assert frames[0][0] in ("dashboard", "snapshot"), name
        last_event, last_data = frames[-1]
        assert last_event == "stream.closed", (name, frames[-3:])
        assert last_data["data"] == {"reason": reason}, name
        assert [event for event, _ in frames].count("stream.closed") == 1


def test_a_stream_whose_caller_is_fine_stays_open_across_rechecks(stack, make_client):
    client = make_client()
    # Three re-check intervals of keep-alives, then the test stops reading.
    status, frames = events_until_end(
        f"{stack.public_url}/api/client/events", headers=client.headers, max_seconds=3.5
    )

    assert status == 200
    assert [event for event, _ in frames] == ["snapshot"]


def test_a_stream_ends_when_the_token_behind_its_ticket_expires(stack, api, make_client):
    client = make_client()
    ticket = api.post("/api/client/stream-tickets", headers=client.headers).json()["ticket"]
    # Emulator tokens live an hour; let this ticket stand for one that expires in 2 s by
    # rewriting the expiry it recorded (its lifetime in Valkey is kept).
    key = f"stream-ticket:client:{hashlib.sha256(ticket.encode()).hexdigest()}"
    subject = json.loads(valkey.client().get(key))
    subject["exp"] = int(time.time()) + 2
    valkey.client().set(key, json.dumps(subject), keepttl=True)

    status, frames = events_until_end(f"{stack.public_url}/api/client/events?ticket={ticket}")

    assert status == 200
    assert [event for event, _ in frames] == ["snapshot", "stream.closed"]
    assert frames[-1][1]["data"] == {"reason": "token_expired"}
