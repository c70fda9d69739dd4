"""Orphaned sessions over the real stack: presence marks them when the mitra goes offline
(any way) and clears them when it comes back; the sweeper alerts or re-blasts each exactly
once after the grace period, with no timer in any process's memory."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from shared import valkey
from shared.domain import settings
from shared.store.live import keys
from tests.support.admin import Stream, go_offline, go_online, load_of, only_these_online
from tests.support.presence import resync
from tests.support.sessions import start_session

ALERTS = "events:admin:orphans"


def _orphan_marks(database, session_id) -> sa.Row:
    with database.connect() as connection:
        return connection.execute(
            sa.text("SELECT orphaned_at, orphan_handled_at, mitra_id FROM sessions WHERE id = :id"),
            {"id": session_id},
        ).one()


@contextlib.contextmanager
def orphan_policy(action: str, grace_s: int) -> Iterator[None]:
    before = settings.current()
    settings.save(
        before.model_copy(update={"orphan_action": action, "orphan_grace_s": grace_s}), None
    )
    try:
        yield
    finally:
        settings.save(before, None)


@contextlib.contextmanager
def alerts() -> Iterator[list[dict]]:
    """Collects `session.orphaned` alerts published while the block runs."""
    received: list[dict] = []
    pubsub = valkey.client().pubsub()
    pubsub.subscribe(ALERTS)
    while pubsub.get_message(timeout=1.0) is None:
        pass
    try:
        yield received
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "message":
                received.append(json.loads(message["data"]))
    finally:
        pubsub.close()


def test_going_offline_orphans_the_mitras_sessions_and_coming_back_clears_them(
    api, admin_api, viewer, make_client, make_mitra, database
):
    client, mitra = make_client(), make_mitra()
    go_online(api, mitra)
    session_id = start_session(client.id, mitra.id)

    go_offline(api, mitra)
    orphaned = _orphan_marks(database, session_id)
    board = admin_api.get("/api/admin/dashboard", headers=viewer.headers).json()
    listed = admin_api.get(
        "/api/admin/sessions",
        params={"orphaned": "true", "mitra_id": mitra.id},
        headers=viewer.headers,
    ).json()
    go_online(api, mitra)
    back = _orphan_marks(database, session_id)
    go_offline(api, mitra)

    assert orphaned.orphaned_at is not None
    assert str(session_id) in {o["session_id"] for o in board["orphans"]}
    assert board["sessions"]["orphaned"] >= 1
    assert [item["id"] for item in listed["items"]] == [str(session_id)]
    assert back.orphaned_at is None


def test_auto_offline_by_the_sweeper_orphans_sessions_too(
    api, stack, make_client, make_mitra, database
):
    client, mitra = make_client(), make_mitra()
    go_online(api, mitra)
    session_id = start_session(client.id, mitra.id)
    lapsed = time.time() * 1000 - (settings.current().heartbeat_timeout_s + 5) * 1000
    valkey.client().zadd(keys.HEARTBEATS, {mitra.id: lapsed}, xx=True)
    resync(mitra.id)

    with orphan_policy("alert", 3600):
        assert stack.sweep_now() == 200
        marks = _orphan_marks(database, session_id)

    assert marks.orphaned_at is not None
    assert marks.orphan_handled_at is None  # still inside the grace period


def test_two_sweepers_at_once_alert_an_orphan_exactly_once(
    api, stack, make_client, make_mitra, database
):
    client, mitra = make_client(), make_mitra()
    go_online(api, mitra)
    session_id = start_session(client.id, mitra.id)
    go_offline(api, mitra)

    with orphan_policy("alert", 0), alerts() as received:
        with ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(lambda _: stack.sweep_now(), range(2)))
        assert stack.sweep_now() == 200

    mine = [a for a in received if a["data"]["session_id"] == str(session_id)]
    assert statuses == [200, 200]
    assert len(mine) == 1
    assert mine[0]["type"] == "session.orphaned"
    assert mine[0]["data"]["outcome"] == "alert"
    assert _orphan_marks(database, session_id).orphan_handled_at is not None


def test_orphans_within_the_grace_period_are_left_alone(
    api, stack, make_client, make_mitra, database
):
    client, mitra = make_client(), make_mitra()
    go_online(api, mitra)
    session_id = start_session(client.id, mitra.id)
    go_offline(api, mitra)

    with orphan_policy("alert", 600), alerts() as received:
        assert stack.sweep_now() == 200

    assert [a for a in received if a["data"]["session_id"] == str(session_id)] == []
    assert _orphan_marks(database, session_id).orphan_handled_at is None


def test_reroute_policy_reblasts_and_the_client_gets_its_new_bestie(
    api, stack, admin_api, viewer, make_client, make_mitra, database
):
    client, gone, stand_in = make_client(), make_mitra(), make_mitra()
    with only_these_online():
        go_online(api, gone)
        go_online(api, stand_in)
        session_id = start_session(client.id, gone.id)
        go_offline(api, gone)
        stream = Stream(stack.public_url, "/api/client/events", client.headers)
        try:
            stream.next_of("snapshot")
            with orphan_policy("reroute", 0):
                assert stack.sweep_now() == 200
            searching = stream.next_of("session.rerouted").json()["data"]
            offers = api.get("/api/mitra/pairing-requests", headers=stand_in.headers).json()
            accepted = api.post(
                f"/api/mitra/pairing-requests/{searching['pairing_request_id']}/accept",
                headers=stand_in.headers,
            )
            moved = stream.next_of("session.rerouted").json()["data"]
            marks = _orphan_marks(database, session_id)  # before the stand-in leaves too
        finally:
            stream.close()
            go_offline(api, stand_in)

    # (other tests' orphans, grace 0 here too, may be offered to the stand-in as well)
    assert searching["pairing_request_id"] in [o["id"] for o in offers["items"]]
    assert accepted.status_code == 200, accepted.text
    assert stand_in.id not in str(moved)  # the client learns no mitra id (docs/anonymity.md)
    assert (str(marks.mitra_id), marks.orphaned_at) == (stand_in.id, None)
    assert (load_of(gone.id), load_of(stand_in.id)) == (0, 1)
    detail = admin_api.get(f"/api/admin/sessions/{session_id}", headers=viewer.headers).json()
    assert [h["mitra_id"] for h in detail["history"]] == [gone.id, stand_in.id]


def test_reroute_policy_with_nobody_available_alerts_the_operators(
    api, stack, make_client, make_mitra, database
):
    client, gone = make_client(), make_mitra()
    go_online(api, gone)
    session_id = start_session(client.id, gone.id)
    with only_these_online():
        go_offline(api, gone)
        with orphan_policy("reroute", 0), alerts() as received:
            assert stack.sweep_now() == 200

    mine = [a["data"] for a in received if a["data"]["session_id"] == str(session_id)]
    assert [m["outcome"] for m in mine] == ["reroute_failed"]
    assert str(_orphan_marks(database, session_id).mitra_id) == gone.id
