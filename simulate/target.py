"""The design-target profile (`python -m simulate --profile design-target [--scale 0.x]`):
scale.md's 5,000 mitras online and 2,000 clients with the app open, ≈ 3 new pairing requests
a second, on a stack where every public function runs as several processes behind the local
balancer — or `--scale` of all three, to run a share of the target on a small machine.

One asyncio process drives everyone, so the load generator costs little next to what it
measures: API calls on a pooled httpx.AsyncClient, event streams on raw sockets (one
connection each, frames parsed by hand; httpx-sse costs ≈ 0.2 ms per frame). Streams are
reached through the balancer by path (`/api/mitra/events`, `/api/client/events`), whichever
function serves them.

People, as the apps behave:
- a mitra goes online, holds its event stream open, heartbeats every `heartbeat_interval_s`
  of the product settings (the real cadence; the first beat at a random phase), answers an
  offer after a human delay with probability `accepters / M` (so each request sees about
  `accepters` accepts race, however many mitras there are) or declines it with probability
  `decliners / M`, drops the card when `pairing.offer_closed` arrives first, answers some
  chat messages, and a few drop their connection once (stream closed, beats stopped until
  the server noticed) and come back;
- a client holds its event stream open the whole run (searching or in session, the app is
  open); new requests arrive as a Poisson process of rate R, each taken by an idle client,
  which learns the outcome on its stream, sometimes cancels first, chats at a human cadence
  in its session and ends it. Sessions consume credit from a purchase row made at sign-up,
  as the default profile does.

Accounts are made as fast as the real paths allow: mitra rows inserted in one statement
(operators create them), every phone OTP code asked for concurrently, the emulator's "SMS"
inbox read once, every code confirmed concurrently, then `POST /api/mitra/auth/login`;
clients sign up anonymously and register, concurrently. Every token is a real emulator ID
token that the functions verify as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa

from simulate.chat import ChatLedger
from simulate.metrics import Metrics

DESIGN_MITRAS, DESIGN_CLIENTS, DESIGN_RATE = 5000, 2000, 3.0
SETUP_CONCURRENCY = 48
OPEN_CONCURRENCY = 48
API_KEY = "fake-api-key"  # the emulator accepts any key
IDENTITY = "/identitytoolkit.googleapis.com/v1"
TEXT = "Aku dengar kamu. Ceritakan lagi."
T = TypeVar("T")


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


@dataclass(frozen=True)
class Target:
    mitras: int
    clients: int
    rate: float  # new pairing requests per second
    duration_s: float
    accepters: float = 5.0
    decliners: float = 1.0
    think_s: tuple[float, float] = (0.6, 3.0)
    drop_share: float = 0.02
    cancel_share: float = 0.05
    patience_s: tuple[float, float] = (0.3, 2.5)
    session_s: tuple[float, float] = (40.0, 150.0)
    typing_s: tuple[float, float] = (8.0, 25.0)
    reply_share: float = 0.5

    @classmethod
    def scaled(cls, scale: float, duration_s: float) -> Target:
        return cls(
            mitras=max(2, round(DESIGN_MITRAS * scale)),
            clients=max(2, round(DESIGN_CLIENTS * scale)),
            rate=DESIGN_RATE * scale,
            duration_s=duration_s,
        )


def default_instances(target: Target, stream_owner: str) -> dict[str, int]:
    """Instances standing in for Cloud Run's at this size: the stream owner at ≤ 900
    streams each (Cloud Run's concurrency of 1,000, with room), two presence instances
    for the heartbeats, two auth instances for the sign-up burst, one of the rest."""
    streams = target.mitras + target.clients
    return {stream_owner: max(2, math.ceil(streams / 900)), "presence": 2, "auth": 2}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def bounded(calls: Iterable[Awaitable[T]], limit: int = SETUP_CONCURRENCY) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))


# -- accounts ------------------------------------------------------------------------------


class Accounts:
    """Sign-ups through the Auth emulator's REST API (as the client SDKs call it) and the
    public API, concurrently."""

    def __init__(self, emulator: httpx.AsyncClient, api: httpx.AsyncClient, project: str):
        self.emulator, self.api, self.project = emulator, api, project
        self.phases: dict[str, float] = {}  # seconds per step, for the report
        self._mark = time.monotonic()

    def _phase(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = round(now - self._mark, 1)
        self._mark = now

    async def _identity(self, method: str, body: dict[str, Any]) -> Any:
        for attempt in range(3):
            try:
                answer = await self.emulator.post(
                    f"{IDENTITY}/{method}", params={"key": API_KEY}, json=body
                )
            except httpx.TransportError:
                if attempt == 2:
                    raise
                continue
            answer.raise_for_status()
            return answer.json()
        raise AssertionError("unreachable")

    async def mitras(
        self, engine: sa.Engine, count: int, capacities: list[int | None]
    ) -> list[tuple[str, str]]:
        """`count` mitras, created as an operator would, signed in by phone OTP and logged
        in: (mitra id, ID token) each."""
        prefix = "+62814" + "".join(secrets.choice("0123456789") for _ in range(2))
        with engine.begin() as connection:
            rows = connection.execute(
                sa.text(
                    "INSERT INTO mitras (name, phone, max_customers)"
                    " SELECT 'Mitra Simulasi ' || g, :prefix || lpad(g::text, 6, '0'),"
                    " (CAST(:caps AS int[]))[g] FROM generate_series(1, :n) g ORDER BY g"
                    " RETURNING id, phone"
                ),
                {"prefix": prefix, "n": count, "caps": capacities},
            ).all()
        phones = [row.phone for row in rows]
        self._phase("mitra_rows_s")
        sent = await bounded(
            self._identity("accounts:sendVerificationCode", {"phoneNumber": p}) for p in phones
        )
        inbox = await self.emulator.get(f"/emulator/v1/projects/{self.project}/verificationCodes")
        inbox.raise_for_status()
        codes = {c["sessionInfo"]: c["code"] for c in inbox.json().get("verificationCodes", [])}
        self._phase("mitra_codes_sent_s")
        signed_in = await bounded(
            self._identity(
                "accounts:signInWithPhoneNumber",
                {"sessionInfo": s["sessionInfo"], "code": codes[s["sessionInfo"]]},
            )
            for s in sent
        )
        tokens = [body["idToken"] for body in signed_in]
        self._phase("mitra_codes_confirmed_s")

        async def login(token: str) -> str:
            answer = await self.api.post("/api/mitra/auth/login", headers=_bearer(token))
            answer.raise_for_status()
            return str(answer.json()["id"])

        ids = await bounded(login(token) for token in tokens)
        self._phase("mitra_logins_s")
        if ids != [str(row.id) for row in rows]:
            raise RuntimeError("mitra login returned other ids than the rows inserted")
        return list(zip(ids, tokens, strict=True))

    async def clients(self, engine: sa.Engine, count: int) -> list[tuple[str, str]]:
        """`count` anonymous clients, registered, each with a purchase of 1,000 sessions."""

        async def one(_: int) -> tuple[str, str]:
            token = (await self._identity("accounts:signUp", {"returnSecureToken": True}))[
                "idToken"
            ]
            answer = await self.api.post(
                "/api/client/auth/register",
                json={"display_name": "Klien Simulasi"},
                headers=_bearer(token),
            )
            answer.raise_for_status()
            return str(answer.json()["id"]), str(token)

        self._mark = time.monotonic()
        made = await bounded(one(i) for i in range(count))
        self._phase("client_signups_s")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference)"
                    " SELECT c, 'credit', 'purchase', 1000, 'simulate:' || c::text"
                    " FROM unnest(CAST(:ids AS uuid[])) c"
                ),
                {"ids": [client_id for client_id, _ in made]},
            )
        return made


# -- event streams -------------------------------------------------------------------------


class StreamRefused(Exception):
    pass


OnEvent = Callable[[str, dict[str, Any]], None]


async def read_stream(
    host: str, port: int, path: str, token: str, on_event: OnEvent, ready: asyncio.Future[None]
) -> None:
    """One event stream on a raw socket until the server ends it or the task is cancelled;
    `ready` resolves at the snapshot frame. Frames: `id:`/`event:`/`data:` lines, a blank
    line after each; chunked transfer decoded when the server uses it."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise StreamRefused(head.split(b"\r\n", 1)[0].decode())
        chunked = b"transfer-encoding: chunked" in head.lower()
        buffer = b""
        while True:
            if chunked:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                if size == 0:
                    return
                data = (await reader.readexactly(size + 2))[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    return
            *frames, buffer = (buffer + data).split(b"\n\n")
            for frame in frames:
                kind, payload = "", b""
                for line in frame.split(b"\n"):
                    if line.startswith(b"event: "):
                        kind = line[7:].decode()
                    elif line.startswith(b"data: "):
                        payload = line[6:]
                if not kind:
                    continue  # a keep-alive comment
                body = json.loads(payload)["data"] if payload else {}
                if kind == "snapshot" and not ready.done():
                    ready.set_result(None)
                on_event(kind, body)
    finally:
        writer.close()


# -- the people ----------------------------------------------------------------------------


@dataclass
class Run:
    target: Target
    host: str
    port: int
    api: httpx.AsyncClient
    metrics: Metrics
    heartbeat_interval_s: float
    heartbeat_timeout_s: float
    search_window_s: float
    sweep_interval_s: float
    rng: random.Random
    chat: ChatLedger = field(default_factory=ChatLedger)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    frames: int = 0  # event frames read on all streams (keep-alives not counted)
    streams_open: int = 0
    stream_ends: int = 0  # streams the server ended early (each reopened)
    started: float | None = None  # monotonic time the traffic began
    loop_lag_ms: list[float] = field(default_factory=list)  # this process's own delay
    timers: set[asyncio.TimerHandle] = field(default_factory=set)
    latencies: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    apis: list[httpx.AsyncClient] = field(default_factory=list)

    async def watch_lag(self, every_s: float = 0.25) -> None:
        """How late this event loop wakes up: when it lags, every latency the load
        generator reports includes the lag, so the report says how much."""
        loop = asyncio.get_running_loop()
        while not self.stopping.is_set():
            due = loop.time() + every_s
            await asyncio.sleep(every_s)
            self.loop_lag_ms.append(max(0.0, (loop.time() - due) * 1000))

    async def until_stopped(self, future: asyncio.Future[T], timeout: float) -> T | None:
        """`future`'s result, or None after `timeout` or once the run is over."""
        stop = asyncio.ensure_future(self.stopping.wait())
        watched: set[asyncio.Future[Any]] = {future, stop}
        try:
            await asyncio.wait(watched, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            stop.cancel()
        return future.result() if future.done() else None

    def wind_down_timers(self) -> None:
        for handle in self.timers:
            handle.cancel()
        self.timers.clear()

    def spawn(self, call: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(call)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and not self.stopping.is_set():
            self.metrics.error(f"{type(exc).__name__}: {exc}"[:200])

    async def sleep(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the run is over."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), max(0.0, seconds))
        return self.stopping.is_set()

    async def call(self, what: str, method: str, path: str, token: str, **kw: Any) -> Any:
        sent = time.perf_counter()
        # Each app its own connections, as phones have: callers are spread over several
        # small pools by token, so no shared pool caps the calls in flight (a queue there
        # would be the load generator's, not the service's) and httpcore's per-request scan
        # of its pool stays short.
        api = self.apis[hash(token) % len(self.apis)] if self.apis else self.api
        try:
            answer = await api.request(method, path, headers=_bearer(token), **kw)
        except httpx.TransportError as exc:
            self.metrics.error(f"{what}: {type(exc).__name__}")
            return None
        if self.started is not None:
            self.latencies.setdefault(what, []).append(
                (sent - self.started, (time.perf_counter() - sent) * 1000)
            )
        self.metrics.status(answer.status_code, what)
        return answer

    def latency_figures(self, until_s: float) -> dict[str, dict[str, float | None]]:
        """Per kind of call over the window: count, p50, p90, p99 and max, ms (each
        includes the wait for one of the load generator's pooled connections)."""
        figures: dict[str, dict[str, float | None]] = {}
        for what, samples in sorted(self.latencies.items()):
            ms = [m for at, m in samples if at <= until_s]
            if ms:
                figures[what] = {
                    "count": len(ms),
                    **{f"p{round(q * 100)}": _pct(ms, q) for q in (0.5, 0.9, 0.99)},
                    "max": round(max(ms), 1),
                }
        return figures

    def worst_heartbeat_seconds(self, until_s: float) -> list[tuple[int, float]]:
        """The 10-second stretches with the slowest heartbeats: (second of the run, ms)."""
        worst: dict[int, float] = {}
        for at, ms in self.latencies.get("heartbeat", []):
            if at <= until_s:
                bucket = int(at // 10) * 10
                worst[bucket] = max(worst.get(bucket, 0.0), ms)
        return sorted(worst.items(), key=lambda kv: -kv[1])[:5]

    async def send_chat(self, side: str, token: str, session_id: str) -> None:
        body = {"client_message_id": uuid.uuid4().hex, "text": TEXT}
        answer = await self.call(
            "chat send", "POST", f"/api/{side}/sessions/{session_id}/messages", token, json=body
        )
        if answer is not None and answer.status_code in (200, 201):
            self.chat.stored(answer.json())


class Streamed:
    """Holds one event stream open, reopening it if the server ends it."""

    run: Run
    token: str
    path: str
    stream_task: asyncio.Task[Any] | None = None

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    async def open_stream(self) -> None:
        self.close_stream()  # one stream per app: a toggle back on replaces the old one
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.stream_task = self.run.spawn(self._hold(ready))
        await asyncio.wait_for(asyncio.shield(ready), 60)

    async def _hold(self, ready: asyncio.Future[None]) -> None:
        run = self.run
        run.streams_open += 1
        try:
            while True:

                def counted(kind: str, data: dict[str, Any]) -> None:
                    if kind != "snapshot":
                        run.frames += 1
                    self.on_event(kind, data)

                try:
                    await read_stream(run.host, run.port, self.path, self.token, counted, ready)
                except (OSError, asyncio.IncompleteReadError, StreamRefused) as exc:
                    if not ready.done():
                        ready.set_exception(exc)
                        return
                    run.metrics.error(f"stream {self.path}: {type(exc).__name__}")
                if run.stopping.is_set():
                    return
                run.stream_ends += 1  # the server ended it: the app reconnects
        finally:
            run.streams_open -= 1

    def close_stream(self) -> None:
        task, self.stream_task = self.stream_task, None
        if task is not None:
            task.cancel()


class Mitra(Streamed):
    path = "/api/mitra/events"

    def __init__(self, run: Run, mitra_id: str, token: str, rng: random.Random) -> None:
        self.run, self.id, self.token, self.rng = run, mitra_id, token, rng
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.sessions: set[str] = set()
        self.p_accept = min(1.0, run.target.accepters / run.target.mitras)
        self.p_decline = min(1.0 - self.p_accept, run.target.decliners / run.target.mitras)
        self.drop_at = (
            rng.uniform(0.2, 0.7) * run.target.duration_s
            if rng.random() < run.target.drop_share
            else None
        )

    async def go_online(self) -> None:
        await self.run.call(
            "presence on", "PUT", "/api/mitra/presence", self.token, json={"status": "online"}
        )
        await self.open_stream()

    async def beat(self) -> None:
        """Heartbeats at the real cadence from a random phase; a drop, once, if chosen."""
        run = self.run
        if await run.sleep(self.rng.uniform(0, run.heartbeat_interval_s)):
            return
        while not run.stopping.is_set():
            since = None if run.started is None else time.monotonic() - run.started
            if self.drop_at is not None and since is not None and since >= self.drop_at:
                self.drop_at = None
                run.metrics.count("drops")
                self.close_stream()
                self._forget_offers()
                if await run.sleep(run.heartbeat_timeout_s + 2):
                    return
                await self.go_online()
            sent = time.perf_counter()
            answer = await run.call(
                "heartbeat", "POST", "/api/mitra/presence/heartbeat", self.token
            )
            if answer is not None:
                with run.metrics.lock:
                    run.metrics.heartbeat_ms.append((time.perf_counter() - sent) * 1000)
                if answer.status_code == 409:  # lapsed in a slow moment: the app toggles on
                    run.metrics.count("lapses")
                    await self.go_online()
            if await run.sleep(run.heartbeat_interval_s):
                return

    def _forget_offers(self) -> None:
        for handle in self.pending.values():
            handle.cancel()
        self.pending.clear()

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "pairing.offer":
            self._offered(data["request_id"], by_stream=True)
        elif kind == "snapshot":
            for offer in data.get("offers", []):
                self._offered(offer["request_id"], by_stream=True)
        elif kind == "pairing.offer_closed":
            handle = self.pending.pop(data["request_id"], None)
            if handle is not None:
                handle.cancel()  # the card disappears before the mitra answered
                self.run.timers.discard(handle)
        elif kind == "chat.message":
            self.run.chat.on_stream(data, "mitra")
            if data["sender"] == "client" and self.rng.random() < self.run.target.reply_share:
                self.run.spawn(self.run.send_chat("mitra", self.token, data["session_id"]))

    def _offered(self, request_id: str, *, by_stream: bool) -> None:
        if request_id in self.pending:
            return
        self.run.metrics.count("offers_by_stream")
        roll = self.rng.random()
        if roll >= self.p_accept + self.p_decline:
            return  # seen, not answered: most mitras let most offers go by
        low, high = self.run.target.think_s
        delay = min(high, low * self.rng.lognormvariate(0, 0.6))
        accept = roll < self.p_accept
        handle = asyncio.get_running_loop().call_later(
            delay, lambda: self.run.spawn(self._answer(request_id, accept))
        )
        self.pending[request_id] = handle
        self.run.timers.add(handle)

    async def _answer(self, request_id: str, accept: bool) -> None:
        handle = self.pending.pop(request_id, None)
        run = self.run
        if handle is not None:
            run.timers.discard(handle)
        if run.stopping.is_set():
            return
        verb = "accept" if accept else "decline"
        answer = await run.call(
            verb, "POST", f"/api/mitra/pairing-requests/{request_id}/{verb}", self.token
        )
        if answer is None:
            return
        if not accept:
            run.metrics.count("declines")
        elif answer.status_code == 200:
            run.metrics.count("accepts_won")
            self.sessions.add(answer.json()["session_id"])
        else:
            with run.metrics.lock:
                run.metrics.accepts_lost[_code(answer)] += 1


def _code(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return str(answer.status_code)


class Client(Streamed):
    path = "/api/client/events"

    def __init__(self, run: Run, client_id: str, token: str, rng: random.Random) -> None:
        self.run, self.id, self.token, self.rng = run, client_id, token, rng
        self.sessions: list[str] = []
        self.outcomes: dict[str, asyncio.Future[tuple[str, dict[str, Any]]]] = {}

    def _outcome(self, request_id: str) -> asyncio.Future[tuple[str, dict[str, Any]]]:
        if request_id not in self.outcomes:
            self.outcomes[request_id] = asyncio.get_running_loop().create_future()
        return self.outcomes[request_id]

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind in ("pairing.matched", "pairing.expired"):
            outcome = self._outcome(data["request_id"])
            if not outcome.done():
                outcome.set_result((kind, data))
        elif kind == "chat.message":
            self.run.chat.on_stream(data, "client")

    async def one_request(self) -> None:
        run, metrics = self.run, self.run.metrics
        posted = await run.call("request", "POST", "/api/client/pairing-requests", self.token)
        if posted is None or posted.status_code not in (200, 201):
            return
        metrics.count("requests")
        body = posted.json()
        if body["status"] == "no_bestie":
            metrics.count("no_bestie")
            return
        request_id = body["id"]
        outcome = self._outcome(request_id)
        if self.rng.random() < run.target.cancel_share:
            await run.until_stopped(outcome, self.rng.uniform(*run.target.patience_s))
            if run.stopping.is_set():
                return
            if not outcome.done():
                cancelled = await run.call(
                    "cancel", "DELETE", f"/api/client/pairing-requests/{request_id}", self.token
                )
                if (
                    cancelled is not None
                    and cancelled.status_code == 200
                    and cancelled.json()["status"] == "cancelled"
                ):
                    metrics.count("cancelled")
                    return
        limit = run.search_window_s + run.sweep_interval_s + 30
        result = await run.until_stopped(outcome, limit)
        if result is None:
            if not run.stopping.is_set():
                metrics.error(f"request {request_id[:8]}: no outcome on the stream")
            return
        if result[0] == "pairing.expired":
            metrics.count("expired")
            return
        read = await run.call(
            "request read", "GET", f"/api/client/pairing-requests/{request_id}", self.token
        )
        if read is None or read.status_code != 200:
            return
        state = read.json()
        metrics.count("matched")
        with metrics.lock:
            metrics.match_ms.append(float(state["time_to_match_ms"]))
        await self._in_session(state["session_id"])

    async def _in_session(self, session_id: str) -> None:
        run = self.run
        self.sessions.append(session_id)
        until = time.monotonic() + self.rng.uniform(*run.target.session_s)
        while not await run.sleep(self.rng.uniform(*run.target.typing_s)):
            if time.monotonic() >= until:
                ended = await run.call(
                    "end session", "POST", f"/api/client/sessions/{session_id}/end", self.token
                )
                if ended is not None and ended.status_code == 200:
                    run.metrics.count("sessions_ended")
                return
            await run.send_chat("client", self.token, session_id)
        # The run is over: the session stays active, as a real one would.


async def arrivals(run: Run, clients: list[Client]) -> None:
    """New requests as a Poisson process of rate R, each taken by an idle client."""
    idle = set(range(len(clients)))

    async def one(i: int) -> None:
        try:
            await clients[i].one_request()
        finally:
            idle.add(i)

    while not await run.sleep(run.rng.expovariate(run.target.rate)):
        if not idle:
            run.metrics.count("no_idle_client")
            continue
        i = run.rng.choice(tuple(idle))
        idle.discard(i)
        run.spawn(one(i))


async def open_all(people: list[Mitra] | list[Client], online: bool) -> None:
    async def one(person: Mitra | Client) -> None:
        if isinstance(person, Mitra) and online:
            await person.go_online()
            person.run.spawn(person.beat())  # at once: setup may outlast the beat timeout
        else:
            await person.open_stream()

    await bounded((one(p) for p in people), OPEN_CONCURRENCY)


def summary_extras(run: Run) -> dict[str, object]:
    return {"streams_ended_by_server": run.stream_ends}
