"""The notifier over real HTTP: domain events reach it as Pub/Sub-shaped CloudEvents (from the
functions through the local publisher, or posted here), and it sends to the FCM HTTP v1
stand-in. Exactly-once per device, collapse, token clean-up, retries and malformed events."""

from __future__ import annotations

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from shared.domain_events import pubsub_cloud_event
from tests.push.conftest import deliver, deliver_raw, pushes
from tests.support.presence import lapse


def _types(messages):
    return [m["data"]["type"] for m in messages]


def test_client_without_stream_gets_exactly_one_matched_push(
    api, fcm, online_mitras, open_stream, register_device, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1)
    mitra_stream = open_stream("/api/mitra/events", mitra.headers)
    client = client_with_credits(0, name="Rahasia Sekali")
    token = register_device(client, "client", locale="en-US")

    request_id = pairing_request(client).json()["id"]
    mitra_stream.next_of("pairing.offer")
    accepted = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers)
    assert accepted.status_code == 200, accepted.text

    (message,) = pushes(fcm, token)
    assert message["data"]["type"] == "pairing.matched"
    assert message["data"]["request_id"] == request_id
    assert message["data"]["session_id"] == accepted.json()["session_id"]
    assert message["android"]["priority"] == "HIGH"
    assert message["android"]["collapse_key"] == f"pairing-{request_id}"
    assert message["notification"]["body"] == "You are connected. Open the app to start chatting."
    shown = json.dumps(message["notification"]).lower()
    assert "mitra" not in shown and "counsel" not in shown and "rahasia" not in shown


def test_waiting_push_is_collapsed_and_skips_mitras_with_an_open_stream(
    api, fcm, online_mitras, open_stream, register_device, make_client, pairing_request
):
    streaming, background = online_mitras(2)
    stream = open_stream("/api/mitra/events", streaming.headers)
    stream.next_of("snapshot")
    streaming_token = register_device(streaming, "mitra")
    background_token = register_device(background, "mitra", locale="id-ID")
    clients = [make_client() for _ in range(20)]

    started = time.monotonic()
    requests = []
    for client in clients:
        response = pairing_request(client)
        assert response.status_code == 201
        requests.append((client, response.json()["id"]))
    assert time.monotonic() - started < 30  # all 20 inside one collapse window

    (message,) = pushes(fcm, background_token, settle_s=2.0)
    assert message["data"]["type"] == "pairing.waiting"
    assert int(message["data"]["count"]) >= 1
    assert message["notification"]["body"].endswith("orang sedang menunggu. Buka aplikasi.")
    assert message["android"]["collapse_key"] == "clients-waiting"
    assert int(message["android"]["ttl"].rstrip("s")) <= 60  # never beyond the search window
    assert fcm.received(streaming_token) == []
    for client, request_id in requests:  # leave no open searches to later tests
        api.delete(f"/api/client/pairing-requests/{request_id}", headers=client.headers)


def test_five_concurrent_redeliveries_push_once_per_device(
    stack, fcm, make_client, register_device
):
    client = make_client()
    tokens = [register_device(client, "client"), register_device(client, "client", platform="ios")]
    event_id = uuid.uuid4().hex
    data = {
        "session_id": str(uuid.uuid4()),
        "client_id": client.id,
        "mitra_id": str(uuid.uuid4()),
        "ended_by": "operator",
    }
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(
            pool.map(lambda _: deliver(stack, "session.ended", data, event_id), range(5))
        )
    assert statuses == [200] * 5
    for token in tokens:
        (message,) = pushes(fcm, token)
        assert message["data"] == {
            "type": "session.ended",
            "session_id": data["session_id"],
            "event_id": event_id,
            "sent_at": message["data"]["sent_at"],
        }
    ios = fcm.received(tokens[1])[0]["message"]
    assert ios["apns"]["headers"]["apns-collapse-id"] == f"session-{data['session_id']}"
    assert ios["apns"]["headers"]["apns-priority"] == "5"


def test_unregistered_token_is_deleted_and_not_sent_to_again(
    stack, fcm, database, make_client, register_device
):
    client = make_client()
    gone, kept = register_device(client, "client"), register_device(client, "client")
    fcm.unregister(gone)
    data = {"session_id": str(uuid.uuid4()), "client_id": client.id, "ended_by": "mitra"}

    assert deliver(stack, "session.ended", data) == 200
    assert fcm.attempts(gone) == 1
    with database.connect() as connection:
        left = (
            connection.execute(
                sa.text("SELECT token FROM devices WHERE owner_id = :o"), {"o": client.id}
            )
            .scalars()
            .all()
        )
    assert left == [kept]

    assert deliver(stack, "session.ended", {**data, "session_id": str(uuid.uuid4())}) == 200
    assert fcm.attempts(gone) == 1
    assert len(pushes(fcm, kept, at_least=2, settle_s=0.2)) == 2


def test_transient_fcm_failures_are_retried_then_redelivered_without_duplicates(
    stack, fcm, make_client, register_device
):
    client = make_client()
    token = register_device(client, "client")
    event_id = uuid.uuid4().hex
    data = {"request_id": str(uuid.uuid4()), "client_id": client.id}

    fcm.fail_next(3, 503)  # every attempt of the first delivery fails
    assert deliver(stack, "pairing.no_bestie", data, event_id) >= 500
    assert fcm.received(token) == []
    assert deliver(stack, "pairing.no_bestie", data, event_id) == 200  # Pub/Sub's redelivery
    assert deliver(stack, "pairing.no_bestie", data, event_id) == 200
    (message,) = pushes(fcm, token, settle_s=0.3)
    assert message["data"]["type"] == "pairing.no_bestie"
    assert fcm.attempts(token) == 4


def test_sweeper_auto_offline_pushes_presence_offline(api, stack, fcm, make_mitra, register_device):
    mitra = make_mitra()
    token = register_device(mitra, "mitra", locale="en")
    assert (
        api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers).status_code
        == 200
    )
    lapse(mitra.id)

    assert stack.sweep_now() == 200

    (message,) = pushes(fcm, token)
    assert message["data"] == {
        "type": "presence.offline",
        "reason": "heartbeat_timeout",
        "event_id": message["data"]["event_id"],
        "sent_at": message["data"]["sent_at"],
    }
    assert (
        message["notification"]["body"] == "You are offline now and will not receive new requests."
    )


@pytest.mark.parametrize(
    "payload",
    [
        b"not base64 at all \xff",
        base64.b64decode(base64.b64encode(b"{not json")),
        json.dumps({"id": "x1", "type": "session.ended", "data": {"client_id": "nope"}}).encode(),
        json.dumps({"type": "session.ended"}).encode(),
        json.dumps([1, 2, 3]).encode(),
        # Permanent malformations that reached json.loads unbounded (500: a redelivery loop).
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "x2", "type": "session.ended", "data": {"x": '
        + b"[" * 50_000
        + b"]" * 50_000
        + b"}}",
        b"1" * 10_000,
        b'{"id": "x3", "type": "session.ended", "data": {"session_id": NaN}}',
        b'{"id": "x4", "id": "x5", "type": "session.ended", "data": {}}',
        b'{"id": "x6", "type": "session.ended", "data": {"ended_by": "\\ud800"}}',
    ],
)
def test_malformed_event_is_acknowledged(stack, payload):
    assert deliver_raw(stack, payload) == 200


@pytest.mark.parametrize("target", ["notifier_url", "sweeper_url"])
@pytest.mark.parametrize("content_type", ["application/json", "application/cloudevents+json"])
def test_a_deeply_nested_cloud_event_body_is_a_400_not_a_500(stack, target, content_type):
    """The CloudEvents SDK parses the body before our entry point runs, with no depth limit;
    Eventarc never sends such a body, so only a direct caller can: a 400, never a 500."""
    headers, _ = pubsub_cloud_event(b"{}", "demo-halo-bestie", "events")
    if "cloudevents" in content_type:
        headers = {"Content-Type": content_type}
    response = httpx.post(
        getattr(stack, target), content=b"[" * 100_000, headers=headers, timeout=30
    )
    assert response.status_code == 400, response.text[:200]
    assert response.json()["error"]["details"]["fields"] == [{"field": "body", "error": "too_deep"}]


def test_unknown_event_types_push_nothing(stack, fcm, make_client, register_device):
    client = make_client()
    token = register_device(client, "client")
    assert (
        deliver(
            stack, "pairing.cancelled", {"request_id": str(uuid.uuid4()), "client_id": client.id}
        )
        == 200
    )
    assert fcm.attempts(token) == 0


def test_reroute_pushes_the_client_and_both_mitras(
    stack, fcm, make_client, make_mitra, register_device
):
    client, away, to = make_client(), make_mitra(), make_mitra()
    phones = {
        "client": register_device(client, "client"),
        "away": register_device(away, "mitra", platform="ios"),
        "to": register_device(to, "mitra"),
    }
    session_id = str(uuid.uuid4())
    data = {
        "session_id": session_id,
        "client_id": client.id,
        "from_mitra_id": away.id,
        "to_mitra_id": to.id,
        "reason": "rerouted",
    }
    assert deliver(stack, "session.rerouted", data) == 200

    got = {who: pushes(fcm, token, settle_s=0.3) for who, token in phones.items()}
    assert all(len(messages) == 1 for messages in got.values())
    client_push, away_push, to_push = got["client"][0], got["away"][0], got["to"][0]
    assert client_push["data"]["type"] == "session.rerouted"
    assert client_push["android"]["priority"] == "HIGH"
    assert to_push["data"]["direction"] == "to" and to_push["android"]["priority"] == "HIGH"
    assert away_push["data"]["direction"] == "away"
    assert away_push["apns"]["headers"]["apns-priority"] == "5"
    assert {m["data"]["session_id"] for m in (client_push, away_push, to_push)} == {session_id}
