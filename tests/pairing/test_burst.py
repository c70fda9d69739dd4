"""A burst bigger than the connection pools queues briefly; it never becomes `503`.

200 accepts arrive at once at a public server with the catalogue's THREADS (1,000, as
pairing runs) but tiny pools — 4 Valkey connections, 1 PostgreSQL connection — so every
request must wait its turn for both (docs/pairing.md, "Pools under bursts"). With pools
that refuse when empty, most of them answered `503 unavailable`.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from devstack.servers import free_port
from devstack.stack import REPO_ROOT, FunctionServer, _inherited_env
from shared.domain import pairing

ACCEPTS = 200
MITRAS = 20


@pytest.fixture
def small_pools_server(stack, tmp_path):  # type: ignore[no-untyped-def]
    """The public gateway in a process of its own, with pools far smaller than the burst."""
    env = {
        **_inherited_env(),
        **stack.env(),
        "HALO_GATEWAY_INGRESS": "public",
        "THREADS": "1000",
        "VALKEY_MAX_CONNECTIONS": "4",
        "DB_POOL_SIZE": "1",
        "DB_POOL_OVERFLOW": "0",
    }
    gateway = ["--source", str(REPO_ROOT / "devstack" / "gateway.py"), "--target", "gateway"]
    server = FunctionServer("public-small-pools", free_port(), gateway, env, tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.timeout(180)
def test_two_hundred_concurrent_accepts_one_winner_and_no_503(
    small_pools_server, online_mitras, client_with_credits, pairing_request
):
    mitras = online_mitras(MITRAS)
    client = client_with_credits()
    posted = pairing_request(client)
    assert posted.json()["status"] == "searching", posted.text
    path = f"/api/mitra/pairing-requests/{posted.json()['id']}/accept"
    start = threading.Barrier(ACCEPTS)
    limits = httpx.Limits(max_connections=ACCEPTS, max_keepalive_connections=ACCEPTS)

    with httpx.Client(base_url=small_pools_server.url, timeout=60, limits=limits) as http:

        def accept(i: int) -> tuple[int, str]:
            start.wait()
            answer = http.post(path, headers=mitras[i % MITRAS].headers)
            code = answer.json()["error"]["code"] if answer.status_code >= 400 else "ok"
            return answer.status_code, code

        with ThreadPoolExecutor(max_workers=ACCEPTS) as pool:
            answers = Counter(pool.map(accept, range(ACCEPTS)))

    assert answers[(200, "ok")] == 1, answers
    # Every loser gets a contract answer: the request is taken (or, for the winner's own
    # duplicates, taken by itself).
    assert set(answers) - {(200, "ok")} == {(409, "already_taken")}, answers
    assert sum(answers.values()) == ACCEPTS
    pairing.cancel_open_request(uuid.UUID(client.id))
