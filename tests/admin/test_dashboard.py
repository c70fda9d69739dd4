"""The real-time dashboard over real HTTP: exact day figures from a scripted day, exact live
figures from a scripted presence, and the server-sent stream."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime

import sqlalchemy as sa

from shared import clock, db, valkey
from shared.domain import dashboard, settings
from tests.support.admin import (
    Stream,
    go_offline,
    go_online,
    insert_client,
    insert_mitra,
    only_these_online,
    place,
)
from tests.support.sessions import start_session

SCRIPTED_DAY = "2021-03-10"  # an Asia/Jakarta day no other test writes to


def _insert_request(
    connection,
    client_id,
    created_at,
    status,
    *,
    ttm_ms=None,
    session_id=None,
    mitra_id=None,
    reroute_session=None,
):
    connection.execute(
        sa.text(
            "INSERT INTO pairing_requests (client_id, status, created_at, expires_at, closed_at,"
            " session_id, matched_mitra_id, time_to_match_ms, reroute_session)"
            " VALUES (:c, :s, CAST(:at AS timestamptz),"
            " CAST(:at AS timestamptz) + interval '60 seconds',"
            " CAST(:at AS timestamptz) + interval '1 second', :sid, :mid, :ttm, :rs)"
        ),
        {
            "c": client_id,
            "s": status,
            "at": created_at,
            "sid": session_id,
            "mid": mitra_id,
            "ttm": ttm_ms,
            "rs": reroute_session,
        },
    )


def _insert_ended_session(connection, client_id, mitra_id, started_at) -> str:
    return str(
        connection.execute(
            sa.text(
                "INSERT INTO sessions (client_id, mitra_id, status, started_at, ended_at,"
                " ended_by) VALUES (:c, :m, 'ended', CAST(:at AS timestamptz),"
                " CAST(:at AS timestamptz) + interval '30 minutes', 'client') RETURNING id"
            ),
            {"c": client_id, "m": mitra_id, "at": started_at},
        ).scalar_one()
    )


def test_day_figures_match_a_scripted_day_exactly(admin_api, viewer, database):
    """The dashboard is global, so exact figures need a day only this test writes to: the
    day figures take `?day=` (an Asia/Jakarta date), and the script fills 2021-03-10 with
    known requests and sessions, including rows just outside the day's Jakarta bounds (which
    are inside its UTC date) and a reroute re-blast (not a client's press), which must all be
    left out."""
    client_id, mitra_id = insert_client(database), insert_mitra(database)
    with database.begin() as connection:
        matched_sessions = []
        for i in range(10):  # time to match 1 s, 2 s, ... 10 s
            created = f"{SCRIPTED_DAY}T01:{i:02d}:00+07:00"
            session_id = _insert_ended_session(connection, client_id, mitra_id, created)
            matched_sessions.append(session_id)
            _insert_request(
                connection,
                client_id,
                created,
                "matched",
                ttm_ms=(i + 1) * 1000,
                session_id=session_id,
                mitra_id=mitra_id,
            )
        for at in (
            f"{SCRIPTED_DAY}T00:00:00+07:00",
            f"{SCRIPTED_DAY}T12:00:00+07:00",
            f"{SCRIPTED_DAY}T23:59:59+07:00",
        ):
            _insert_request(connection, client_id, at, "no_bestie")
        for status in ("expired", "expired", "cancelled"):
            _insert_request(connection, client_id, f"{SCRIPTED_DAY}T13:00:00+07:00", status)
        # Outside the Jakarta day (though inside its UTC date or the next) and a re-blast:
        _insert_request(connection, client_id, "2021-03-09T23:59:59+07:00", "no_bestie")
        _insert_request(connection, client_id, "2021-03-11T00:00:00+07:00", "no_bestie")
        _insert_request(
            connection,
            client_id,
            f"{SCRIPTED_DAY}T10:00:00+07:00",
            "matched",
            ttm_ms=999_999,
            session_id=matched_sessions[0],
            mitra_id=mitra_id,
            reroute_session=matched_sessions[0],
        )
        _insert_ended_session(connection, client_id, mitra_id, "2021-03-11T00:00:30+07:00")
        _insert_ended_session(connection, client_id, mitra_id, "2021-03-09T23:59:00+07:00")

    response = admin_api.get(f"/api/admin/dashboard?day={SCRIPTED_DAY}", headers=viewer.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["day"] == SCRIPTED_DAY
    assert body["requests_today"] == 16
    assert body["no_bestie_rate_today"] == 0.1875  # 3 of 16
    assert body["time_to_match_s"] == {"p50": 5.5, "p90": 9.1}  # percentile_cont over 1..10 s
    assert body["sessions"]["today"] == 10


def test_a_day_without_requests_has_null_rates(admin_api, viewer):
    body = admin_api.get("/api/admin/dashboard?day=2001-01-01", headers=viewer.headers).json()

    assert body["requests_today"] == 0
    assert body["no_bestie_rate_today"] is None
    assert body["time_to_match_s"] == {"p50": None, "p90": None}
    assert body["sessions"]["today"] == 0


def test_live_mitra_figures_follow_heartbeats_load_and_capacity(admin_api, viewer, database):
    ids = [insert_mitra(database) for _ in range(4)]
    now = clock.now_ms()
    lapsed = now - (settings.current().heartbeat_timeout_s + 5) * 1000
    with only_these_online():
        place(ids[0], beat_ms=now, capacity=2, load=1)  # available
        place(ids[1], beat_ms=now, capacity=1, load=1)  # busy
        place(ids[2], beat_ms=now, capacity=2, load=2)  # busy
        place(ids[3], beat_ms=lapsed, capacity=2, load=0)  # silent: offline before any sweep
        body = admin_api.get("/api/admin/dashboard", headers=viewer.headers).json()

    assert body["mitras"] == {"online": 3, "available": 1, "busy": 2}


def test_active_sessions_and_todays_sessions_count_a_new_session(
    admin_api, viewer, make_client, make_mitra
):
    client, mitra = make_client(), make_mitra()
    before = admin_api.get("/api/admin/dashboard", headers=viewer.headers).json()

    start_session(client.id, mitra.id)
    after = admin_api.get("/api/admin/dashboard", headers=viewer.headers).json()

    assert after["sessions"]["active"] == before["sessions"]["active"] + 1
    assert after["sessions"]["today"] == before["sessions"]["today"] + 1
    assert after["as_of"] > before["as_of"]


def test_dashboard_reports_the_sweepers_last_run(admin_api, viewer, stack):
    assert stack.sweep_now() == 200

    body = admin_api.get("/api/admin/dashboard", headers=viewer.headers).json()

    assert body["sweeper"]["status"] == "ok"
    assert body["sweeper"]["stale"] is False
    assert time.time() - _epoch(body["sweeper"]["last_run_at"]) < 30


def test_sweeper_health_shows_the_recorded_run_without_a_scheduler_locally(
    admin_api, viewer, stack
):
    assert stack.sweep_now() == 200

    body = admin_api.get("/api/admin/sweeper", headers=viewer.headers).json()

    assert body["last_run"]["status"] == "ok"
    assert {"presence_timeouts", "pairing_expiry", "orphans"} <= set(body["last_run"]["steps"])
    assert body["scheduler"] is None  # SWEEPER_SCHEDULER_JOB is not set in the local stack


def test_dashboard_refuses_a_malformed_day_and_anonymous_callers(admin_api, viewer):
    bad_day = admin_api.get("/api/admin/dashboard?day=2021-13-01", headers=viewer.headers)
    anonymous = admin_api.get("/api/admin/dashboard")
    stream_anonymous = admin_api.get("/api/admin/dashboard/stream")

    assert bad_day.status_code == 400
    assert bad_day.json()["error"]["details"]["fields"][0]["field"] == "day"
    assert anonymous.status_code == 401
    assert stream_anonymous.status_code == 401


def test_stream_emits_a_change_within_one_tick_of_a_mitra_going_online(
    stack, api, viewer, make_mitra
):
    """The feed recomputes every DASHBOARD_TICK_S (1 s by default) and sends on change; the
    unchanged keep-fresh frame comes only every 5 s, so a frame within ~1 s proves the
    change itself was sent."""
    mitra = make_mitra()
    with only_these_online():
        stream = Stream(stack.admin_url, "/api/admin/dashboard/stream", viewer.headers)
        try:
            assert stream.status_code == 200
            _, first = stream.next()
            went_online = time.monotonic()
            go_online(api, mitra)
            arrived, changed = stream.next(timeout=6)
        finally:
            stream.close()
            go_offline(api, mitra)

    assert first.event == "dashboard"
    assert first.json()["data"]["mitras"]["online"] == 0
    assert changed.json()["data"]["mitras"]["online"] == 1
    assert arrived - went_online < 2.0


def test_stream_repeats_unchanged_figures_at_least_every_five_seconds(stack, viewer):
    with only_these_online():
        stream = Stream(stack.admin_url, "/api/admin/dashboard/stream", viewer.headers)
        try:
            first_at, first = stream.next()
            again_at, again = stream.next(timeout=8)
        finally:
            stream.close()

    first_data, again_data = first.json()["data"], again.json()["data"]
    assert again_at - first_at < 6.5
    assert again_data["as_of"] > first_data["as_of"]
    assert {k: v for k, v in again_data.items() if k != "as_of"} == {
        k: v for k, v in first_data.items() if k != "as_of"
    }
    assert uuid.UUID(hex=again.id) != uuid.UUID(hex=first.id)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_a_dashboard_costs_one_valkey_script_and_one_sql_statement():
    """Every command sent to Valkey (from MONITOR) and every SQL statement, for one
    dashboard after a warm-up call. The settings read is a GET only because the tests run
    with SETTINGS_CACHE_S=0; in production the per-process cache serves it."""
    dashboard.snapshot()  # loads the script once per process
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    commands: list[str] = []
    marker = f"end-{uuid.uuid4().hex}"
    with valkey.client().monitor() as monitor:

        def listen() -> None:
            while True:
                command = monitor.next_command()
                if marker in command["command"]:
                    return
                name = command["command"].split()[0].upper()
                # Script-internal commands run inside the one EVALSHA; PING is redis-py's
                # idle-connection health check (any process's), not dashboard work.
                if command.get("client_type") != "lua" and name != "PING":
                    commands.append(name)

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        time.sleep(0.2)
        sa.event.listen(db.engine(), "before_cursor_execute", count)
        try:
            dashboard.snapshot()
        finally:
            sa.event.remove(db.engine(), "before_cursor_execute", count)
        valkey.client().echo(marker)
        listener.join(5)

    assert sorted(commands) == ["EVALSHA", "GET"]  # the script; settings:current
    assert len(statements) == 1
