"""Client side of pairing: blast, no_bestie, one open request, idempotency, cancel, expiry."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from shared import valkey
from shared.domain import pairing
from shared.store.live import keys
from tests.pairing.conftest import make_overdue, now_ms, put_online
from tests.support.presence import drop, resync


def _offered(api, mitra, request_id: str) -> bool:
    listed = api.get("/api/mitra/pairing-requests", headers=mitra.headers).json()["items"]
    return request_id in {offer["id"] for offer in listed}


def _request_row(database, request_id: str):
    with database.connect() as connection:
        return connection.execute(
            sa.text("SELECT * FROM pairing_requests WHERE id = :id"), {"id": request_id}
        ).one()


def test_request_is_offered_to_available_mitras_only(
    api, database, online_mitras, make_mitra, client_with_credits, pairing_request
):
    fresh, full = online_mitras(2, capacity=1)
    stale = make_mitra("Mitra Basi")
    put_online(stale.id, heartbeat_ms=now_ms() - 10 * 60 * 1000)
    offline = make_mitra("Mitra Luring")
    valkey.client().hset(keys.LOAD, full.id, 1)
    resync(full.id)
    client = client_with_credits()

    response = pairing_request(client)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "searching"
    assert _offered(api, fresh, body["id"])
    assert not any(_offered(api, m, body["id"]) for m in (full, stale, offline))
    assert body["offered_to"] >= 1
    assert body["offered_to"] == _request_row(database, body["id"]).offered_count
    pairing.cancel_open_request(uuid.UUID(client.id))
    drop(stale.id)


def test_no_available_mitra_answers_no_bestie_and_records_it(
    database, nobody_online, client_with_credits, pairing_request
):
    client = client_with_credits()

    response = pairing_request(client)

    assert response.status_code == 201
    assert response.json()["status"] == "no_bestie"
    row = _request_row(database, response.json()["id"])
    assert (row.status, row.offered_count) == ("no_bestie", 0)
    assert row.closed_at is not None
    assert pairing_request(client).status_code == 201  # no open request is left behind


def test_second_request_while_searching_names_the_open_one(
    online_mitras, client_with_credits, pairing_request
):
    online_mitras(1)
    client = client_with_credits()
    first = pairing_request(client).json()

    second = pairing_request(client)

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "already_searching"
    assert second.json()["error"]["details"]["request_id"] == first["id"]
    pairing.cancel_open_request(uuid.UUID(client.id))


def test_retried_post_with_same_idempotency_key_returns_the_same_request(
    database, online_mitras, client_with_credits, pairing_request
):
    online_mitras(1)
    client = client_with_credits()

    first = pairing_request(client, key="press-1")
    again = pairing_request(client, key="press-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    with database.connect() as connection:
        count = connection.execute(
            sa.text("SELECT count(*) FROM pairing_requests WHERE client_id = :c"),
            {"c": client.id},
        ).scalar_one()
    assert count == 1
    pairing.cancel_open_request(uuid.UUID(client.id))


def test_concurrent_presses_create_exactly_one_request(
    database, online_mitras, client_with_credits, pairing_request
):
    online_mitras(1)
    client = client_with_credits()

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda _: pairing_request(client), range(12)))

    created = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code == 409]
    assert len(created) == 1
    assert len(refused) == 11
    assert {r.json()["error"]["code"] for r in refused} == {"already_searching"}
    assert {r.json()["error"]["details"]["request_id"] for r in refused} == {
        created[0].json()["id"]
    }
    pairing.cancel_open_request(uuid.UUID(client.id))


def test_one_hundred_concurrent_presses_with_one_key_all_get_the_first_answer(
    api, database, nobody_online, online_mitras, client_with_credits
):
    # nobody_online: a mitra left available by an earlier test would change `offered_to`.
    online_mitras(1)
    client = client_with_credits()
    headers = client.headers | {"Idempotency-Key": f"press-{uuid.uuid4()}"}
    start = threading.Barrier(100)

    def press(_: int) -> tuple[int, dict]:
        start.wait()
        response = api.post("/api/client/pairing-requests", headers=headers)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(press, range(100)))

    assert {status for status, _ in answers} == {201}, answers
    assert len({body["id"] for _, body in answers}) == 1
    # The same answer, not only the same id: replays wait for the first press's blast.
    assert all(body == answers[0][1] for _, body in answers), answers
    assert answers[0][1]["status"] == "searching" and answers[0][1]["offered_to"] == 1
    with database.connect() as connection:
        count = connection.execute(
            sa.text("SELECT count(*) FROM pairing_requests WHERE client_id = :c"),
            {"c": client.id},
        ).scalar_one()
    assert count == 1
    pairing.cancel_open_request(uuid.UUID(client.id))


def test_request_while_in_session_is_already_in_session(
    api, online_mitras, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    session_id = api.post(
        f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers
    ).json()["session_id"]

    response = pairing_request(client)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_in_session"
    assert response.json()["error"]["details"]["session_id"] == session_id


def test_client_without_sessions_left_is_refused_by_registration_state(
    api, database, online_mitras, make_client, pairing_request
):
    online_mitras(1)
    client = make_client()
    with database.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference)"
                " VALUES (:c, 'trial', 'consumption', -1, :ref)"
            ),
            {"c": client.id, "ref": f"test-spent:{client.id}"},
        )

    anonymous = pairing_request(client)
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE clients SET registered = true WHERE id = :c"), {"c": client.id}
        )
    registered = pairing_request(client)

    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (
        403,
        "registration_required",
    )
    assert (registered.status_code, registered.json()["error"]["code"]) == (
        402,
        "payment_required",
    )
    with database.connect() as connection:
        assert (
            connection.execute(
                sa.text("SELECT count(*) FROM pairing_requests WHERE client_id = :c"),
                {"c": client.id},
            ).scalar_one()
            == 0
        )


def test_cancel_while_searching_cancels_and_closes_offers(
    api, database, online_mitras, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]

    response = api.delete(f"/api/client/pairing-requests/{request_id}", headers=client.headers)

    assert response.status_code == 200
    assert response.json() == {"status": "cancelled"}
    assert _request_row(database, request_id).status == "cancelled"
    offers = api.get("/api/mitra/pairing-requests", headers=mitra.headers).json()["items"]
    assert request_id not in {o["id"] for o in offers}
    accept = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers)
    assert (accept.status_code, accept.json()["error"]["code"]) == (410, "expired")


def test_cancel_after_match_is_already_matched(
    api, online_mitras, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers)

    response = api.delete(f"/api/client/pairing-requests/{request_id}", headers=client.headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_matched"
    matched = api.get(f"/api/client/pairing-requests/{request_id}", headers=client.headers)
    assert matched.json()["status"] == "matched"
    assert matched.json()["mitra"]["name"] == "Mitra 0"
    assert matched.json()["time_to_match_ms"] >= 0


def test_someone_elses_or_unknown_request_is_not_found(
    api, online_mitras, client_with_credits, pairing_request
):
    online_mitras(1)
    owner, other = client_with_credits(), client_with_credits()
    request_id = pairing_request(owner).json()["id"]

    for path in (
        f"/api/client/pairing-requests/{request_id}",
        f"/api/client/pairing-requests/{uuid.uuid4()}",
    ):
        assert api.get(path, headers=other.headers).status_code == 404
        deleted = api.delete(path, headers=other.headers)
        assert (deleted.status_code, deleted.json()["error"]["code"]) == (404, "not_found")

    assert (
        api.get(f"/api/client/pairing-requests/{request_id}", headers=owner.headers).json()[
            "status"
        ]
        == "searching"
    )
    pairing.cancel_open_request(uuid.UUID(owner.id))


def test_overdue_request_reads_as_expired_and_cannot_be_accepted(
    api, database, online_mitras, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    make_overdue(database, request_id)

    read = api.get(f"/api/client/pairing-requests/{request_id}", headers=client.headers)
    accept = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers)

    assert read.json()["status"] == "expired"
    assert (accept.status_code, accept.json()["error"]["code"]) == (410, "expired")
    assert _request_row(database, request_id).status == "expired"
    assert pairing_request(client).status_code == 201  # a new search may start


def test_sweeper_step_makes_expiry_durable(
    database, online_mitras, client_with_credits, pairing_request
):
    online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    make_overdue(database, request_id)

    expired = sum(pairing.sweep().values())

    assert expired >= 1
    row = _request_row(database, request_id)
    assert (row.status, row.closed_at is not None) == ("expired", True)
    assert (
        sum(pairing.sweep().values()) == 0 or _request_row(database, request_id).status == "expired"
    )


def test_scheduled_sweep_expires_overdue_requests(
    stack, database, online_mitras, client_with_credits, pairing_request
):
    online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    make_overdue(database, request_id)

    assert stack.sweep_now() in (200, 204)

    assert _request_row(database, request_id).status == "expired"
