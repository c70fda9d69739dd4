"""Event streams over real HTTP: snapshot first, then live events from Valkey pub/sub."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from shared import domain_events, events
from shared.domain import pairing


def test_mitra_stream_sees_snapshot_then_offer_then_offer_closed(
    api, online_mitras, client_with_credits, pairing_request, open_stream
):
    watcher, winner = online_mitras(2)
    client = client_with_credits()
    stream = open_stream("/api/mitra/events", watcher.headers)
    assert stream.status_code == 200
    snapshot = stream.next()

    request_id = pairing_request(client).json()["id"]
    offer = stream.next_of("pairing.offer")
    api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=winner.headers)
    closed = stream.next_of("pairing.offer_closed")

    assert snapshot.event == "snapshot"
    assert request_id not in {o["request_id"] for o in snapshot.json()["data"]["offers"]}
    assert offer.json()["data"]["request_id"] == request_id
    assert offer.json()["data"]["client"] == {"display_name": "Klien Uji"}
    assert closed.json()["data"] == {"request_id": request_id, "reason": "taken"}
    assert offer.id and closed.id and offer.id != closed.id


def test_mitra_snapshot_holds_open_offers_on_reconnect(
    online_mitras, client_with_credits, pairing_request, open_stream
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]

    snapshot = open_stream("/api/mitra/events", mitra.headers).next()

    assert snapshot.event == "snapshot"
    assert request_id in {o["request_id"] for o in snapshot.json()["data"]["offers"]}
    pairing.cancel_open_request(uuid.UUID(client.id))


def test_client_stream_sees_open_request_then_match_and_session(
    api, online_mitras, client_with_credits, pairing_request, open_stream
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    stream = open_stream("/api/client/events", client.headers)

    snapshot = stream.next()
    session_id = api.post(
        f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers
    ).json()["session_id"]
    matched = stream.next_of("pairing.matched")
    started = stream.next_of("session.started")

    assert snapshot.json()["data"]["request"]["id"] == request_id
    assert snapshot.json()["data"]["session"] is None
    assert matched.json()["data"]["session_id"] == session_id
    assert matched.json()["data"]["mitra"]["name"] == "Mitra 0"
    assert started.json()["data"]["session_id"] == session_id


def test_client_stream_hears_expiry_once(
    database, online_mitras, client_with_credits, pairing_request, open_stream
):
    from tests.pairing.conftest import make_overdue

    online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    stream = open_stream("/api/client/events", client.headers)
    stream.next()
    make_overdue(database, request_id)

    sum(pairing.sweep().values())
    sum(pairing.sweep().values())
    expired = stream.next_of("pairing.expired")

    assert expired.json()["data"] == {"request_id": request_id}
    assert [e.event for e in stream.drain(1.0)].count("pairing.expired") == 0


def test_stream_with_wrong_role_token_is_forbidden(api, online_mitras, client_with_credits):
    (mitra,) = online_mitras(1)
    client = client_with_credits()

    as_client = api.get("/api/mitra/events", headers=client.headers)
    as_mitra = api.get("/api/client/events", headers=mitra.headers)

    assert (as_client.status_code, as_client.json()["error"]["code"]) == (403, "forbidden")
    assert (as_mitra.status_code, as_mitra.json()["error"]["code"]) == (403, "forbidden")


def test_reconnect_with_last_event_id_replays_missed_events(client_with_credits, open_stream):
    client = client_with_credits()
    first = open_stream("/api/client/events", client.headers)
    first.next()
    events.publish("client", client.id, "test.one", {"n": 1})
    seen = first.next_of("test.one")
    first.stop.set()
    events.publish("client", client.id, "test.two", {"n": 2})

    second = open_stream("/api/client/events", {**client.headers, "Last-Event-ID": seen.id})

    assert second.next().event == "snapshot"
    assert second.next().event == "test.two"


def test_stream_sends_keep_alive_comments(stack, client_with_credits):
    client = client_with_credits()
    interval = float(stack.env().get("SSE_KEEPALIVE_S", "15"))
    started = time.monotonic()
    with (
        httpx.Client(base_url=stack.public_url, timeout=interval + 10) as http,
        http.stream("GET", "/api/client/events", headers=client.headers) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        for line in response.iter_lines():
            if line.startswith(":"):
                assert line == ": keep-alive"
                break
    assert time.monotonic() - started >= interval * 0.9


def test_without_a_topic_domain_events_are_logged_not_sent(monkeypatch):
    from shared.config import get_config

    # The test stack delivers events to its notifier (EVENTS_LOCAL_ENDPOINT); not here.
    monkeypatch.delenv("EVENTS_LOCAL_ENDPOINT", raising=False)
    get_config.cache_clear()
    domain_events.reset()
    try:
        assert isinstance(domain_events.publisher(), domain_events.LoggingPublisher)
        domain_events.emit("pairing.expired", {"request_id": "r1"})  # never raises
        assert json.loads(domain_events.message("x", {"a": 1}))["type"] == "x"
    finally:
        get_config.cache_clear()
        domain_events.reset()
