"""A randomized race: many clients and mitras, accepts, cancels and expiries interleaved over
real HTTP. Afterwards no mitra is over capacity, no request has two sessions, no client is
in two sessions, and ledger consumption equals sessions started.

Size: PAIRING_STRESS_CLIENTS × PAIRING_STRESS_MITRAS × PAIRING_STRESS_ROUNDS (modest default).
"""

from __future__ import annotations

import os
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from shared import valkey
from shared.domain import pairing
from shared.store.live import keys
from tests.pairing.conftest import end_session, make_overdue
from tests.support.presence import available_mismatches

CLIENTS = int(os.environ.get("PAIRING_STRESS_CLIENTS", "20"))
MITRAS = int(os.environ.get("PAIRING_STRESS_MITRAS", "10"))
ROUNDS = int(os.environ.get("PAIRING_STRESS_ROUNDS", "4"))


def test_random_interleaving_keeps_every_invariant(
    api, database, online_mitras, client_with_credits, pairing_request
):
    rng = random.Random(int(os.environ.get("PAIRING_STRESS_SEED", "5")))
    mitras = [m for c in (1, 2) for m in online_mitras(MITRAS // 2, capacity=c)]
    capacity = {m.id: (1 if i < MITRAS // 2 else 2) for i, m in enumerate(mitras)}
    clients = [client_with_credits(credits=ROUNDS) for _ in range(CLIENTS)]
    client_ids = [c.id for c in clients]

    for _round in range(ROUNDS):
        requests = {}
        for client in clients:
            response = pairing_request(client)
            if response.json().get("status") == "searching":
                requests[response.json()["id"]] = client
        for request_id in rng.sample(sorted(requests), k=max(1, len(requests) // 6)):
            make_overdue(database, request_id)

        actions = [("accept", m, r) for r in requests for m in mitras if rng.random() < 0.5]
        actions += [("cancel", requests[r], r) for r in requests if rng.random() < 0.2]
        rng.shuffle(actions)

        def act(action):
            kind, who, request_id = action
            if kind == "accept":
                return api.post(
                    f"/api/mitra/pairing-requests/{request_id}/accept", headers=who.headers
                )
            return api.delete(f"/api/client/pairing-requests/{request_id}", headers=who.headers)

        with ThreadPoolExecutor(max_workers=32) as pool:
            responses = list(pool.map(act, actions))
        failures = [r.text for r in responses if r.status_code >= 500]
        assert failures == []

        with database.connect() as connection:
            per_mitra = dict(
                connection.execute(
                    sa.text(
                        "SELECT mitra_id::text, count(*) FROM sessions WHERE status = 'active'"
                        " AND client_id = ANY(string_to_array(:ids, ',')::uuid[])"
                        " GROUP BY mitra_id"
                    ),
                    {"ids": ",".join(client_ids)},
                ).all()
            )
        loads = valkey.client().hmget(keys.LOAD, [m.id for m in mitras])
        for mitra, load in zip(mitras, loads, strict=True):
            assert per_mitra.get(mitra.id, 0) <= capacity[mitra.id]
            assert int(load or 0) == per_mitra.get(mitra.id, 0)
        assert available_mismatches([m.id for m in mitras]) == []

        with database.connect() as connection:
            active = (
                connection.execute(
                    sa.text(
                        "SELECT id::text FROM sessions WHERE status = 'active'"
                        " AND client_id = ANY(string_to_array(:ids, ',')::uuid[])"
                    ),
                    {"ids": ",".join(client_ids)},
                )
                .scalars()
                .all()
            )
        for session_id in active:
            end_session(database, session_id)
        for client in clients:  # whatever is still searching ends before the next round
            pairing.cancel_open_request(uuid.UUID(client.id))

    ids = {"ids": ",".join(client_ids)}
    with database.connect() as connection:
        sessions, consumed, matched, sessions_per_request, double_active = (
            connection.execute(sa.text(sql), ids).scalar_one() for sql in _INVARIANT_QUERIES
        )
    assert sessions > 0
    assert consumed == sessions == matched
    assert sessions_per_request == 1
    assert double_active == 0


_INVARIANT_QUERIES = (
    "SELECT count(*) FROM sessions WHERE client_id = ANY(string_to_array(:ids, ',')::uuid[])",
    "SELECT count(*) FROM credit_ledger WHERE kind = 'consumption'"
    " AND client_id = ANY(string_to_array(:ids, ',')::uuid[])",
    "SELECT count(*) FROM pairing_requests WHERE status = 'matched'"
    " AND client_id = ANY(string_to_array(:ids, ',')::uuid[])",
    "SELECT max(n) FROM (SELECT count(*) AS n FROM pairing_requests WHERE session_id IS NOT NULL"
    " AND client_id = ANY(string_to_array(:ids, ',')::uuid[]) GROUP BY session_id) s",
    "SELECT count(*) FROM (SELECT client_id FROM sessions WHERE status = 'active'"
    " AND client_id = ANY(string_to_array(:ids, ',')::uuid[])"
    " GROUP BY client_id HAVING count(*) > 1) d",
)
