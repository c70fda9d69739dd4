"""A function instance killed between the claim (Valkey) and the session insert (PostgreSQL).

Simulated honestly without a production hook: the test performs exactly what the dying
instance did — `claim.lua` for a mitra, dated more than STUCK_CLAIM_S ago — and nothing
after it. One sweep by the real sweeper function must converge: the claim is released and
the request searches again (or, past its window, is expired), the capacity unit is back,
and no session exists until a mitra accepts again.
"""

from __future__ import annotations

import pytest

from shared import valkey
from shared.domain import pairing, settings
from shared.store.live import keys
from shared.store.live import requests as live_requests
from tests.faults.conftest import active_sessions, requests_of
from tests.pairing.conftest import make_overdue, now_ms


def _die_after_claim(request_id: str, mitra_id: str) -> None:
    long_ago = now_ms() - (pairing.STUCK_CLAIM_S + 5) * 1000
    timeout_ms = settings.current().heartbeat_timeout_s * 1000
    code = live_requests.claim(
        request_id,
        mitra_id,
        long_ago,
        long_ago - timeout_ms,
        settings.current().max_customers_per_mitra,
    )
    assert code == "claimed"


def _load(mitra_id: str) -> int:
    return int(valkey.client().hget(keys.LOAD, mitra_id) or 0)


@pytest.mark.timeout(60)
def test_claim_of_a_killed_instance_is_released_by_one_sweep_and_the_request_matches(
    stack, api, database, make_mitra, online, paying_client
):
    dead, other = online(make_mitra("Mitra Mati")), online(make_mitra("Mitra Hidup"))
    client = paying_client()
    request_id = api.post("/api/client/pairing-requests", headers=client.headers).json()["id"]
    _die_after_claim(request_id, dead.id)
    blocked = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=other.headers)
    assert blocked.json()["error"]["code"] == "already_taken"
    assert _load(dead.id) == 1

    assert stack.sweep_now() in (200, 204)

    assert valkey.client().hget(keys.request(request_id), "status") == "searching"
    assert _load(dead.id) == 0
    assert active_sessions(database, client_ids=[client.id]) == []
    accepted = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=other.headers)
    assert accepted.status_code == 200, accepted.text
    (session,) = active_sessions(database, client_ids=[client.id])
    assert str(session.mitra_id) == other.id


@pytest.mark.timeout(60)
def test_claim_of_a_killed_instance_past_the_window_ends_expired_after_one_sweep(
    stack, api, database, make_mitra, online, paying_client
):
    dead = online(make_mitra("Mitra Mati"))
    client = paying_client()
    request_id = api.post("/api/client/pairing-requests", headers=client.headers).json()["id"]
    _die_after_claim(request_id, dead.id)
    make_overdue(database, request_id)

    assert stack.sweep_now() in (200, 204)

    assert valkey.client().hget(keys.request(request_id), "status") == "expired"
    assert [r.status for r in requests_of(database, [client.id])] == ["expired"]
    assert _load(dead.id) == 0
    assert active_sessions(database, client_ids=[client.id]) == []
    assert api.post("/api/client/pairing-requests", headers=client.headers).status_code == 201
