"""The maintained set of available mitras (`presence:available`): a request is offered to
every mitra available while it searches, the set follows load and capacity atomically, and
the blast's Valkey work does not grow with the number of mitras."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

from shared import valkey
from shared.domain import pairing, settings
from shared.store.live import capacity, keys
from shared.store.live import presence as heartbeats
from tests.pairing.conftest import end_session, now_ms, put_online
from tests.support.presence import available_mismatches, drop


def _listed(api, mitra) -> set[str]:
    items = api.get("/api/mitra/pairing-requests", headers=mitra.headers).json()["items"]
    return {offer["id"] for offer in items}


def test_mitra_available_after_the_blast_is_offered_the_request_and_can_accept(
    api, online_mitras, make_mitra, client_with_credits, pairing_request, open_stream
):
    online_mitras(1)
    late = make_mitra("Mitra Datang Belakangan")
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    before = _listed(api, late)

    put_online(late.id)
    snapshot = open_stream("/api/mitra/events", late.headers).next()
    accepted = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=late.headers)

    assert request_id not in before
    assert request_id in {o["request_id"] for o in snapshot.json()["data"]["offers"]}
    assert accepted.status_code == 200, accepted.text
    drop(late.id)


def test_offer_closed_reaches_a_mitra_that_saw_the_offer_only_in_its_snapshot(
    api, online_mitras, make_mitra, client_with_credits, pairing_request, open_stream
):
    (winner,) = online_mitras(1)
    late = make_mitra("Mitra Snapshot")
    client = client_with_credits()
    request_id = pairing_request(client).json()["id"]
    put_online(late.id)
    stream = open_stream("/api/mitra/events", late.headers)
    snapshot = stream.next()

    api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=winner.headers)
    closed = stream.next_of("pairing.offer_closed")

    assert request_id in {o["request_id"] for o in snapshot.json()["data"]["offers"]}
    assert closed.json()["data"] == {"request_id": request_id, "reason": "taken"}
    drop(late.id)


def test_mitra_at_capacity_leaves_the_available_set_and_a_release_puts_it_back(
    api, database, online_mitras, client_with_credits, pairing_request
):
    (mitra,) = online_mitras(1, capacity=1)
    beat = valkey.client().zscore(keys.HEARTBEATS, mitra.id)
    first, second = client_with_credits(), client_with_credits()
    request_id = pairing_request(first).json()["id"]
    assert valkey.client().zscore(keys.AVAILABLE, mitra.id) == beat

    session_id = api.post(
        f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers
    ).json()["session_id"]
    full = valkey.client().zscore(keys.AVAILABLE, mitra.id)
    other = pairing_request(second).json()
    hidden = _listed(api, mitra)
    end_session(database, session_id)

    assert full is None
    assert other.get("id") not in hidden
    assert valkey.client().zscore(keys.AVAILABLE, mitra.id) == beat
    if other.get("status") == "searching":
        assert other["id"] in _listed(api, mitra)
        pairing.cancel_open_request(uuid.UUID(second.id))


def test_racing_claims_releases_heartbeats_and_capacity_edits_keep_the_set_exact(stack):
    """Real scripts, many threads: afterwards presence:available is exactly the online
    mitras below capacity, each with its heartbeat score."""
    ids = [str(uuid.uuid4()) for _ in range(12)]
    default = settings.current().max_customers_per_mitra
    start = now_ms()
    for mitra_id in ids:
        heartbeats.enter(mitra_id, f"test-uid-{mitra_id}", start, 2, default, 0)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(60):
            mitra_id = rng.choice(ids)
            action = rng.randrange(5)
            now = now_ms() + rng.randrange(1000)
            if action == 0:
                capacity.take_unit(mitra_id, now - 60_000, default)
            elif action == 1:
                capacity.release(mitra_id, default)
            elif action == 2:
                heartbeats.beat(f"test-uid-{mitra_id}", now, now - 60_000)
            elif action == 3:
                capacity.set_capacity(mitra_id, rng.choice([1, 2, 3, None]), default)
            elif rng.random() < 0.5:  # the sweeper takes it offline
                heartbeats.claim_lapsed(now + 10_000, 1, only=[mitra_id])
            else:  # it toggles back on
                heartbeats.enter(
                    mitra_id, f"test-uid-{mitra_id}", now, rng.choice([1, 2]), default, 0
                )

    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            list(pool.map(work, range(24)))

        assert valkey.client().zcard(keys.HEARTBEATS) > 0
        assert available_mismatches(ids) == []
    finally:
        for mitra_id in ids:
            heartbeats.forget_uid(f"test-uid-{mitra_id}")
        drop(*ids)


def _commands_run_by_blast(available_key: str) -> int:
    """Commands Valkey counted (INFO commandstats) for one blast script call on test keys."""

    def total() -> int:
        stats = valkey.client().info("commandstats")
        return sum(
            int(v["calls"])
            for k, v in stats.items()
            if k not in ("cmdstat_info", "cmdstat_evalsha", "cmdstat_eval")
        )

    request_id = str(uuid.uuid4())
    request_key = f"test:blast:{request_id}"
    before = total()
    count = valkey.script("blast")(
        keys=[request_key, f"{available_key}:searching", available_key],
        args=[0, "c", 1, now_ms() + 60_000, 60_000, request_id, now_ms(), ""],
    )
    after = total()
    valkey.client().delete(request_key, f"{available_key}:searching")
    assert count == valkey.client().zcard(available_key)
    return after - before


def test_blast_runs_the_same_commands_at_10_and_1000_available_mitras(stack):
    small, large = f"test:available:{uuid.uuid4()}", f"test:available:{uuid.uuid4()}"
    valkey.client().zadd(small, {f"m{i}": 1_000 + i for i in range(10)})
    valkey.client().zadd(large, {f"m{i}": 1_000 + i for i in range(1_000)})
    try:
        at_10 = _commands_run_by_blast(small)
        at_1000 = _commands_run_by_blast(large)
    finally:
        valkey.client().delete(small, large)

    assert at_10 == at_1000
    assert at_10 <= 6
