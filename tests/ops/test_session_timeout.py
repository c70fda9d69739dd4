"""The session time limit: the sweeper ends sessions older than `session_max_minutes` with
end_reason `timeout`, exactly once under racing sweepers — one capacity unit back, one
`session.ended` to each side, one domain event, one `session_timeout` signal."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from shared import valkey
from tests.support.admin import load_of
from tests.support.sessions import start_session


def _age(database, session_id, minutes: int) -> None:
    with database.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE sessions SET started_at = now() - make_interval(mins => :m) WHERE id = :id"
            ),
            {"id": session_id, "m": minutes},
        )


def test_an_overdue_session_ends_once_under_racing_sweepers(
    stack, database, make_client, make_mitra, server_log
):
    mitra = make_mitra(max_customers=3)
    overdue_client, fresh_client = make_client(), make_client()
    overdue = start_session(overdue_client.id, mitra.id)
    fresh = start_session(fresh_client.id, mitra.id)
    _age(database, overdue, 121)  # default limit: 120 minutes
    _age(database, fresh, 119)
    load_before = load_of(mitra.id)
    sweeper_log = server_log("sweeper")
    pubsub = valkey.client().pubsub()
    pubsub.subscribe(f"events:client:{overdue_client.id}", f"events:mitra:{mitra.id}")
    for _ in range(2):
        assert pubsub.get_message(timeout=2.0)["type"] == "subscribe"

    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda _: stack.sweep_now(), range(3)))

    received = []
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            received.append((message["channel"], json.loads(message["data"])))
    pubsub.close()
    with database.connect() as connection:
        rows = {
            str(r.id): r
            for r in connection.execute(
                sa.text(
                    "SELECT id, status, ended_by, end_reason FROM sessions WHERE id IN (:a, :b)"
                ),
                {"a": overdue, "b": fresh},
            )
        }

    assert statuses == [200, 200, 200]
    ended = rows[str(overdue)]
    assert (ended.status, ended.ended_by, ended.end_reason) == ("ended", "system", "timeout")
    assert rows[str(fresh)].status == "active"
    assert load_before == 2 and load_of(mitra.id) == 1  # released once, not twice
    ends = [(ch, e["data"]["end_reason"]) for ch, e in received if e["type"] == "session.ended"]
    assert sorted(ends) == sorted(
        [
            (f"events:client:{overdue_client.id}", "timeout"),
            (f"events:mitra:{mitra.id}", "timeout"),
        ]
    )
    assert len(sweeper_log.signals("session_timeout", session_id=str(overdue))) == 1
    domain = [
        e
        for e in sweeper_log.entries()
        if e.get("event_type") == "session.ended" and e.get("session_id") == str(overdue)
    ]
    assert len(domain) == 1


def test_session_max_minutes_is_an_operator_setting_with_a_range(admin_api, admin):
    current = admin_api.get("/api/admin/settings", headers=admin.headers).json()
    too_short = admin_api.put(
        "/api/admin/settings", json={"session_max_minutes": 14}, headers=admin.headers
    )
    too_long = admin_api.put(
        "/api/admin/settings", json={"session_max_minutes": 481}, headers=admin.headers
    )

    assert current["session_max_minutes"] == 120
    assert too_short.status_code == 400 and too_long.status_code == 400
    assert "session_max_minutes" in json.dumps(too_short.json()["error"]["details"])
