"""The sweeper (`sweep_presence`, fed a real Pub/Sub CloudEvent): auto-offline, races,
reconciliation after Valkey loses its data, run records, malformed triggers."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from shared import clock, valkey
from shared.domain import presence, sweeper
from shared.domain.sweeper import Step
from shared.store.live import keys
from tests.support.presence import is_available, is_online_in_database, lapse, log_rows

URL = "/api/mitra/presence"
HEARTBEAT = "/api/mitra/presence/heartbeat"


def _online(api, make_mitra, **options):
    mitra = make_mitra(**options)
    assert api.put(URL, json={"status": "online"}, headers=mitra.headers).status_code == 200
    return mitra


def test_sweep_takes_a_lapsed_mitra_offline_with_one_log_row(api, stack, database, make_mitra):
    mitra = _online(api, make_mitra)
    lapse(mitra.id)

    assert stack.sweep_now() == 200

    assert not is_online_in_database(database, mitra.id)
    assert log_rows(database, mitra.id) == [("online", "manual"), ("offline", "heartbeat_timeout")]
    assert valkey.client().zscore(keys.HEARTBEATS, mitra.id) is None


def test_sweep_leaves_a_mitra_with_fresh_heartbeats_online(api, stack, database, make_mitra):
    mitra = _online(api, make_mitra)
    lapse(mitra.id, extra_s=-10)

    stack.sweep_now()

    assert is_online_in_database(database, mitra.id)
    assert is_available(mitra.id)
    assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204


def test_heartbeat_after_auto_offline_is_not_online(api, stack, make_mitra):
    mitra = _online(api, make_mitra)
    lapse(mitra.id)
    stack.sweep_now()

    response = api.post(HEARTBEAT, headers=mitra.headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_online"
    assert api.get(URL, headers=mitra.headers).json()["status"] == "offline"


def test_racing_sweepers_log_each_lapsed_mitra_exactly_once(api, stack, database, make_mitra):
    mitras = [_online(api, make_mitra) for _ in range(12)]
    for mitra in mitras:
        lapse(mitra.id)

    def sweep(kind: int) -> object:
        # Two through the real sweeper server, two in this process: four sweepers at once.
        return stack.sweep_now() if kind % 2 else presence.expire_lapsed(batch_size=3)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(sweep, range(4)))

    for mitra in mitras:
        assert log_rows(database, mitra.id) == [
            ("online", "manual"),
            ("offline", "heartbeat_timeout"),
        ]


def test_sweep_tells_the_mitra_app_through_its_event_channel(api, stack, make_mitra):
    mitra = _online(api, make_mitra)
    lapse(mitra.id)
    subscriber = valkey.client().pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(f"events:mitra:{mitra.id}")
    try:
        stack.sweep_now()
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            message = subscriber.get_message(timeout=1)
    finally:
        subscriber.close()

    assert message is not None
    event = json.loads(message["data"])
    assert event["type"] == "presence.offline"
    assert event["data"] == {"reason": "heartbeat_timeout"}


@pytest.fixture
def session_for(database, make_client):
    """An active session row for a mitra, ended again after the test."""
    created: list[str] = []

    def start(mitra_id: str) -> str:
        client = make_client()
        with database.begin() as connection:
            session_id = connection.execute(
                sa.text("INSERT INTO sessions (client_id, mitra_id) VALUES (:c, :m) RETURNING id"),
                {"c": client.id, "m": mitra_id},
            ).scalar_one()
        created.append(str(session_id))
        return str(session_id)

    yield start
    with database.begin() as connection:
        for session_id in created:
            connection.execute(
                sa.text(
                    "UPDATE sessions SET status = 'ended', ended_at = now(), ended_by = 'system'"
                    " WHERE id = :id"
                ),
                {"id": session_id},
            )


def test_heartbeat_rebuilds_presence_after_valkey_loses_everything(api, make_mitra):
    mitra = _online(api, make_mitra)

    valkey.client().flushall()

    assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204
    assert is_available(mitra.id)


def test_reconciliation_restores_presence_load_and_capacity_after_flushall(
    api, stack, make_mitra, session_for
):
    mitra = _online(api, make_mitra, max_customers=2)
    session_for(mitra.id)

    valkey.client().flushall()
    assert stack.sweep_now() == 200

    assert is_available(mitra.id)
    assert valkey.client().hget(keys.LOAD, mitra.id) == "1"
    assert valkey.client().hget(keys.CAPACITY, mitra.id) == "2"
    assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204


def test_reconciliation_raises_a_load_that_is_too_low_at_once(stack, make_mitra, session_for):
    mitra = make_mitra()
    session_for(mitra.id)
    session_for(mitra.id)
    stack.sweep_now()
    valkey.client().hset(keys.LOAD, mitra.id, 1)

    stack.sweep_now()

    assert valkey.client().hget(keys.LOAD, mitra.id) == "2"


def test_reconciliation_lowers_a_surplus_load_only_when_it_persists(stack, make_mitra):
    mitra = make_mitra()
    valkey.client().hset(keys.LOAD, mitra.id, 3)

    stack.sweep_now()
    assert valkey.client().hget(keys.LOAD, mitra.id) == "3"  # could be a claim in flight

    stack.sweep_now()
    assert valkey.client().hget(keys.LOAD, mitra.id) is None


def test_reconciliation_drops_a_heartbeat_member_offline_in_postgres(stack, make_mitra):
    mitra = make_mitra()
    valkey.client().zadd(keys.HEARTBEATS, {mitra.id: clock.now_ms()})

    stack.sweep_now()

    assert valkey.client().zscore(keys.HEARTBEATS, mitra.id) is None


def test_reconciliation_takes_offline_a_mitra_claimed_by_a_sweeper_that_died(
    api, stack, database, make_mitra
):
    mitra = _online(api, make_mitra)
    stack.sweep_now()  # Valkey is now known intact
    # A sweeper claimed the member in Valkey, then died before writing PostgreSQL.
    valkey.client().zrem(keys.HEARTBEATS, mitra.id)
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE mitras SET online_since = now() - interval '5 minutes' WHERE id = :id"),
            {"id": mitra.id},
        )

    stack.sweep_now()
    stack.sweep_now()

    assert not is_online_in_database(database, mitra.id)
    assert log_rows(database, mitra.id) == [("online", "manual"), ("offline", "heartbeat_timeout")]


def test_reconciliation_spares_a_mitra_that_just_went_online(api, stack, database, make_mitra):
    mitra = _online(api, make_mitra)
    stack.sweep_now()
    valkey.client().zrem(keys.HEARTBEATS, mitra.id)  # its ZADD not yet landed, as it were

    stack.sweep_now()

    assert is_online_in_database(database, mitra.id)
    assert log_rows(database, mitra.id) == [("online", "manual")]


def test_sweep_records_its_last_run_in_valkey_and_postgres(stack, database):
    started = datetime.now(UTC)

    assert stack.sweep_now() == 200

    last = sweeper.last_run()
    assert last is not None and last.status == "ok" and last.finished_at >= started
    with database.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT status, summary FROM sweeper_runs WHERE started_at >= :t"
                " ORDER BY id DESC LIMIT 1"
            ),
            {"t": started},
        ).one()
    assert row.status == "ok"
    assert {"presence_timeouts", "presence_reconcile"} <= set(row.summary["steps"])


def test_a_failing_step_is_recorded_and_the_next_step_still_runs(database):
    ran: list[str] = []

    def broken() -> dict[str, int]:
        raise RuntimeError("boom")

    def counting() -> dict[str, int]:
        ran.append("counting")
        return {"n": 1}

    outcome = sweeper.run((Step("broken", broken), Step("counting", counting)))

    assert ran == ["counting"]
    assert outcome.status == "failed"
    assert outcome.steps["broken"]["ok"] is False
    assert outcome.steps["counting"]["n"] == 1
    assert sweeper.last_run().status == "failed"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"ce-type": "google.cloud.pubsub.topic.v1.messagePublished"}, b"not json"),
        ({"ce-type": "google.cloud.pubsub.topic.v1.messagePublished"}, b'{"foo": 1}'),
        ({"ce-type": "google.cloud.pubsub.topic.v1.messagePublished"}, b'["x"]'),
        ({"ce-type": "com.example.other"}, b'{"message": {"data": ""}}'),
    ],
    ids=["not-json", "no-message", "array", "other-type"],
)
def test_malformed_trigger_is_acknowledged_without_sweeping(stack, make_mitra, headers, body):
    ce = {
        "ce-id": "x1",
        "ce-specversion": "1.0",
        "ce-source": "//test",
        "ce-time": "2026-01-01T00:00:00Z",
        "Content-Type": "application/json",
    }
    before = valkey.client().hget(keys.SWEEPER_LAST_RUN, "finished_at")
    time.sleep(0.01)

    response = httpx.post(stack.sweeper_url, content=body, headers={**ce, **headers}, timeout=30)

    assert response.status_code == 200, response.text
    assert valkey.client().hget(keys.SWEEPER_LAST_RUN, "finished_at") == before
    assert stack.sweep_now() == 200  # and the sweeper still works
