"""The heartbeat's script call on each request thread's own Valkey connection
(`shared.valkey.HotScript`) keeps every safety property of the pooled call: it reloads a
script Valkey forgot (NOSCRIPT), reconnects after Valkey restarts, answers 503 while Valkey
is down, and its reads time out as the pool's do.

The first three run against the real presence server of the stack; the timeout one against
this process's client, whose timeout the test can shorten."""

from __future__ import annotations

import time

import pytest
import redis

from shared import valkey
from shared.config import get_config
from shared.store.live import keys
from tests.faults.conftest import valkey_answers, wait_until

HEARTBEAT = "/api/mitra/presence/heartbeat"
# Enough sequential beats that every request thread of the presence server (THREADS) has
# most likely served one on its own connection.
BEATS = 24


def _scores(mitra_id: str) -> float:
    return float(valkey.client().zscore(keys.HEARTBEATS, mitra_id) or 0)


@pytest.mark.timeout(60)
def test_a_heartbeat_after_valkey_forgot_its_scripts_reloads_and_records(
    api, make_mitra, online, healthy
):
    mitra = online(make_mitra("Mitra Skrip"))
    for _ in range(BEATS):  # every server thread has its connection and the script's sha
        assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204
    before = _scores(mitra.id)

    valkey.client().script_flush()
    time.sleep(0.01)
    answers = [api.post(HEARTBEAT, headers=mitra.headers) for _ in range(BEATS)]

    assert [a.status_code for a in answers] == [204] * BEATS, answers[-1].text
    assert _scores(mitra.id) > before


@pytest.mark.timeout(90)
def test_heartbeats_after_a_valkey_restart_reconnect_and_restore_at_once(
    stack, api, make_mitra, online, healthy
):
    mitra = online(make_mitra("Mitra Mulai Ulang"))
    for _ in range(BEATS):  # every server thread holds a connection the restart will cut
        assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204

    stack.valkey.restart()  # data, scripts and every connection gone
    wait_until(lambda: valkey_answers(stack))
    answers = [api.post(HEARTBEAT, headers=mitra.headers) for _ in range(BEATS)]

    # No 503 once Valkey answers: each thread's dead connection fails one attempt, the retry
    # reconnects, the script is reloaded, and the beat (a UID-cache miss) restores presence.
    assert [a.status_code for a in answers] == [204] * BEATS, answers[-1].text
    assert _scores(mitra.id) > 0


@pytest.mark.timeout(90)
def test_a_heartbeat_while_valkey_is_down_is_a_503_and_recovers(
    stack, api, make_mitra, online, healthy
):
    mitra = online(make_mitra("Mitra Padam"))
    assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204

    stack.valkey.stop()
    try:
        down = api.post(HEARTBEAT, headers=mitra.headers)
    finally:
        stack.valkey.start()
    wait_until(lambda: valkey_answers(stack))
    back = [api.post(HEARTBEAT, headers=mitra.headers) for _ in range(BEATS)]

    assert down.status_code == 503, down.text
    assert down.headers["Retry-After"] == "5"
    assert down.json()["error"]["code"] == "unavailable"
    assert {a.status_code for a in back} == {204}


@pytest.mark.timeout(60)
def test_the_hot_script_times_out_like_the_pool_and_survives_reset(monkeypatch, healthy):
    monkeypatch.setenv("VALKEY_TIMEOUT_S", "0.2")
    get_config.cache_clear()
    valkey.reset_client()
    beat = valkey.hot_script("presence_heartbeat")
    unknown = ("presence:uid:no-such-uid", *keys.PRESENCE)
    arguments = (0, 0, "", 60, 0, 1, 0, "")
    try:
        assert beat(unknown, arguments) == ["unknown", ""]
        connection = valkey._own_connection()
        pooled = valkey.client().connection_pool.connection_kwargs
        assert connection.socket_timeout == pooled["socket_timeout"] == 0.2
        assert connection.retry.get_retries() == 3

        pauser = redis.Redis.from_url(get_config().valkey_url)
        pauser.execute_command("CLIENT", "PAUSE", 3000, "ALL")
        started = time.monotonic()
        with pytest.raises((redis.TimeoutError, redis.ConnectionError)):
            beat(unknown, arguments)
        # 4 attempts of 0.2 s each with backoffs of at most 0.2 s: not stuck on the pause
        assert time.monotonic() - started < 2.5
        wait_until(lambda: beat(unknown, arguments) == ["unknown", ""], timeout=5)

        # A reset (another server) closes every thread's own connection; the next call
        # builds a fresh one.
        valkey.reset_client()
        assert connection._sock is None
        assert valkey.hot_script("presence_heartbeat")(unknown, arguments) == ["unknown", ""]
        assert valkey._own_connection() is not connection
    finally:
        monkeypatch.delenv("VALKEY_TIMEOUT_S")
        get_config.cache_clear()
        valkey.reset_client()
