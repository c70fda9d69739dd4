"""Pairing benchmarks against a running local stack. (Offer latency on real streams of 200
and 1,000 connected mitras is bench/streams.py's.)

- claim_*_vs_ping_ratio: the claim script's round trip over a plain PING's, same connection
  pool, same process (a machine-independent ratio).
- blast_roundtrips_*: Valkey commands sent by any client of the whole stack (MONITOR; script-
  internal commands excluded) for one POST that blasts to 10 / 1000 mitras, including each
  instance's hub delivering the offer. It must not grow with the number of mitras. LISTENERS
  of the offered mitras hold real streams; the rest are offered without one.
- blast_script_ms_{1000,5000,50000}: one blast.lua call with that many available mitras
  (median of BLAST_REPEATS, round trip from this process), ms; and
  blast_script_valkey_ms_*: the part Valkey itself spends executing it (INFO commandstats),
  during which it serves no other client. The script counts the maintained set
  `presence:available` (ZCOUNT, O(log M)), so neither may grow with the number of mitras.
"""

from __future__ import annotations

import queue
import statistics
import threading
import time
import uuid
from typing import Any

import httpx
import redis
import sqlalchemy as sa
from httpx_sse import connect_sse

from devstack.stack import LocalStack
from tests.support.firebase_accounts import FirebaseAccounts

LISTENERS = 10
CLAIM_SAMPLES = 2000
BLAST_SIZES = (1_000, 5_000, 50_000)
BLAST_REPEATS = 5
HEARTBEATS = "presence:heartbeats"
AVAILABLE = "presence:available"


def _reset_process_clients() -> None:
    from shared import db, valkey
    from shared.config import get_config
    from shared.domain import settings

    get_config.cache_clear()
    db.reset_engine()
    valkey.reset_client()
    settings.forget_cache()


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _phone() -> str:
    return "+62813" + str(uuid.uuid4().int)[:8]


def _listener(http: httpx.Client, accounts: FirebaseAccounts, engine: sa.Engine) -> str:
    phone = _phone()
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO mitras (name, phone) VALUES ('Bench Mitra', :p)"), {"p": phone}
        )
    account = accounts.sign_in_with_phone(phone)
    body = http.post("/api/mitra/auth/login", headers=_bearer(account.id_token)).json()
    return f"{body['id']}|{account.id_token}"


def _bulk_mitras(engine: sa.Engine, count: int) -> list[str]:
    with engine.begin() as connection:
        return [
            str(row)
            for row in connection.execute(
                sa.text(
                    "INSERT INTO mitras (name, phone) SELECT 'Bulk Mitra', '+6285' ||"
                    " lpad((floor(random() * 1e5))::bigint::text, 5, '0') || lpad(g::text, 4, '0')"
                    " FROM generate_series(1, :n) g RETURNING id"
                ),
                {"n": count},
            ).scalars()
        ]


def _client(http: httpx.Client, accounts: FirebaseAccounts, engine: sa.Engine) -> dict[str, str]:
    account = accounts.sign_in_anonymously()
    body = http.post(
        "/api/client/auth/register",
        json={"display_name": "Bench Klien"},
        headers=_bearer(account.id_token),
    ).json()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference)"
                " VALUES (:c, 'credit', 'purchase', 100, :r)"
            ),
            {"c": body["id"], "r": f"bench:{uuid.uuid4()}"},
        )
    return _bearer(account.id_token)


class Streams:
    """Open SSE streams for the listener mitras; every offer lands in one queue."""

    def __init__(self, base_url: str, tokens: list[str]) -> None:
        self.offers: queue.Queue[tuple[float, str]] = queue.Queue()
        timeout = httpx.Timeout(30, read=120)  # keep-alives arrive every 15 s
        self._clients = [httpx.Client(base_url=base_url, timeout=timeout) for _ in tokens]
        ready = threading.Semaphore(0)
        for http, token in zip(self._clients, tokens, strict=True):
            threading.Thread(target=self._read, args=(http, token, ready), daemon=True).start()
        for _ in tokens:
            ready.acquire(timeout=15)

    def _read(self, http: httpx.Client, token: str, ready: threading.Semaphore) -> None:
        try:
            with connect_sse(http, "GET", "/api/mitra/events", headers=_bearer(token)) as source:
                ready.release()
                for event in source.iter_sse():
                    if event.event == "pairing.offer":
                        self.offers.put((time.perf_counter(), event.json()["data"]["request_id"]))
        except httpx.HTTPError:
            pass

    def wait_for(self, request_id: str, count: int, timeout: float = 10.0) -> list[float]:
        arrivals: list[float] = []
        deadline = time.monotonic() + timeout
        while len(arrivals) < count and time.monotonic() < deadline:
            try:
                at, offered = self.offers.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if offered == request_id:
                arrivals.append(at)
        return arrivals

    def close(self) -> None:
        for http in self._clients:
            http.close()


def _put_online(valkey: redis.Redis, ids: list[str]) -> None:
    """Online and below capacity (no load), as presence leaves a mitra that toggled on."""
    now_ms = int(time.time() * 1000)
    valkey.zadd(HEARTBEATS, dict.fromkeys(ids, now_ms))
    valkey.zadd(AVAILABLE, dict.fromkeys(ids, now_ms))


def _take_offline(valkey: redis.Redis, ids: list[str]) -> None:
    valkey.zrem(HEARTBEATS, *ids)
    valkey.zrem(AVAILABLE, *ids)


def _claim_vs_ping(valkey: redis.Redis) -> dict[str, float]:
    from shared import valkey as shared_valkey

    claim = shared_valkey.script("claim")
    mitra = f"bench-{uuid.uuid4()}"
    valkey.zadd(HEARTBEATS, {mitra: int(time.time() * 1000) + 3_600_000})
    valkey.hset("presence:capacity", mitra, 10**9)
    claims, pings = [], []
    for i in range(CLAIM_SAMPLES):
        key = f"pairing:req:bench-{i}"
        valkey.hset(key, mapping={"status": "searching", "expires_at": 2**50, "exclude": ""})
        now_ms = int(time.time() * 1000)
        t0 = time.perf_counter()
        code = claim(
            keys=[
                key,
                f"{key}:declined",
                HEARTBEATS,
                "bench:claim:available",
                "presence:load",
                "presence:capacity",
            ],
            args=[mitra, now_ms, now_ms - 60_000, 3],
        )
        t1 = time.perf_counter()
        valkey.ping()
        t2 = time.perf_counter()
        assert code == "claimed", code
        claims.append(t1 - t0)
        pings.append(t2 - t1)
        valkey.delete(key)
    valkey.zrem(HEARTBEATS, mitra)
    valkey.delete("bench:claim:available")
    valkey.hdel("presence:capacity", mitra)
    valkey.hdel("presence:load", mitra)
    return {
        "claim_p50_vs_ping_ratio": round(statistics.median(claims) / statistics.median(pings), 2),
        "claim_p99_vs_ping_ratio": round(_percentile(claims, 0.99) / _percentile(pings, 0.99), 2),
    }


def _blast_script_cost(valkey: redis.Redis) -> dict[str, float]:
    """Median ms of one blast.lua call (round trip) with N available mitras, on private keys
    so nothing else in the stack sees them."""
    from shared import valkey as shared_valkey

    blast = shared_valkey.script("blast")
    available, searching = "bench:blast:available", "bench:blast:searching"
    results: dict[str, float] = {}
    try:
        for size in BLAST_SIZES:
            now_ms = int(time.time() * 1000)
            ids = [str(uuid.uuid4()) for _ in range(size)]
            valkey.delete(available)
            for first in range(0, size, 10_000):
                valkey.zadd(available, dict.fromkeys(ids[first : first + 10_000], now_ms))
            timings = []
            busy_before = _evalsha_usec(valkey)
            for _ in range(BLAST_REPEATS):
                request_id = str(uuid.uuid4())
                key = f"bench:blast:req:{request_id}"
                started = time.perf_counter()
                offered = blast(
                    keys=[key, searching, available],
                    args=[
                        now_ms - 60_000,
                        "bench-client",
                        now_ms,
                        now_ms + 60_000,
                        120_000,
                        request_id,
                        now_ms,
                        "",
                    ],
                )
                timings.append((time.perf_counter() - started) * 1000)
                assert offered == size, offered
                valkey.delete(key)
            results[f"blast_script_ms_{size}"] = round(statistics.median(timings), 2)
            busy = (_evalsha_usec(valkey) - busy_before) / BLAST_REPEATS / 1000
            results[f"blast_script_valkey_ms_{size}"] = round(busy, 2)
    finally:
        valkey.delete(available, searching)
    return results


def _evalsha_usec(valkey: redis.Redis) -> int:
    """Valkey's own time spent in EVALSHA since start, µs (all clients; the bench is alone)."""
    return int(valkey.info("commandstats").get("cmdstat_evalsha", {}).get("usec", 0))


def _roundtrips_of_one_blast(
    valkey_url: str, http: httpx.Client, client: dict[str, str], streams: Streams
) -> int:
    """Commands sent to Valkey by any client while one POST blasts and the offer reaches a
    stream; commands run inside scripts are not round trips and are left out."""
    monitor_client = redis.Redis.from_url(valkey_url, decode_responses=True)
    seen: list[dict[str, Any]] = []
    started = threading.Event()
    marker = f"bench-monitor-stop-{uuid.uuid4().hex}"

    def watch() -> None:
        with monitor_client.monitor() as monitor:
            started.set()
            while True:
                command = monitor.next_command()
                if marker in command.get("command", ""):
                    return
                seen.append(command)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    started.wait(5)
    time.sleep(0.2)
    request_id = http.post("/api/client/pairing-requests", headers=client).json()["id"]
    streams.wait_for(request_id, LISTENERS)
    time.sleep(0.2)
    redis.Redis.from_url(valkey_url).echo(marker)  # wakes the monitor and ends it
    thread.join(timeout=5)
    monitor_client.close()
    http.delete(f"/api/client/pairing-requests/{request_id}", headers=client)
    return sum(1 for command in seen if command.get("client_type") != "lua")


def _warm_up(
    valkey: redis.Redis,
    http: httpx.Client,
    client: dict[str, str],
    streams: Streams,
    ids: list[str],
) -> None:
    """One unmeasured blast and cancel: the first use of each script in a process loads it
    (NOSCRIPT, then EVAL), which is not a per-blast cost."""
    _put_online(valkey, ids)
    request_id = http.post("/api/client/pairing-requests", headers=client).json()["id"]
    streams.wait_for(request_id, LISTENERS)
    http.delete(f"/api/client/pairing-requests/{request_id}", headers=client)
    _take_offline(valkey, ids)


def run(stack: LocalStack) -> dict[str, float]:
    _reset_process_clients()
    from shared import valkey as shared_valkey

    valkey = shared_valkey.client()
    engine = sa.create_engine(stack.database_url)
    accounts = FirebaseAccounts(stack.emulator.host_port, stack.emulator.project_id)
    results: dict[str, float] = {}
    with httpx.Client(base_url=stack.public_url, timeout=30) as http:
        listeners = [_listener(http, accounts, engine).split("|") for _ in range(LISTENERS)]
        listener_ids = [mitra_id for mitra_id, _ in listeners]
        bulk = _bulk_mitras(engine, 1000 - LISTENERS)
        client = _client(http, accounts, engine)
        streams = Streams(stack.public_url, [token for _, token in listeners])
        try:
            _warm_up(valkey, http, client, streams, listener_ids)
            for size in (10, 1000):
                online = listener_ids + bulk[: size - LISTENERS]
                _put_online(valkey, online)
                results[f"blast_roundtrips_{size}"] = _roundtrips_of_one_blast(
                    stack.valkey_url, http, client, streams
                )
                _take_offline(valkey, online)
        finally:
            streams.close()
    results.update(_claim_vs_ping(valkey))
    results.update(_blast_script_cost(valkey))
    engine.dispose()
    return results
