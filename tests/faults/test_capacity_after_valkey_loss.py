"""A full mitra stays full when Valkey loses its data: never above `max_customers`.

Every path that rebuilds presence from PostgreSQL (the heartbeat's cache miss, the sweeper's
reconcile, the toggle) brings the mitra's load back with it, and PostgreSQL re-checks the
capacity in the winner's transaction, so even a Valkey that under-counts cannot let a
session through (docs/presence.md, "Capacity after Valkey loses its data").
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from shared import valkey
from shared.store.live import keys
from tests.faults.conftest import wait_until
from tests.pairing.conftest import end_session
from tests.support.presence import resync

CAPACITY = 2


def _held(database: sa.Engine, mitra_id: str) -> int:
    with database.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM sessions WHERE mitra_id = :m AND status = 'active'"),
                {"m": mitra_id},
            ).scalar_one()
        )


def _valkey_view(mitra_id: str) -> tuple[bool, bool, int]:
    """(online in Valkey, available, load)."""
    client = valkey.client()
    return (
        client.zscore(keys.HEARTBEATS, mitra_id) is not None,
        client.zscore(keys.AVAILABLE, mitra_id) is not None,
        int(client.hget(keys.LOAD, mitra_id) or 0),
    )


def _flush() -> None:
    valkey.client().flushall()


@pytest.mark.timeout(120)
def test_a_full_mitra_is_never_given_more_clients_after_valkey_loses_its_data(
    stack, api, database, make_mitra, online, paying_client, healthy
):
    mitra = online(make_mitra("Mitra Penuh", max_customers=CAPACITY))
    accept_path = "/api/mitra/pairing-requests/{}/accept"

    def request(client) -> str:  # type: ignore[no-untyped-def]
        posted = api.post("/api/client/pairing-requests", headers=client.headers)
        assert posted.status_code == 201 and posted.json()["status"] == "searching", posted.text
        return str(posted.json()["id"])

    def accept(request_id: str) -> int:
        return api.post(accept_path.format(request_id), headers=mitra.headers).status_code

    held_sessions = []
    for _ in range(CAPACITY):
        client = paying_client()
        request_id = request(client)
        answer = api.post(accept_path.format(request_id), headers=mitra.headers)
        assert answer.status_code == 200, answer.text
        held_sessions.append(answer.json()["session_id"])
    assert _held(database, mitra.id) == CAPACITY
    assert _valkey_view(mitra.id) == (True, False, CAPACITY)

    # 1. The heartbeat after the loss restores presence with PostgreSQL's load: not available.
    _flush()
    beat = api.post("/api/mitra/presence/heartbeat", headers=mitra.headers)
    assert beat.status_code == 204, beat.text
    assert _valkey_view(mitra.id) == (True, False, CAPACITY)

    # 2. The sweeper's reconcile after a loss (before any heartbeat) does the same, and so
    #    does the toggle.
    _flush()
    assert stack.sweep_now() in (200, 204)
    assert _valkey_view(mitra.id) == (True, False, CAPACITY)
    _flush()
    toggled = api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers)
    assert toggled.status_code == 200, toggled.text
    assert _valkey_view(mitra.id) == (True, False, CAPACITY)

    # 3. New requests (kept searching by a second mitra who never answers): the full
    #    mitra's accepts are refused at Valkey.
    online(make_mitra("Mitra Diam", max_customers=10))
    waiting = [request(paying_client()) for _ in range(4)]
    assert {accept(r) for r in waiting} == {409}
    assert _held(database, mitra.id) == CAPACITY

    # 4. Defence in depth: Valkey under-counts (as the old heartbeat restore left it) and the
    #    mitra races accepts for every waiting request; PostgreSQL refuses each one, and the
    #    first refusal heals Valkey's load.
    valkey.client().hdel(keys.LOAD, mitra.id)
    resync(mitra.id)
    assert _valkey_view(mitra.id) == (True, True, 0)
    start = threading.Barrier(len(waiting) * 3)

    def race(request_id: str) -> int:
        start.wait()
        return accept(request_id)

    with ThreadPoolExecutor(max_workers=len(waiting) * 3) as pool:
        answers = list(pool.map(race, waiting * 3))
    assert set(answers) == {409}, answers
    assert _held(database, mitra.id) == CAPACITY
    assert _valkey_view(mitra.id) == (True, False, CAPACITY)

    # 5. After the sweep: still full, still not offered.
    assert stack.sweep_now() in (200, 204)
    assert _valkey_view(mitra.id) == (True, False, CAPACITY)
    assert {accept(r) for r in waiting} == {409}
    assert _held(database, mitra.id) == CAPACITY

    # 6. One session ends: exactly one of the racing accepts wins the freed unit.
    end_session(database, held_sessions[0])
    wait_until(lambda: _valkey_view(mitra.id) == (True, True, CAPACITY - 1))
    start = threading.Barrier(len(waiting))
    with ThreadPoolExecutor(max_workers=len(waiting)) as pool:
        answers = list(pool.map(race, waiting))
    assert sorted(answers) == [200] + [409] * (len(waiting) - 1), answers
    assert _held(database, mitra.id) == CAPACITY
