"""PostgreSQL unavailable: the heartbeat hot path (Valkey only) keeps answering 204; pairing
and admin answer `503 unavailable` with Retry-After; once PostgreSQL is back nothing is left
half-made (no claim without a session, no session, no consumption), and pairing works again.
"""

from __future__ import annotations

import httpx
import pytest

from shared import valkey
from shared.store.live import keys
from tests.admin.conftest import SEEDED_EMAIL, SEEDED_PASSWORD, login
from tests.conftest import bearer
from tests.faults.conftest import active_sessions, postgres_answers, requests_of, wait_until


def _unavailable(response: httpx.Response) -> tuple[int, str, bool]:
    return (
        response.status_code,
        response.json()["error"]["code"],
        int(response.headers.get("Retry-After", "0")) > 0,
    )


@pytest.mark.timeout(120)
def test_postgres_outage_keeps_heartbeats_answers_503_and_leaves_nothing_half_made(
    stack, api, admin_api, database, make_mitra, online, paying_client, healthy
):
    first, second = online(make_mitra("Mitra Gangguan")), online(make_mitra("Mitra Gangguan"))
    client, waiting = paying_client(), paying_client()
    request_id = api.post("/api/client/pairing-requests", headers=client.headers).json()["id"]
    operator = bearer(login(admin_api, SEEDED_EMAIL, SEEDED_PASSWORD).json()["token"])

    stack.postgres.stop()
    try:
        beats = [
            api.post("/api/mitra/presence/heartbeat", headers=m.headers).status_code
            for m in (first, second)
        ]
        accept = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=first.headers)
        posted = api.post("/api/client/pairing-requests", headers=waiting.headers)
        listed = admin_api.get("/api/admin/mitras", headers=operator)
        dashboard_login = login(admin_api, SEEDED_EMAIL, SEEDED_PASSWORD)
    finally:
        stack.postgres.start()
    wait_until(lambda: postgres_answers(stack))
    database.dispose()  # the test's own pool (no pre-ping) still holds the dead connections

    assert beats == [204, 204]
    assert _unavailable(accept) == (503, "unavailable", True)
    assert _unavailable(posted) == (503, "unavailable", True)
    assert _unavailable(listed) == (503, "unavailable", True)
    assert _unavailable(dashboard_login) == (503, "unavailable", True)
    # Nothing half-made: the request is still searching and unclaimed, no capacity is held,
    # no session or consumption exists, and the refused POST left no open request.
    assert valkey.client().hget(keys.request(request_id), "status") == "searching"
    assert int(valkey.client().hget(keys.LOAD, first.id) or 0) == 0
    assert active_sessions(database, client_ids=[client.id, waiting.id]) == []
    assert [r.status for r in requests_of(database, [waiting.id])] in ([], ["expired"])
    # And the pools recovered: the same request is accepted once, by one mitra.
    accepted = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=first.headers)
    assert accepted.status_code == 200, accepted.text
    again = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=second.headers)
    assert again.json()["error"]["code"] == "already_taken"
    assert len(active_sessions(database, client_ids=[client.id])) == 1
    assert api.post("/api/client/pairing-requests", headers=waiting.headers).status_code == 201
