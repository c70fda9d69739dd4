"""The event streams against their AsyncAPI documents, and the anonymity rule over every
payload that carries the other party.

One flow per anonymity setting (everything shown / everything hidden) captures frames from
real streams — client, three mitras, the operators' dashboard — and the REST answers of the
same flow: each frame's `event:` is a message of its audience's document and its `data:`
validates against that message's payload schema (jsonschema); each payload shows the other
party's name and photo only as the setting allows, null otherwise, and never their id.
Snapshots are captured with content (a mitra stream opened while an offer is open, a client
stream opened during the session), and the pushes of the same flow name no one at all."""

from __future__ import annotations

import contextlib
import json
import queue
import secrets
import time
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from httpx_sse import connect_sse

from shared.domain import settings
from tests.pairing.conftest import make_overdue, open_stream  # noqa: F401 (fixture)
from tests.push.conftest import new_token, pushes
from tests.support.admin import go_online

PHOTO = "https://cdn.halobestie.test/mitra.jpg"


@pytest.fixture
def anonymity():
    original = settings.current()

    def apply(shown: bool) -> None:
        flags = dict.fromkeys(original.anonymity.model_dump(), shown)
        settings.save(
            original.model_copy(update={"anonymity": original.anonymity.model_copy(update=flags)}),
            None,
        )

    yield apply
    settings.save(original, None)


def _validator(document: dict[str, Any], event_type: str) -> jsonschema.Draft202012Validator:
    (message,) = [m for m in document["components"]["messages"].values() if m["name"] == event_type]
    schema = dict(message["payload"], components=document["components"])
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _check_frames(document: dict[str, Any], frames: list[Any]) -> set[str]:
    seen = set()
    for frame in frames:
        payload = json.loads(frame.data)
        _validator(document, frame.event).validate(payload)
        assert (payload["type"], payload["id"]) == (frame.event, frame.id)
        seen.add(frame.event)
    return seen


class Captured:
    """Every frame of the open streams, kept while waiting for particular ones."""

    def __init__(self, readers: dict[str, Any]) -> None:
        self.readers = readers
        self.frames: dict[str, list[Any]] = {key: [] for key in readers}

    def wait_for(self, key: str, event_type: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                frame = self.readers[key].next(timeout=max(0.01, deadline - time.monotonic()))
                if frame.event == "message" and not frame.data:
                    continue  # httpx-sse's reading of a keep-alive comment after an `id:`
                self.frames[key].append(frame)
                if frame.event == event_type:
                    return frame
        seen = [f.event for f in self.frames[key]]
        raise AssertionError(f"no {event_type} on {key} within {timeout} s; saw {seen}")

    def drain(self) -> None:
        for key, reader in self.readers.items():
            self.frames[key].extend(f for f in reader.drain(0.3) if f.data)


def _register_device(api: Any, user: Any, audience: str) -> str:
    token = new_token()
    response = api.put(
        f"/api/{audience}/devices/{token}",
        json={"platform": "android", "app_version": "1.4.0", "locale": "id-ID"},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    return token


@pytest.mark.parametrize("shown", [True, False], ids=["shown", "hidden"])
def test_stream_frames_match_asyncapi_and_show_the_other_side_as_anonymity_allows(
    shown,
    anonymity,
    api,
    admin_api,
    admin,
    database,
    online_mitras,
    client_with_credits,
    pairing_request,
    open_stream,  # noqa: F811
    stack,
):
    anonymity(shown)
    tag = secrets.token_hex(3)
    first, second, third = online_mitras(3)
    names = {m.id: f"Dewi{tag}{i}" for i, m in enumerate((first, second, third))}
    with database.begin() as connection:
        for mitra_id, name in names.items():
            connection.execute(
                sa.text("UPDATE mitras SET name = :n, photo_url = :p WHERE id = :id"),
                {"n": name, "p": PHOTO, "id": mitra_id},
            )
    client = client_with_credits(2, name=f"Sari{tag}")
    streams = {
        "client": open_stream("/api/client/events", client.headers),
        **{m.id: open_stream("/api/mitra/events", m.headers) for m in (first, second, third)},
    }
    captured = Captured(streams)
    for key in streams:
        captured.wait_for(key, "snapshot")
    client_device = _register_device(api, client, "client")
    mitra_device = _register_device(api, first, "mitra")

    client_side: list[Any] = []  # REST bodies the client gets
    mitra_side: list[Any] = []  # REST bodies mitras get
    request_id = pairing_request(client).json()["id"]
    offers = api.get("/api/mitra/pairing-requests", headers=first.headers).json()
    mitra_side.append(offers)
    # A stream opened now starts with a snapshot that holds the open offer.
    streams["late mitra"] = open_stream("/api/mitra/events", second.headers)
    captured.frames["late mitra"] = []
    late_offers = json.loads(captured.wait_for("late mitra", "snapshot").data)["data"]["offers"]
    assert request_id in {o["request_id"] for o in late_offers}
    accepted = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=first.headers)
    assert accepted.status_code == 200, accepted.text
    mitra_side.append(accepted.json())
    session_id = accepted.json()["session_id"]
    captured.wait_for("client", "session.started")
    client_side.append(
        api.get(f"/api/client/pairing-requests/{request_id}", headers=client.headers).json()
    )
    client_side.append(api.get(f"/api/client/sessions/{session_id}", headers=client.headers).json())
    mitra_side.append(api.get(f"/api/mitra/sessions/{session_id}", headers=first.headers).json())
    # ... and a client stream opened now starts with the active session and its mitra.
    streams["late client"] = open_stream("/api/client/events", client.headers)
    captured.frames["late client"] = []
    late = json.loads(captured.wait_for("late client", "snapshot").data)["data"]
    assert late["session"]["id"] == session_id

    moved = admin_api.post(
        f"/api/admin/sessions/{session_id}/reroute",
        json={"mitra_id": second.id},
        headers=admin.headers,
    )
    assert moved.status_code == 200, moved.text
    captured.wait_for(second.id, "session.rerouted")
    ended = api.post(f"/api/client/sessions/{session_id}/end", headers=client.headers, json={})
    client_side.append(ended.json())
    captured.wait_for(second.id, "session.ended")

    expiring_request = pairing_request(client)
    assert expiring_request.json()["status"] == "searching", expiring_request.text
    expiring = expiring_request.json()["id"]
    make_overdue(database, expiring)
    api.get(f"/api/client/pairing-requests/{expiring}", headers=client.headers)
    captured.wait_for("client", "pairing.expired")
    go_online(api, third)  # through presence, so PostgreSQL has the transition to undo
    forced = admin_api.post(f"/api/admin/mitras/{third.id}/force-offline", headers=admin.headers)
    assert forced.status_code == 200, forced.text
    captured.wait_for(third.id, "presence.offline")
    suspended = admin_api.patch(
        f"/api/admin/mitras/{third.id}", json={"status": "suspended"}, headers=admin.headers
    )
    assert suspended.status_code == 200, suspended.text
    captured.wait_for(third.id, "stream.closed", timeout=15)

    client_doc = api.get("/api/client/asyncapi.json").json()
    mitra_doc = api.get("/api/mitra/asyncapi.json").json()
    admin_doc = admin_api.get("/api/admin/asyncapi.json").json()
    assert {d["asyncapi"] for d in (client_doc, mitra_doc, admin_doc)} == {"3.0.0"}

    captured.drain()
    client_frames = captured.frames["client"] + captured.frames["late client"]
    mitra_frames = [f for m in (first, second, third) for f in captured.frames[m.id]]
    mitra_frames += captured.frames["late mitra"]
    seen = _check_frames(client_doc, client_frames)
    seen_mitra = _check_frames(mitra_doc, mitra_frames)
    assert seen == {
        "snapshot",
        "pairing.matched",
        "session.started",
        "session.rerouted",
        "session.ended",
        "pairing.expired",
    }
    assert seen_mitra >= {
        "snapshot",
        "pairing.offer",
        "pairing.offer_closed",
        "session.started",
        "session.rerouted",
        "session.ended",
        "presence.offline",
        "stream.closed",
    }

    with connect_sse(
        admin_api, "GET", "/api/admin/dashboard/stream", headers=admin.headers
    ) as source:
        first_frame = next(iter(source.iter_sse()))
    assert _check_frames(admin_doc, [first_frame]) == {"dashboard"}

    # -- anonymity: one rule over every payload carrying the other party ----------------------
    # Pushes name no one, whatever the setting (a lock screen is not private).
    client_pushes = pushes(stack.fcm, client_device)
    mitra_pushes = pushes(stack.fcm, mitra_device)
    assert client_pushes and mitra_pushes
    push_text = json.dumps(client_pushes + mitra_pushes)
    for secret in [*names.values(), *names, f"Sari{tag}", client.id, PHOTO]:
        assert secret not in push_text

    client_text = json.dumps(client_side) + "".join(f.data for f in client_frames)
    mitra_text = json.dumps(mitra_side) + "".join(f.data for f in mitra_frames)
    for mitra_id, name in names.items():
        assert mitra_id not in client_text  # never a mitra's id to the client
        if not shown:
            assert name not in client_text and PHOTO not in client_text
    assert client.id not in mitra_text  # never the client's id to a mitra
    assert (f"Sari{tag}" in mitra_text) is shown
    assert (names[first.id] in client_text) is shown
    assert (PHOTO in client_text) is shown
    matched = [json.loads(f.data) for f in client_frames if f.event == "pairing.matched"]
    expected_mitra = (
        {"name": names[first.id], "photo_url": PHOTO}
        if shown
        else {
            "name": None,
            "photo_url": None,
        }
    )
    assert matched[0]["data"]["mitra"] == expected_mitra
    assert client_side[1]["mitra"] == dict(expected_mitra, id=None)
    assert accepted.json()["client"]["display_name"] == (f"Sari{tag}" if shown else None)
