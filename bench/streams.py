"""Event-stream benchmark (scale.md point 2; issue 5's offer latency; issue 19's fan-out), on
real SSE streams.

200, then 1,000 mitras (rows inserted as operators create them, signed in by phone OTP on
the Auth emulator, logged in) each hold an open `GET /api/mitra/events` stream on an
`events` function server started here exactly as Cloud Run starts it — functions-framework
with `--target events`, which serves the async entry point in ASGI mode (gunicorn's arbiter
and one uvicorn worker: one process tree, i.e. one Cloud Run instance) — and are online in
presence (a fresh score in `presence:heartbeats` and `presence:available`). A client's POST
goes to the stack's own public gateway, so every offer travels as a production one does
between instances: blast on one, Valkey broadcast, the streams' hub on the other. 1,000
streams fill the server as Cloud Run's concurrency of 1,000 (catalogue) fills an instance.

- offer_latency_p50/p99_ms_{200,1000}: from just before the POST to the `pairing.offer`
  frame read on EACH stream, over all arrivals of BLASTS requests (each cancelled once its
  offers arrived, so the mitras stay available), ms. One asyncio process on the same
  machine reads all the streams, so a frame's timestamp includes its wait in that loop; it
  reads raw sockets with a regex because httpx + httpx-sse spend ≈ 0.2 ms of reader CPU per
  frame, which at 1,000 streams measured the reader rather than the server;
- streams_per_instance_measured: streams held open at once on the stream server with every
  one of them receiving every offer and every close;
- stream_server_answers_beyond_1000: 1 if the stream server answers one more request within
  PROBE_S while 1,000 streams are open, else 0;
- stream_server_rss_mb_idle / _200 / _1000, stream_rss_kb_per_stream: VmRSS of the stream server's
  process tree (gunicorn arbiter + uvicorn worker) before the streams and with 1,000 open;
- stream_rss_kb_per_stream_marginal: (VmRSS at 1,000 − VmRSS at 200) / 800, both after
  that size's blasts: what one more stream costs once the server is warm, without the first
  requests' one-off growth (pools, caches, the blocking threads' stacks) that
  `stream_rss_kb_per_stream` spreads over the streams;
- stream_server_rss_mb_warm, stream_rss_kb_per_stream_warm: the same per-stream figure from
  a warm baseline — VmRSS after WARM_UP streams were opened (OPEN_CONCURRENCY at once, as
  the measured ones open) and closed again — i.e. (VmRSS at 1,000 − warm VmRSS) / 1,000.
  `stream_rss_kb_per_stream` keeps its meaning (from a server that has answered nothing),
  but spreads the first requests' one-off growth (≈ 50 MB on this stack: lazy imports of
  SQLAlchemy, pg8000, firebase-admin and google-auth, the pools, the blocking threads, the
  allocator's high-water from 50 streams opening at once) over the 1,000 streams; an
  instance pays that once whatever its streams. The warm figure is what each stream costs
  on an instance that has served streams before, over the whole range 0 → 1,000 (the
  marginal one measures 200 → 1,000 only);
- stream_server_threads_1000: threads of that process tree with 1,000 streams open (a
  stream holds no thread: the loop, the bounded blocking pool, the runtime's own);
- stream_server_cpu_us_per_frame_{200,1000}: the stream server's CPU time (all threads) over
  the blasts at that size, per frame delivered (one offer and one close per stream per
  request): the cost of fanning a broadcast out to local streams, µs;
- stream_server_cpu_ms_per_s_quiet_{200,1000}: the stream server's CPU per second over one
  STREAM_RECHECK_S interval (after another, so every stream is in its steady re-check
  rhythm) with that many streams open and no traffic — holding streams (each re-checks its caller
  every STREAM_RECHECK_S with one SQL read, keep-alives, the hub's mark renewal), ms/s;
- stream_server_cpu_us_per_frame_net_{200,1000}: the per-frame figure without that holding
  cost over the blasts' duration (both measured in this run): the fan-out alone, µs;
- valkey_connected_clients_1000: Valkey's `connected_clients` with 1,000 streams open (every
  process of the stack and this one included): streams do not hold connections of their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import time
import uuid
from collections import defaultdict
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import redis
import sqlalchemy as sa

from devstack.servers import free_port
from devstack.stack import REPO_ROOT, FunctionServer, LocalStack, _inherited_env
from shared.catalogue import load_catalogue
from shared.config import get_config

SIZES = (200, 1000)
BLASTS = 10
SETUP_CONCURRENCY = 32  # sign-ins and logins in flight
OPEN_CONCURRENCY = 50  # streams opening at once (each reads PostgreSQL through a small pool)
ARRIVAL_TIMEOUT_S = 30.0
OPEN_TIMEOUT_S = 30.0
PROBE_S = 3.0
WARM_UP = 100  # streams opened and closed before the warm baseline
WARM_SETTLE_S = 3.0  # for the server to notice the warm-up streams closed (its tick: ≤ 1 s)
HEARTBEATS = "presence:heartbeats"
AVAILABLE = "presence:available"
API_KEY = "fake-api-key"  # the emulator accepts any key
IDENTITY = "/identitytoolkit.googleapis.com/v1"
WATCHED = ("pairing.offer", "pairing.offer_closed")
FRAME = re.compile(rb"^event: (\S+)\ndata: (.*)$", re.MULTILINE)


def run(stack: LocalStack) -> dict[str, float]:
    stream_server = _start_stream_server(stack)
    try:
        return asyncio.run(_measure(stack, stream_server))
    finally:
        stream_server.stop()


def _start_stream_server(stack: LocalStack) -> FunctionServer:
    """The events function as its own server, fresh, so its memory and its connections owe
    nothing to earlier benchmarks; started as the stack (and Cloud Run) start it."""
    entry = load_catalogue()["events"]
    env = {
        **_inherited_env(),
        **stack.env(),
        "THREADS": str(entry.sizing.threads),
        "DB_POOL_SIZE": str(entry.db_pool["size"]),
        "DB_POOL_OVERFLOW": str(entry.db_pool["overflow"]),
    }
    log_dir = Path(stack.data_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        "--source",
        str(REPO_ROOT / "functions" / entry.source / "main.py"),
        "--target",
        entry.entry_point,
    ]
    server = FunctionServer("bench-streams", free_port(), argv, env, log_dir)
    server.start()
    return server


async def _measure(stack: LocalStack, server: FunctionServer) -> dict[str, float]:
    engine = sa.create_engine(stack.database_url)
    valkey = redis.Redis.from_url(stack.valkey_url, decode_responses=True)
    stream_server = server.pid
    assert stream_server is not None
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=SETUP_CONCURRENCY)
    results: dict[str, float] = {}
    async with (
        httpx.AsyncClient(base_url=stack.public_url, timeout=30, limits=limits) as sender,
        httpx.AsyncClient(
            base_url=f"http://{stack.emulator.host_port}", timeout=30, limits=limits
        ) as emulator,
    ):
        mitras = _insert_mitras(engine, max(SIZES))
        tokens = await _phone_tokens(emulator, stack.emulator.project_id, list(mitras.values()))
        ids = await _log_in(sender, tokens, mitras)
        rss_idle = _rss_kb(stream_server)
        results["stream_server_rss_mb_idle"] = round(rss_idle / 1024, 1)
        rss_warm = await _warm_up(server.url, stream_server, list(tokens.values())[:WARM_UP])
        results["stream_server_rss_mb_warm"] = round(rss_warm / 1024, 1)
        streams = Streams(server.url)
        try:
            opened = 0
            rss: dict[int, int] = {}
            for size in SIZES:
                await streams.open([tokens[phone] for phone in list(mitras.values())[opened:size]])
                opened = size
                online = ids[:size]
                # A client per size: BLASTS + 1 requests each stay under the per-client
                # PAIRING_REQUEST_RATE (20 a minute) however fast the blasts run.
                client = await _paying_client(sender, emulator, engine)
                # With the streams open and no traffic: the per-second cost of holding them
                # (re-checks, keep-alives, marks), which the blasts below also pay. Measured
                # once every stream is past its first re-check (spread over the first
                # interval after it opened), over one whole interval.
                recheck_s = get_config().stream_recheck_s
                await asyncio.sleep(recheck_s)
                quiet_before, quiet_at = _cpu_s(stream_server), time.monotonic()
                await asyncio.sleep(recheck_s)
                quiet_rate = (_cpu_s(stream_server) - quiet_before) / (time.monotonic() - quiet_at)
                results[f"stream_server_cpu_ms_per_s_quiet_{size}"] = round(quiet_rate * 1e3, 2)
                cpu_before, started = _cpu_s(stream_server), time.monotonic()
                latencies = await _blasts(sender, client, streams, valkey, online)
                cpu = _cpu_s(stream_server) - cpu_before
                frames = 2 * size * (BLASTS + 1)  # an offer and its close per stream per blast
                results[f"stream_server_cpu_us_per_frame_{size}"] = round(cpu / frames * 1e6, 1)
                held = quiet_rate * (time.monotonic() - started)
                results[f"stream_server_cpu_us_per_frame_net_{size}"] = round(
                    max(0.0, cpu - held) / frames * 1e6, 1
                )
                results[f"offer_latency_p50_ms_{size}"] = round(_percentile(latencies, 0.5), 2)
                results[f"offer_latency_p99_ms_{size}"] = round(_percentile(latencies, 0.99), 2)
                rss[size] = _rss_kb(stream_server)
            results["streams_per_instance_measured"] = streams.open_count()
            rss_1000 = _rss_kb(stream_server)
            results["stream_server_rss_mb_1000"] = round(rss_1000 / 1024, 1)
            results["stream_rss_kb_per_stream"] = round((rss_1000 - rss_idle) / max(SIZES), 1)
            results["stream_rss_kb_per_stream_warm"] = round((rss_1000 - rss_warm) / max(SIZES), 1)
            low, high = min(SIZES), max(SIZES)
            results["stream_server_rss_mb_200"] = round(rss[low] / 1024, 1)
            results["stream_rss_kb_per_stream_marginal"] = round(
                (rss[high] - rss[low]) / (high - low), 1
            )
            results["stream_server_threads_1000"] = _threads(stream_server)
            results["valkey_connected_clients_1000"] = int(
                valkey.info("clients")["connected_clients"]
            )
            results["stream_server_answers_beyond_1000"] = await _answers(server.url)
        finally:
            _take_offline(valkey, list(mitras))
            await streams.close()
    valkey.close()
    engine.dispose()
    return results


async def _warm_up(base_url: str, pid: int, tokens: list[str]) -> int:
    """Open a stream per token (as the measured streams open, OPEN_CONCURRENCY at once),
    close them all, let the server notice, and return its VmRSS (KiB): the baseline of a
    server that has served streams before — its first requests' imports, pools, blocking
    threads and allocator high-water already paid."""
    warm = Streams(base_url)
    await warm.open(tokens)
    await warm.close()
    await asyncio.sleep(WARM_SETTLE_S)
    return _rss_kb(pid)


# -- set-up ------------------------------------------------------------------------------


def _insert_mitras(engine: sa.Engine, count: int) -> dict[str, str]:
    """`count` mitra rows with fresh phone numbers: id → phone, in insertion order."""
    prefix = "+62814" + "".join(secrets.choice("0123456789") for _ in range(3))
    with engine.begin() as connection:
        rows = connection.execute(
            sa.text(
                "INSERT INTO mitras (name, phone)"
                " SELECT 'Bench Stream ' || g, :prefix || lpad(g::text, 4, '0')"
                " FROM generate_series(1, :n) g ORDER BY g RETURNING id, phone"
            ),
            {"prefix": prefix, "n": count},
        ).all()
    return {str(row.id): row.phone for row in rows}


async def _bounded(calls: list[Any], limit: int = SETUP_CONCURRENCY) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(call) for call in calls))


async def _identity(emulator: httpx.AsyncClient, method: str, body: dict[str, Any]) -> Any:
    response = await emulator.post(f"{IDENTITY}/{method}", params={"key": API_KEY}, json=body)
    response.raise_for_status()
    return response.json()


async def _phone_tokens(
    emulator: httpx.AsyncClient, project_id: str, phones: list[str]
) -> dict[str, str]:
    """Phone OTP sign-in, as the app does it, for many numbers: send every code, read the
    emulator's "SMS" inbox once, confirm every code. phone → ID token."""
    sent = await _bounded(
        [_identity(emulator, "accounts:sendVerificationCode", {"phoneNumber": p}) for p in phones]
    )
    inbox = await emulator.get(f"/emulator/v1/projects/{project_id}/verificationCodes")
    inbox.raise_for_status()
    codes = {c["sessionInfo"]: c["code"] for c in inbox.json().get("verificationCodes", [])}
    signed_in = await _bounded(
        [
            _identity(
                emulator,
                "accounts:signInWithPhoneNumber",
                {"sessionInfo": s["sessionInfo"], "code": codes[s["sessionInfo"]]},
            )
            for s in sent
        ]
    )
    return {phone: body["idToken"] for phone, body in zip(phones, signed_in, strict=True)}


async def _log_in(
    sender: httpx.AsyncClient, tokens: dict[str, str], mitras: dict[str, str]
) -> list[str]:
    """`POST /api/mitra/auth/login` for every mitra; their ids in insertion order."""

    async def login(phone: str) -> str:
        response = await sender.post("/api/mitra/auth/login", headers=_bearer(tokens[phone]))
        response.raise_for_status()
        return str(response.json()["id"])

    ids = await _bounded([login(phone) for phone in mitras.values()])
    if ids != list(mitras):
        raise RuntimeError("mitra login returned other ids than the rows inserted")
    return ids


async def _paying_client(
    sender: httpx.AsyncClient, emulator: httpx.AsyncClient, engine: sa.Engine
) -> dict[str, str]:
    token = (await _identity(emulator, "accounts:signUp", {"returnSecureToken": True}))["idToken"]
    response = await sender.post(
        "/api/client/auth/register", json={"display_name": "Bench Klien"}, headers=_bearer(token)
    )
    response.raise_for_status()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference)"
                " VALUES (:c, 'credit', 'purchase', 1000, :r)"
            ),
            {"c": response.json()["id"], "r": f"bench:{uuid.uuid4()}"},
        )
    return _bearer(token)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- streams -----------------------------------------------------------------------------


class Streams:
    """Open mitra event streams, read by tasks of one event loop; every offer and offer
    close is timestamped the moment its frame is read."""

    def __init__(self, base_url: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self._host, self._port = host, int(port)
        self._tasks: list[asyncio.Task[None]] = []
        self._live: set[asyncio.Task[None]] = set()
        self.arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)

    async def open(self, tokens: list[str]) -> None:
        """Open one stream per token; return once every one has delivered its snapshot."""
        gate = asyncio.Semaphore(OPEN_CONCURRENCY)

        async def start(token: str) -> None:
            async with gate:
                ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                task = asyncio.create_task(self._hold(token, ready))
                self._tasks.append(task)
                await ready

        await asyncio.gather(*(start(token) for token in tokens))

    async def _hold(self, token: str, ready: asyncio.Future[None]) -> None:
        task = asyncio.current_task()
        assert task is not None
        writer = None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), OPEN_TIMEOUT_S
            )
            writer.write(
                f"GET /api/mitra/events HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
                f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), OPEN_TIMEOUT_S)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
            buffer = b""
            while chunk := await reader.read(65536):
                at = time.perf_counter()
                # Chunked framing lines ("\r\n<size>\r\n") land between frames and never
                # hold a blank line, so frames split cleanly on it.
                frames = (buffer + chunk).split(b"\n\n")
                buffer = frames.pop()
                for frame in frames:
                    self._read(frame, at, task, ready)
        except (OSError, RuntimeError, asyncio.IncompleteReadError, TimeoutError) as exc:
            if not ready.done():
                ready.set_exception(RuntimeError(f"a stream did not open: {exc!r}"))
        finally:
            self._live.discard(task)
            if writer is not None:
                writer.close()

    def _read(
        self, frame: bytes, at: float, task: asyncio.Task[None], ready: asyncio.Future[None]
    ) -> None:
        event = FRAME.search(frame)
        if event is None:
            return
        kind, data = event.group(1).decode(), event.group(2)
        if kind == "snapshot" and not ready.done():
            self._live.add(task)
            ready.set_result(None)
        elif kind in WATCHED:
            self.arrivals[(kind, json.loads(data)["data"]["request_id"])].append(at)

    def open_count(self) -> int:
        return len(self._live)

    async def wait_for(self, kind: str, request_id: str, count: int) -> list[float]:
        """The arrival times of `kind` for `request_id` once `count` streams have it."""
        deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
        while len(self.arrivals[(kind, request_id)]) < count:
            if time.monotonic() > deadline:
                got = len(self.arrivals[(kind, request_id)])
                raise RuntimeError(f"{kind}: {got} of {count} streams got {request_id}")
            await asyncio.sleep(0.005)
        return self.arrivals.pop((kind, request_id))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task


def _put_online(valkey: redis.Redis, ids: list[str]) -> None:
    """Online and below capacity (no load), as presence leaves a mitra that toggled on."""
    now_ms = int(time.time() * 1000)
    valkey.zadd(HEARTBEATS, dict.fromkeys(ids, now_ms))
    valkey.zadd(AVAILABLE, dict.fromkeys(ids, now_ms))


def _take_offline(valkey: redis.Redis, ids: list[str]) -> None:
    valkey.zrem(HEARTBEATS, *ids)
    valkey.zrem(AVAILABLE, *ids)


async def _blasts(
    sender: httpx.AsyncClient,
    client: dict[str, str],
    streams: Streams,
    valkey: redis.Redis,
    online: list[str],
) -> list[float]:
    """BLASTS requests (after one unmeasured warm-up): ms from just before each POST to the
    offer on each of the `online` mitras' streams."""
    latencies: list[float] = []
    for blast in range(BLASTS + 1):
        _put_online(valkey, online)  # fresh beats: setup may outlast the heartbeat timeout
        started = time.perf_counter()
        response = await sender.post("/api/client/pairing-requests", headers=client)
        if response.status_code != 201 or response.json()["status"] != "searching":
            raise RuntimeError(f"POST pairing-requests: {response.status_code} {response.text}")
        request_id = response.json()["id"]
        arrivals = await streams.wait_for("pairing.offer", request_id, len(online))
        cancelled = await sender.delete(
            f"/api/client/pairing-requests/{request_id}", headers=client
        )
        cancelled.raise_for_status()
        # Every stream also sees the close: the next blast starts on quiet streams.
        await streams.wait_for("pairing.offer_closed", request_id, len(online))
        if blast:
            latencies += [(at - started) * 1000 for at in arrivals]
    _take_offline(valkey, online)
    return latencies


async def _answers(base_url: str) -> float:
    """1.0 if the server answers one more request within PROBE_S, else 0.0."""
    async with httpx.AsyncClient(base_url=base_url, timeout=PROBE_S) as probe:
        try:
            await probe.get("/__ready")
        except httpx.TimeoutException:
            return 0.0
    return 1.0


# -- figures -----------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (gunicorn's arbiter and its uvicorn worker)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            pending += [int(c) for c in (task / "children").read_text(encoding="utf-8").split()]
    return found


def _rss_kb(pid: int) -> int:
    """VmRSS of the process tree, KiB."""
    total = 0
    for member in _tree(pid):
        status = Path(f"/proc/{member}/status").read_text(encoding="utf-8")
        total += next(int(line.split()[1]) for line in status.splitlines() if line[:6] == "VmRSS:")
    return total


def _threads(pid: int) -> int:
    """Threads of the process tree."""
    return sum(len(list(Path(f"/proc/{member}/task").iterdir())) for member in _tree(pid))


def _cpu_s(pid: int) -> float:
    """User + system CPU time of the process tree (all threads), seconds."""
    ticks = 0
    for member in _tree(pid):
        stat = Path(f"/proc/{member}/stat").read_text(encoding="utf-8")
        fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
