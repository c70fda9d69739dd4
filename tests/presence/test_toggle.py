"""GET/PUT /api/mitra/presence: the toggle, its online log, and refusals."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from shared import valkey
from shared.store.live import keys
from tests.support.presence import is_available, is_online_in_database, lapse, log_rows

URL = "/api/mitra/presence"


def test_new_mitra_is_offline_with_the_contract_fields(api, make_mitra):
    mitra = make_mitra()

    response = api.get(URL, headers=mitra.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "offline"
    assert body["last_heartbeat_at"] is None
    assert body["heartbeat_interval_s"] == 20
    assert body["heartbeat_timeout_s"] == 60


def test_going_online_logs_once_and_makes_the_mitra_available(api, database, make_mitra):
    mitra = make_mitra()

    first = api.put(URL, json={"status": "online"}, headers=mitra.headers)
    second = api.put(URL, json={"status": "online"}, headers=mitra.headers)

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "online"
    assert first.json()["last_heartbeat_at"] is not None
    assert api.get(URL, headers=mitra.headers).json()["status"] == "online"
    assert log_rows(database, mitra.id) == [("online", "manual")]
    assert is_online_in_database(database, mitra.id)
    assert is_available(mitra.id)


def test_going_offline_logs_once_and_removes_availability(api, database, make_mitra):
    mitra = make_mitra()
    api.put(URL, json={"status": "online"}, headers=mitra.headers)

    first = api.put(URL, json={"status": "offline"}, headers=mitra.headers)
    second = api.put(URL, json={"status": "offline"}, headers=mitra.headers)

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "offline"
    assert log_rows(database, mitra.id) == [("online", "manual"), ("offline", "manual")]
    assert not is_online_in_database(database, mitra.id)
    assert not is_available(mitra.id)


def test_offline_toggle_of_an_offline_mitra_writes_nothing(api, database, make_mitra):
    mitra = make_mitra()

    response = api.put(URL, json={"status": "offline"}, headers=mitra.headers)

    assert response.status_code == 200
    assert log_rows(database, mitra.id) == []


def test_concurrent_online_toggles_log_one_transition(api, database, make_mitra):
    mitra = make_mitra()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    api.put(URL, json={"status": "online"}, headers=mitra.headers).status_code
                ),
                range(16),
            )
        )

    assert statuses == [200] * 16
    assert log_rows(database, mitra.id) == [("online", "manual")]


def test_going_online_caches_the_uid_and_the_capacity_override(api, make_mitra):
    mitra = make_mitra(max_customers=4)

    api.put(URL, json={"status": "online"}, headers=mitra.headers)

    assert valkey.client().get(keys.uid_cache(mitra.account.uid)) == mitra.id
    assert valkey.client().hget(keys.CAPACITY, mitra.id) == "4"


def test_status_is_offline_once_heartbeats_lapse_before_any_sweep(api, database, make_mitra):
    mitra = make_mitra()
    api.put(URL, json={"status": "online"}, headers=mitra.headers)

    lapse(mitra.id)

    assert api.get(URL, headers=mitra.headers).json()["status"] == "offline"
    assert is_online_in_database(database, mitra.id)  # nothing swept yet: the expiry is lazy


def test_toggling_on_after_a_lapse_logs_the_timeout_then_the_return(api, database, make_mitra):
    mitra = make_mitra()
    api.put(URL, json={"status": "online"}, headers=mitra.headers)
    lapse(mitra.id)

    response = api.put(URL, json={"status": "online"}, headers=mitra.headers)

    assert response.json()["status"] == "online"
    assert log_rows(database, mitra.id) == [
        ("online", "manual"),
        ("offline", "heartbeat_timeout"),
        ("online", "manual"),
    ]
    assert is_available(mitra.id)


def test_status_other_than_online_or_offline_is_invalid_and_changes_nothing(
    api, database, make_mitra
):
    mitra = make_mitra()

    for body in ({"status": "away"}, {"status": None}, {}, {"status": "online", "x": 1}):
        response = api.put(URL, json=body, headers=mitra.headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_request"
    assert log_rows(database, mitra.id) == []
    assert not is_available(mitra.id)


def test_client_token_is_forbidden(api, make_client):
    client = make_client()

    for method in ("GET", "PUT"):
        response = api.request(method, URL, json={"status": "online"}, headers=client.headers)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"


def test_suspended_mitra_cannot_go_online(api, database, make_mitra):
    mitra = make_mitra()
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE mitras SET status = 'suspended' WHERE id = :id"), {"id": mitra.id}
        )

    response = api.put(URL, json={"status": "online"}, headers=mitra.headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "suspended"
    assert log_rows(database, mitra.id) == []
    assert not is_available(mitra.id)
