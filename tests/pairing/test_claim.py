"""The claim: exactly one winner, never over capacity, clean refusals, and a failed match in
PostgreSQL undoes the claim."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from shared import valkey
from shared.domain import pairing
from shared.store.live import keys
from shared.store.live import requests as live_requests
from tests.pairing.conftest import now_ms
from tests.support.presence import drop


def current(mitra_id) -> int:
    """The mitra's live load (`presence:load`)."""
    return int(valkey.client().hget(keys.LOAD, str(mitra_id)) or 0)


def _accept(api, mitra, request_id):
    return api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers)


def _sessions_of(database, client_id: str) -> int:
    with database.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM sessions WHERE client_id = :c"), {"c": client_id}
        ).scalar_one()


def _consumed(database, client_id: str) -> int:
    with database.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT count(*) FROM credit_ledger WHERE client_id = :c AND kind = 'consumption'"
            ),
            {"c": client_id},
        ).scalar_one()


def test_fifty_mitras_accepting_at_once_make_exactly_one_session(
    api, database, online_mitras, client_with_credits, pairing_request
):
    mitras = online_mitras(50)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda m: _accept(api, m, request_id), mitras))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 49
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "already_taken"
    }
    assert _sessions_of(database, client.id) == 1
    assert _consumed(database, client.id) == 1
    assert sum(current(m.id) for m in mitras) == 1


def test_mitra_with_capacity_one_accepting_two_at_once_wins_one(
    api, database, online_mitras, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1, capacity=1)
    first, second = client_with_credits(), client_with_credits()
    requests = [pairing_request(c).json()["id"] for c in (first, second)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda r: _accept(api, mitra, r), requests))

    outcomes = sorted((r.status_code, r.json().get("error", {}).get("code")) for r in responses)
    assert outcomes == [(200, None), (409, "at_capacity")]
    assert current(mitra.id) == 1
    with database.connect() as connection:
        active = connection.execute(
            sa.text("SELECT count(*) FROM sessions WHERE mitra_id = :m AND status = 'active'"),
            {"m": mitra.id},
        ).scalar_one()
    assert active == 1
    for client in (first, second):
        pairing.cancel_open_request(uuid.UUID(client.id))


def test_refusals_name_the_reason_and_change_nothing(
    api, database, online_mitras, make_mitra, client_with_credits, pairing_request
):
    offered, gone_offline = online_mitras(2)
    late = make_mitra("Mitra Telat")
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    drop(gone_offline.id)
    before = valkey.client().hgetall(keys.request(request_id))

    never_online = _accept(api, late, request_id)
    unknown = _accept(api, offered, uuid.uuid4())
    not_online = _accept(api, gone_offline, request_id)
    decline_unknown = api.post(
        f"/api/mitra/pairing-requests/{uuid.uuid4()}/decline", headers=late.headers
    )

    assert (never_online.status_code, never_online.json()["error"]["code"]) == (409, "not_online")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    assert (not_online.status_code, not_online.json()["error"]["code"]) == (409, "not_online")
    assert decline_unknown.status_code == 404
    assert valkey.client().hgetall(keys.request(request_id)) == before
    assert current(gone_offline.id) == 0
    assert _sessions_of(database, client.id) == 0
    assert _accept(api, offered, request_id).status_code == 200


def test_declined_offer_disappears_and_cannot_be_accepted(
    api, online_mitras, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    listed = api.get("/api/mitra/pairing-requests", headers=mitra.headers).json()["items"]

    declined = api.post(f"/api/mitra/pairing-requests/{request_id}/decline", headers=mitra.headers)

    assert request_id in {o["id"] for o in listed}
    assert declined.status_code == 204
    after = api.get("/api/mitra/pairing-requests", headers=mitra.headers).json()["items"]
    assert request_id not in {o["id"] for o in after}
    refused = _accept(api, mitra, request_id)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_offered")
    pairing.cancel_open_request(uuid.UUID(client.id))


def test_failed_session_write_undoes_the_claim_and_the_request_searches_again(
    api, database, online_mitras, client_with_credits, pairing_request
):
    """PostgreSQL refuses the session (a trigger, scoped to this client): the mitra gets 503,
    the request is searching again, the capacity unit is back, nothing was consumed."""
    first, second = online_mitras(2)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    trigger = f"fail_{client.id.replace('-', '_')}"
    with database.begin() as connection:
        connection.execute(
            sa.text(f"""
            CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.client_id = '{client.id}' THEN RAISE EXCEPTION 'disk on fire'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {trigger} BEFORE INSERT ON sessions
                FOR EACH ROW EXECUTE FUNCTION {trigger}();
        """)
        )
    try:
        failed = _accept(api, first, request_id)
    finally:
        with database.begin() as connection:
            connection.execute(sa.text(f"DROP TRIGGER {trigger} ON sessions"))
            connection.execute(sa.text(f"DROP FUNCTION {trigger}()"))

    assert (failed.status_code, failed.json()["error"]["code"]) == (503, "unavailable")
    assert valkey.client().hget(keys.request(request_id), "status") == "searching"
    assert current(first.id) == 0
    assert _sessions_of(database, client.id) == 0
    assert _consumed(database, client.id) == 0
    read = api.get(f"/api/client/pairing-requests/{request_id}", headers=client.headers)
    assert read.json()["status"] == "searching"
    assert _accept(api, second, request_id).status_code == 200
    assert _sessions_of(database, client.id) == 1


def test_sweeper_step_undoes_a_claim_whose_process_died(
    api, database, online_mitras, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    long_ago = now_ms() - (pairing.STUCK_CLAIM_S + 5) * 1000
    # What a process leaves behind when it dies right after claim.lua: a claim, no session.
    code = live_requests.claim(request_id, mitra.id, long_ago, long_ago - 60_000, 3)
    assert code == "claimed"

    repaired = sum(pairing.sweep().values())

    assert repaired >= 1
    assert valkey.client().hget(keys.request(request_id), "status") == "searching"
    assert current(mitra.id) == 0
    assert _accept(api, mitra, request_id).status_code == 200
