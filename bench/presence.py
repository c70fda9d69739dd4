"""Presence benchmark (issue 4): figures, not asserts.

- `heartbeat_vs_noop_ratio`: heartbeat requests/s through the real functions-framework
  server (token verification, the route pipeline, one Valkey round trip) over a no-op
  endpoint of the same server process, same run, same client (bench/noop_target.py);
- `heartbeat_server_cpu_us`, `noop_server_cpu_us`: CPU (user + system) the server process
  spends per heartbeat and per no-op in those phases; `noop_vs_heartbeat_cpu_ratio` is their
  ratio (1.0 = a heartbeat costs the server no more than the no-op), the same comparison as
  `heartbeat_vs_noop_ratio` but steady on a machine other processes share;
- `roundtrip_floor_vs_noop_ratio`: the same server's no-op plus one Valkey PING on a raw
  blocking socket (no auth, no script, no client library) over the no-op — the most any
  endpoint whose answer needs one Valkey round trip can reach in this server model;
  `heartbeat_vs_roundtrip_floor_ratio` is how much of that floor a heartbeat keeps
  (1.0 = nothing of ours costs anything beyond the round trip), and
  `roundtrip_floor_server_cpu_us` the floor's server CPU per request;
- `one_zadd_handler_vs_noop_ratio`: issue 19's reference, a no-auth handler making one ZADD
  through redis-py's connection pool, over the same no-op;
- `asgi_*`: the same comparisons in the other server model, functions-framework's ASGI mode
  (bench/asgi_noop_target.py): its no-op, its round-trip floor and a sketch of a heartbeat
  on the event loop (no route pipeline, so the least an asynchronous heartbeat would cost),
  each with its server CPU per request — what an asynchronous presence function would
  change, measured in the same run;
- `heartbeat_valkey_roundtrips`, `heartbeat_sql_queries`: per heartbeat, counted inside
  the server process over sequential heartbeats (SQL = statements + pool checkouts);
- `sweep_stale_cost_ratio`: time of the sweeper's timeout step for 1,000 lapsed mitras among
  100,000 online over 1,000 lapsed among 1,000 online.

`run(stack)` takes a started devstack LocalStack and returns metric name → number.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from devstack.servers import free_port
from devstack.stack import REPO_ROOT, FunctionServer, LocalStack, _inherited_env
from shared.catalogue import load_catalogue

CLIENT_THREADS = 8
PHASE_S = 3.0
PHASES = 2  # noop, …, heartbeat, noop, …, heartbeat: interleaved so drift hits all alike
MITRAS = 16
COUNTED_BEATS = 300
ONLINE_FAKES = 100_000
STALE = 1_000
SWEEP_REPEATS = 5


def run(stack: LocalStack) -> dict[str, float]:
    _use_stack(stack)
    server = _start_bench_server(stack)
    try:
        tokens = _online_mitras(stack, server.url)
        figures = _throughput(server.url, tokens, server.pid)
        figures.update(_costs_per_heartbeat(server.url, tokens))
    finally:
        server.stop()
    figures.update(_asgi_comparison(stack, tokens))
    figures.update(_sweep_cost())
    return figures


# -- set-up ------------------------------------------------------------------------------


def _use_stack(stack: LocalStack) -> None:
    """Point this process's shared.* clients at the stack (as tests/conftest.py does)."""
    from shared import db, valkey
    from shared.config import get_config
    from shared.domain import settings

    os.environ.update(stack.env())
    get_config.cache_clear()
    db.reset_engine()
    valkey.reset_client()
    settings.forget_cache()


def _start_bench_server(stack: LocalStack, source: str = "noop_target.py") -> FunctionServer:
    env = {**_inherited_env(), **stack.env()}
    env.pop("SETTINGS_CACHE_S", None)  # the production default (5 s), whatever the stack uses
    # Throughput phases beat far faster than a mitra ever does; the in-memory flood guard
    # still runs (its cost is part of the figure) but must not answer 429.
    env["HEARTBEAT_RATE"] = "1000000/second"
    env["THREADS"] = str(load_catalogue()["presence"].sizing.threads)
    log_dir = Path(stack.data_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    server = FunctionServer(
        "bench-presence",
        free_port(),
        ["--source", str(REPO_ROOT / "bench" / source), "--target", "dispatch"],
        env,
        log_dir,
    )
    server.start()
    return server


def _online_mitras(stack: LocalStack, url: str, count: int = MITRAS) -> list[str]:
    """`count` mitras created as operators do, logged in by phone OTP, toggled online."""
    from tests.support.firebase_accounts import FirebaseAccounts

    accounts = FirebaseAccounts(stack.emulator.host_port, stack.emulator.project_id)
    engine = sa.create_engine(stack.database_url)
    tokens = []
    try:
        for _ in range(count):
            phone = "+62877" + "".join(secrets.choice("0123456789") for _ in range(8))
            with engine.begin() as connection:
                connection.execute(
                    sa.text("INSERT INTO mitras (name, phone) VALUES ('Bench Mitra', :p)"),
                    {"p": phone},
                )
            token = accounts.sign_in_with_phone(phone).id_token
            _request(stack.public_url, "POST", "/api/mitra/auth/login", token, expect=200)
            _request(
                url, "PUT", "/api/mitra/presence", token, body={"status": "online"}, expect=200
            )
            tokens.append(token)
    finally:
        engine.dispose()
    return tokens


def _request(
    base: str,
    method: str,
    path: str,
    token: str | None = None,
    *,
    body: Any = None,
    expect: int,
) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(
        method, path, body=json.dumps(body) if body is not None else None, headers=headers
    )
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status != expect:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
    return data


# -- throughput --------------------------------------------------------------------------


def _phase(url: str, method: str, path: str, tokens: list[str], seconds: float = PHASE_S) -> float:
    """Requests/s answered 204 by CLIENT_THREADS keep-alive clients over `seconds`."""
    host, port = url.removeprefix("http://").split(":")
    done = [0] * CLIENT_THREADS
    failed = [0] * CLIENT_THREADS
    start = threading.Barrier(CLIENT_THREADS + 1)
    stop_at = [0.0]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Authorization": f"Bearer {tokens[index % len(tokens)]}", "Content-Length": "0"}
        start.wait()
        while time.perf_counter() < stop_at[0]:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status == 204:
                done[index] += 1
            else:
                failed[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if sum(failed):
        raise RuntimeError(f"{path}: {sum(failed)} requests did not answer 204")
    return sum(done) / elapsed


def _cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by a server process and its children (the
    gunicorn worker), from /proc; 0 where /proc is missing."""
    if pid is None:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += (int(stat[11]) + int(stat[12])) / tick  # utime, stime
        pending += [int(child) for child in children]
    return total


def _measured(url: str, path: str, tokens: list[str], pid: int | None) -> tuple[float, float]:
    """(requests/s, server CPU µs per request) of one phase."""
    before, started = _cpu_s(pid), time.perf_counter()
    rate = _phase(url, "POST", path, tokens)
    elapsed, used = time.perf_counter() - started, _cpu_s(pid) - before
    return rate, used / (rate * elapsed) * 1e6


def _throughput(url: str, tokens: list[str], pid: int | None = None) -> dict[str, float]:
    warm = ("noop", "api-noop", "valkey-round-trip", "one-zadd")
    for path in (*(f"/__bench/{name}" for name in warm), "/api/mitra/presence/heartbeat"):
        _phase(url, "POST", path, tokens)  # warm every path: threads' sockets, first imports
    noop, pipeline, floor, one_zadd, beat = [], [], [], [], []
    noop_cpu, floor_cpu, beat_cpu = [], [], []
    for _ in range(PHASES):
        rate, cpu = _measured(url, "/__bench/noop", tokens, pid)
        noop.append(rate)
        noop_cpu.append(cpu)
        pipeline.append(_phase(url, "POST", "/__bench/api-noop", tokens))
        rate, cpu = _measured(url, "/__bench/valkey-round-trip", tokens, pid)
        floor.append(rate)
        floor_cpu.append(cpu)
        one_zadd.append(_phase(url, "POST", "/__bench/one-zadd", tokens))
        rate, cpu = _measured(url, "/api/mitra/presence/heartbeat", tokens, pid)
        beat.append(rate)
        beat_cpu.append(cpu)
    noop_rps, floor_rps, beat_rps = (statistics.mean(x) for x in (noop, floor, beat))
    figures = {
        "heartbeat_rps": round(beat_rps, 1),
        "noop_rps": round(noop_rps, 1),
        "route_pipeline_noop_rps": round(statistics.mean(pipeline), 1),
        "heartbeat_vs_noop_ratio": round(beat_rps / noop_rps, 3),
        "roundtrip_floor_rps": round(floor_rps, 1),
        "roundtrip_floor_vs_noop_ratio": round(floor_rps / noop_rps, 3),
        "heartbeat_vs_roundtrip_floor_ratio": round(beat_rps / floor_rps, 3),
        "one_zadd_handler_vs_noop_ratio": round(statistics.mean(one_zadd) / noop_rps, 3),
    }
    if pid is not None and statistics.mean(beat_cpu) > 0:
        # The server's own CPU per request: unlike requests/s it hardly moves when other
        # processes share the cores (the bench machine is often shared).
        figures["heartbeat_server_cpu_us"] = round(statistics.mean(beat_cpu), 1)
        figures["noop_server_cpu_us"] = round(statistics.mean(noop_cpu), 1)
        figures["roundtrip_floor_server_cpu_us"] = round(statistics.mean(floor_cpu), 1)
        figures["noop_vs_heartbeat_cpu_ratio"] = round(
            statistics.mean(noop_cpu) / statistics.mean(beat_cpu), 3
        )
    return figures


def _asgi_comparison(stack: LocalStack, tokens: list[str]) -> dict[str, float]:
    """The other server model (bench/asgi_noop_target.py): its no-op, its round-trip floor
    and a sketch of a heartbeat on the event loop, on one uvicorn server, same client."""
    server = _start_bench_server(stack, "asgi_noop_target.py")
    paths = {
        "noop": "/__bench/noop",
        "roundtrip_floor": "/__bench/valkey-round-trip",
        "heartbeat_sketch": "/__bench/heartbeat-sketch",
    }
    rates: dict[str, list[float]] = {name: [] for name in paths}
    cpus: dict[str, list[float]] = {name: [] for name in paths}
    try:
        for path in paths.values():
            _phase(server.url, "POST", path, tokens)  # warm every path
        for _ in range(PHASES):
            for name, path in paths.items():
                rate, used = _measured(server.url, path, tokens, server.pid)
                rates[name].append(rate)
                cpus[name].append(used)
    finally:
        server.stop()
    rps = {name: statistics.mean(values) for name, values in rates.items()}
    cpu = {name: statistics.mean(values) for name, values in cpus.items()}
    return {
        "asgi_noop_rps": round(rps["noop"], 1),
        "asgi_noop_server_cpu_us": round(cpu["noop"], 1),
        "asgi_roundtrip_floor_vs_noop_ratio": round(rps["roundtrip_floor"] / rps["noop"], 3),
        "asgi_roundtrip_floor_server_cpu_us": round(cpu["roundtrip_floor"], 1),
        "asgi_heartbeat_sketch_vs_noop_ratio": round(rps["heartbeat_sketch"] / rps["noop"], 3),
        "asgi_heartbeat_sketch_server_cpu_us": round(cpu["heartbeat_sketch"], 1),
        "asgi_noop_vs_heartbeat_sketch_cpu_ratio": round(cpu["noop"] / cpu["heartbeat_sketch"], 3),
    }


def _costs_per_heartbeat(url: str, tokens: list[str]) -> dict[str, float]:
    from shared import valkey

    def counters() -> dict[str, int]:
        return json.loads(_request(url, "GET", "/__bench/counters", expect=200))

    def commandstats() -> int:
        stats = valkey.client().info("commandstats")
        return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")

    _request(url, "POST", "/__bench/counters", expect=200)
    before, commands_before = counters(), commandstats()
    for i in range(COUNTED_BEATS):
        _request(url, "POST", "/api/mitra/presence/heartbeat", tokens[i % len(tokens)], expect=204)
    after, commands_after = counters(), commandstats()
    return {
        "heartbeat_valkey_roundtrips": round(
            (after["valkey_roundtrips"] - before["valkey_roundtrips"]) / COUNTED_BEATS, 3
        ),
        # INFO commandstats counts the commands a script runs too (GET, ZSCORE, ZADD).
        "heartbeat_valkey_commands": round((commands_after - commands_before) / COUNTED_BEATS, 3),
        "heartbeat_sql_queries": round(
            (
                after["sql_statements"]
                - before["sql_statements"]
                + after["sql_checkouts"]
                - before["sql_checkouts"]
            )
            / COUNTED_BEATS,
            3,
        ),
    }


# -- sweeper cost ------------------------------------------------------------------------


def _sweep_cost() -> dict[str, float]:
    from shared import db, valkey
    from shared.clock import now_ms
    from shared.domain import presence, settings
    from shared.store.live.keys import HEARTBEATS as HEARTBEATS_KEY

    prefix = "+62866" + "".join(secrets.choice("0123456789") for _ in range(3))
    with db.transaction() as connection:
        ids = [
            str(row.id)
            for row in connection.execute(
                sa.text(
                    "INSERT INTO mitras (name, phone)"
                    " SELECT 'Bench Stale ' || n, :prefix || lpad(n::text, 5, '0')"
                    " FROM generate_series(1, :count) AS n RETURNING id"
                ),
                {"prefix": prefix, "count": STALE},
            )
        ]
    fakes = [str(uuid.uuid4()) for _ in range(ONLINE_FAKES)]
    client = valkey.client()

    def seed(with_fakes: bool) -> None:
        with db.transaction() as connection:
            connection.execute(
                sa.text(
                    "UPDATE mitras SET is_online = true, online_since = now()"
                    " WHERE id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": ids},
            )
        now = now_ms()
        lapsed = now - (settings.current().heartbeat_timeout_s + 10) * 1000
        pipe = client.pipeline(transaction=False)
        pipe.zadd(HEARTBEATS_KEY, dict.fromkeys(ids, lapsed))
        for first in range(0, len(fakes), 10_000):
            chunk = fakes[first : first + 10_000]
            if with_fakes:
                pipe.zadd(HEARTBEATS_KEY, dict.fromkeys(chunk, now + 3_600_000))
            else:
                pipe.zrem(HEARTBEATS_KEY, *chunk)
        pipe.execute()

    def timed() -> float:
        started = time.perf_counter()
        counts = presence.expire_lapsed()
        elapsed = (time.perf_counter() - started) * 1000
        if counts["expired"] < STALE:
            raise RuntimeError(f"expected {STALE} expired, got {counts}")
        return elapsed

    among_many: list[float] = []
    among_few: list[float] = []
    try:
        for repeat in range(SWEEP_REPEATS):
            # Alternate which goes first, so table bloat and cache warmth favour neither.
            for with_fakes in (True, False) if repeat % 2 else (False, True):
                seed(with_fakes)
                (among_many if with_fakes else among_few).append(timed())
    finally:
        pipe = client.pipeline(transaction=False)
        for first in range(0, len(fakes), 10_000):
            pipe.zrem(HEARTBEATS_KEY, *fakes[first : first + 10_000])
        pipe.execute()
    many, few = statistics.median(among_many), statistics.median(among_few)
    return {
        "sweep_1k_stale_among_100k_ms": round(many, 1),
        "sweep_1k_stale_among_1k_ms": round(few, 1),
        "sweep_stale_cost_ratio": round(many / few, 3),
    }
