"""Session lifecycle through the real sessions function: who sees a session and how much of
the other side, ending (idempotent, capacity freed once, both sides told), lists, history."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from shared import valkey
from shared.domain import settings
from shared.store.live import keys
from tests.support.sessions import grant_credits, start_session


@pytest.fixture
def pair(make_client, make_mitra, database):
    client = make_client("Sari Curhat")
    mitra = make_mitra("Bestie Dewi")
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE mitras SET photo_url = 'https://cdn.example/dewi.jpg' WHERE id = :id"),
            {"id": mitra.id},
        )
    session_id = start_session(client.id, mitra.id)
    return client, mitra, str(session_id)


@pytest.fixture
def anonymity():
    """Change the anonymity settings for one test, restored afterwards."""
    original = settings.current()

    def apply(**flags: bool) -> None:
        changed = original.model_copy(
            update={"anonymity": original.anonymity.model_copy(update=flags)}
        )
        settings.save(changed, None)

    yield apply
    settings.save(original, None)


def _load(mitra_id: str) -> int:
    return int(valkey.client().hget(keys.LOAD, mitra_id) or 0)


class Listener:
    """Subscribes to both sides' event channels before an action, then reads what came."""

    def __init__(self, *channels: str) -> None:
        self.pubsub = valkey.client().pubsub()
        self.pubsub.subscribe(*channels)
        for _ in channels:  # the subscribe confirmations
            self.pubsub.get_message(timeout=2)

    def events(self, wait_s: float = 1.0) -> list[tuple[str, dict]]:
        found = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=0.1)
            if message and message["type"] == "message":
                found.append((message["channel"], json.loads(message["data"])))
        self.pubsub.close()
        return found


# -- seeing a session -------------------------------------------------------------------------


def test_client_sees_own_active_session_with_mitra_name_and_photo(api, pair):
    client, mitra, session_id = pair

    body = api.get("/api/client/sessions/active", headers=client.headers).json()

    assert body["id"] == session_id
    assert body["status"] == "active"
    assert body["mitra"] == {
        "id": None,  # never the mitra's internal id to a client (docs/anonymity.md)
        "name": "Bestie Dewi",
        "photo_url": "https://cdn.example/dewi.jpg",
    }
    assert body["ended_by"] is None
    assert body["history"] == [{"mitra_id": None, "from": body["started_at"], "to": None}]
    assert mitra.id not in json.dumps(body)


def test_mitra_sees_client_display_name_but_never_id_phone_or_email(api, pair):
    client, mitra, session_id = pair

    response = api.get(f"/api/mitra/sessions/{session_id}", headers=mitra.headers)

    assert response.status_code == 200
    assert response.json()["client"] == {"id": None, "display_name": "Sari Curhat"}
    assert client.id not in response.text


def test_hidden_names_and_photo_are_null_as_everywhere_else(api, pair, anonymity):
    client, mitra, session_id = pair
    anonymity(show_client_display_name=False, show_mitra_name=False, show_mitra_photo=False)

    seen_by_client = api.get(f"/api/client/sessions/{session_id}", headers=client.headers).json()
    seen_by_mitra = api.get(f"/api/mitra/sessions/{session_id}", headers=mitra.headers).json()

    assert seen_by_client["mitra"] == {"id": None, "name": None, "photo_url": None}
    assert seen_by_mitra["client"] == {"id": None, "display_name": None}
    assert "Sari" not in json.dumps(seen_by_mitra)


def test_client_without_active_session_gets_not_found(api, make_client):
    client = make_client()

    response = api.get("/api/client/sessions/active", headers=client.headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("action", ["get", "end"])
def test_non_participants_get_not_found_and_change_nothing(
    api, pair, make_client, make_mitra, database, action
):
    _, mitra, session_id = pair
    stranger_client, stranger_mitra = make_client(), make_mitra()
    load_before = _load(mitra.id)

    for side, who in (("client", stranger_client), ("mitra", stranger_mitra)):
        if action == "get":
            response = api.get(f"/api/{side}/sessions/{session_id}", headers=who.headers)
        else:
            response = api.post(
                f"/api/{side}/sessions/{session_id}/end", headers=who.headers, json={}
            )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
        unknown = api.get(f"/api/{side}/sessions/{uuid.uuid4()}", headers=who.headers)
        assert unknown.status_code == 404
        assert unknown.json()["error"] == response.json()["error"]  # no existence leak

    with database.connect() as connection:
        status = connection.execute(
            sa.text("SELECT status FROM sessions WHERE id = :id"), {"id": session_id}
        ).scalar_one()
    assert status == "active"
    assert _load(mitra.id) == load_before


# -- ending ---------------------------------------------------------------------------------


def test_client_ends_session_with_reason_and_frees_mitra_capacity(api, pair):
    client, mitra, session_id = pair
    assert _load(mitra.id) == 1

    response = api.post(
        f"/api/client/sessions/{session_id}/end",
        headers=client.headers,
        json={"reason": "Sudah lega, terima kasih"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ended"
    assert body["ended_by"] == "client"
    assert body["end_reason"] == "Sudah lega, terima kasih"
    assert body["ended_at"] is not None
    assert body["history"][0]["to"] == body["ended_at"]
    assert _load(mitra.id) == 0
    assert api.get("/api/client/sessions/active", headers=client.headers).status_code == 404


def test_ending_twice_returns_the_first_end_unchanged(api, pair):
    client, mitra, session_id = pair
    first = api.post(
        f"/api/mitra/sessions/{session_id}/end", headers=mitra.headers, json={"reason": "waktu"}
    ).json()
    valkey.client().hset(keys.LOAD, mitra.id, 3)

    again = api.post(f"/api/client/sessions/{session_id}/end", headers=client.headers, json={})

    assert again.status_code == 200
    assert again.json()["ended_by"] == "mitra"
    assert again.json()["end_reason"] == "waktu"
    assert again.json()["ended_at"] == first["ended_at"]
    assert _load(mitra.id) == 3  # nothing released the second time


def test_ending_needs_no_body_because_reason_is_optional(api, pair):
    client, mitra, session_id = pair

    response = api.post(f"/api/client/sessions/{session_id}/end", headers=client.headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ended"
    assert response.json()["end_reason"] is None
    assert _load(mitra.id) == 0


def test_ending_tells_both_sides_session_ended(api, pair):
    client, mitra, session_id = pair
    listener = Listener(f"events:client:{client.id}", f"events:mitra:{mitra.id}")

    api.post(f"/api/mitra/sessions/{session_id}/end", headers=mitra.headers, json={})
    api.post(f"/api/mitra/sessions/{session_id}/end", headers=mitra.headers, json={})

    events = listener.events()
    assert sorted(channel for channel, _ in events) == [
        f"events:client:{client.id}",
        f"events:mitra:{mitra.id}",
    ]
    for _, envelope in events:
        assert envelope["type"] == "session.ended"
        assert envelope["data"]["session_id"] == session_id
        assert envelope["data"]["ended_by"] == "mitra"


def test_both_sides_ending_at_once_end_once_and_free_capacity_once(
    api, make_client, make_mitra, database
):
    mitra = make_mitra("Mitra Balapan", max_customers=50)
    rounds = 12
    for round_ in range(rounds):
        client = make_client(f"Klien Balap {round_}")
        session_id = start_session(client.id, mitra.id)
        valkey.client().hset(keys.LOAD, mitra.id, 5)  # a higher floor so a double release shows

        def end(side: str, headers: dict[str, str], sid=session_id) -> dict:
            response = api.post(f"/api/{side}/sessions/{sid}/end", headers=headers, json={})
            assert response.status_code == 200, response.text
            return response.json()

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(
                pool.map(
                    lambda args: end(*args), [("client", client.headers), ("mitra", mitra.headers)]
                )
            )

        assert answers[0]["ended_by"] == answers[1]["ended_by"]
        assert answers[0]["ended_at"] == answers[1]["ended_at"]
        assert _load(mitra.id) == 4, f"round {round_}"
        with database.connect() as connection:
            ended = connection.execute(
                sa.text(
                    "SELECT ended_by, (SELECT count(*) FROM session_assignments"
                    " WHERE session_id = s.id AND unassigned_at IS NULL) AS open"
                    " FROM sessions s WHERE id = :id"
                ),
                {"id": session_id},
            ).one()
        assert ended.ended_by in ("client", "mitra")
        assert ended.open == 0


@pytest.mark.parametrize(
    "body",
    [{"reason": "x" * 501}, {"reason": 5}, {"why": "bosan"}],
    ids=["reason-too-long", "reason-not-text", "unknown-field"],
)
def test_bad_end_bodies_are_refused_and_the_session_stays_active(api, pair, body):
    client, mitra, session_id = pair

    response = api.post(f"/api/client/sessions/{session_id}/end", headers=client.headers, json=body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert api.get("/api/client/sessions/active", headers=client.headers).status_code == 200
    assert _load(mitra.id) == 1


# -- lists and history ------------------------------------------------------------------------


def _ended_sessions(api, client, mitra, count: int) -> list[str]:
    grant_credits(client.id, count, reference=f"test-grant:{uuid.uuid4()}")
    made = []
    for _ in range(count):
        session_id = str(start_session(client.id, mitra.id))
        api.post(f"/api/client/sessions/{session_id}/end", headers=client.headers, json={})
        made.append(session_id)
    return made


def test_client_list_is_newest_first_and_pages_through_every_session(api, make_client, make_mitra):
    client, mitra = make_client(), make_mitra()
    made = _ended_sessions(api, client, mitra, 5)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/client/sessions", headers=client.headers, params=params).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(made))
    assert pages == 3


def test_mitra_list_filters_by_status(api, make_client, make_mitra):
    mitra = make_mitra(max_customers=10)
    ended = _ended_sessions(api, make_client(), mitra, 2)
    active = str(start_session(make_client().id, mitra.id))

    def ids(status: str) -> list[str]:
        page = api.get("/api/mitra/sessions", headers=mitra.headers, params={"status": status})
        return [item["id"] for item in page.json()["items"]]

    assert ids("active") == [active]
    assert ids("ended") == list(reversed(ended))


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}, {"status": "paused"}],
    ids=["limit-zero", "limit-over-max", "forged-cursor", "unknown-status"],
)
def test_bad_list_queries_are_refused(api, make_mitra, params):
    mitra = make_mitra()

    response = api.get("/api/mitra/sessions", headers=mitra.headers, params=params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_history_lists_every_mitra_after_a_reroute_and_only_the_current_one_sees_it(
    api, pair, make_mitra, database
):
    client, first, session_id = pair
    second = make_mitra("Bestie Kedua")
    with database.begin() as connection:  # what an operator's reroute does to the rows
        connection.execute(
            sa.text(
                "UPDATE session_assignments SET unassigned_at = now()"
                " WHERE session_id = :id AND unassigned_at IS NULL"
            ),
            {"id": session_id},
        )
        connection.execute(
            sa.text(
                "INSERT INTO session_assignments (session_id, mitra_id, reason)"
                " VALUES (:id, :mitra, 'rerouted')"
            ),
            {"id": session_id, "mitra": second.id},
        )
        connection.execute(
            sa.text("UPDATE sessions SET mitra_id = :mitra WHERE id = :id"),
            {"id": session_id, "mitra": second.id},
        )

    body = api.get(f"/api/client/sessions/{session_id}", headers=client.headers).json()
    ended_by_old = api.post(f"/api/mitra/sessions/{session_id}/end", headers=first.headers, json={})

    # The client sees two stints but no mitra id (docs/anonymity.md); the mitra block is the
    # second mitra's (its name).
    assert [stint["mitra_id"] for stint in body["history"]] == [None, None]
    assert body["history"][0]["to"] is not None and body["history"][1]["to"] is None
    assert first.id not in json.dumps(body) and second.id not in json.dumps(body)
    assert body["mitra"]["name"] == "Bestie Kedua"
    assert ended_by_old.status_code == 404
    assert api.get(f"/api/mitra/sessions/{session_id}", headers=second.headers).status_code == 200
