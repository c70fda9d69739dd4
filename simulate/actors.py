"""The people of the simulation: each mitra and each client is one thread driving the public
API over HTTP exactly as its app would. Every loop is bounded by `World.stop`."""

from __future__ import annotations

import contextlib
import json
import queue
import random
import threading
import time
from dataclasses import dataclass, field

import httpx
from httpx_sse import connect_sse

from simulate import chat
from simulate.chat import ChatLedger
from simulate.metrics import Metrics

TICK_S = 0.1


@dataclass
class World:
    base_url: str
    heartbeat_interval_s: float
    heartbeat_timeout_s: float
    metrics: Metrics
    stop: threading.Event = field(default_factory=threading.Event)
    chat: ChatLedger = field(default_factory=ChatLedger)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the run is over."""
        return self.stop.wait(max(0.0, seconds))


@dataclass
class Behaviour:
    accept_share: float = 0.85  # of offers a mitra answers (the rest are declined)
    think_s: tuple[float, float] = (0.6, 3.0)  # a mitra reading an offer (lognormal-ish)
    drop_share: float = 0.15  # of mitras that lose their connection once during the run
    cancel_share: float = 0.15  # of searching clients that give up before a match
    patience_s: tuple[float, float] = (0.3, 2.5)  # … after this long (races the accepts)
    idle_s: tuple[float, float] = (0.5, 4.0)  # a client between two requests
    session_s: tuple[float, float] = (4.0, 15.0)  # how long a client keeps a session
    typing_s: tuple[float, float] = (1.0, 3.0)  # a client between two messages
    reply_share: float = 0.35  # of a client's messages a mitra answers


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return str(response.status_code)


class MitraActor(threading.Thread):
    """Online, heartbeating, answering offers after a human delay; receives offers on an SSE
    stream (`streams`) or by polling the offer list; maybe drops its connection once."""

    def __init__(
        self,
        world: World,
        mitra_id: str,
        token: str,
        streams: bool,
        rng: random.Random,
        behaviour: Behaviour,
        run_s: float,
    ) -> None:
        super().__init__(name=f"mitra-{mitra_id[:8]}", daemon=True)
        self.world, self.id, self.headers, self.streams = world, mitra_id, _bearer(token), streams
        self.rng, self.behaviour = rng, behaviour
        self.drop_at = (
            time.monotonic() + rng.uniform(0.2, 0.7) * run_s
            if rng.random() < behaviour.drop_share
            else None
        )
        self.offers: queue.Queue[str] = queue.Queue()
        self.seen: set[str] = set()
        self.stream_http: httpx.Client | None = None
        self.replies: queue.Queue[str] = queue.Queue()  # session ids to answer in
        self.sessions: set[str] = set()

    def run(self) -> None:
        metrics = self.world.metrics
        with httpx.Client(base_url=self.world.base_url, timeout=15) as http:
            try:
                self._loop(http)
            except httpx.HTTPError as exc:
                metrics.error(f"mitra transport: {type(exc).__name__}: {exc}")
            finally:
                self._close_stream()

    def _loop(self, http: httpx.Client) -> None:
        metrics = self.world.metrics
        self._go_online(http)
        next_beat = next_poll = time.monotonic()
        pending: dict[str, float] = {}
        while not self.world.stop.is_set():
            now = time.monotonic()
            if self.drop_at is not None and now >= self.drop_at:
                self.drop_at = None
                self._drop(http)
                pending.clear()
                next_beat = next_poll = time.monotonic()
                continue
            if now >= next_beat:
                sent = time.perf_counter()
                beat = http.post("/api/mitra/presence/heartbeat", headers=self.headers)
                with metrics.lock:
                    metrics.heartbeat_ms.append((time.perf_counter() - sent) * 1000)
                metrics.status(beat.status_code, "heartbeat")
                if beat.status_code == 409:  # lapsed (a slow moment): the app toggles back on
                    self._go_online(http)
                next_beat = now + self.world.heartbeat_interval_s
            if not self.streams and now >= next_poll:
                listed = http.get("/api/mitra/pairing-requests", headers=self.headers)
                metrics.status(listed.status_code, "offer list")
                if listed.status_code == 200:
                    for offer in listed.json()["items"]:
                        self._offered(offer["id"], pending, by_stream=False)
                next_poll = now + 1.0
            while True:
                try:
                    self._offered(self.offers.get_nowait(), pending, by_stream=True)
                except queue.Empty:
                    break
            for request_id, due in list(pending.items()):
                if time.monotonic() >= due:
                    del pending[request_id]
                    self._answer(http, request_id)
            while True:
                try:
                    session_id = self.replies.get_nowait()
                except queue.Empty:
                    break
                status = chat.send(http, self.world.chat, "mitra", self.headers, session_id)
                metrics.status(status, "chat send")
            self.world.wait(TICK_S)

    def catch_up(self, http: httpx.Client) -> None:
        """After the run: the read the app makes on reconnect, for every session it held."""
        for session_id in sorted(self.sessions):
            chat.catch_up(http, self.world.chat, "mitra", self.headers, session_id)

    def _offered(self, request_id: str, pending: dict[str, float], *, by_stream: bool) -> None:
        if request_id in self.seen:
            return
        self.seen.add(request_id)
        self.world.metrics.count("offers_by_stream" if by_stream else "offers_by_poll")
        low, high = self.behaviour.think_s
        pending[request_id] = time.monotonic() + min(high, low * self.rng.lognormvariate(0, 0.6))

    def _answer(self, http: httpx.Client, request_id: str) -> None:
        metrics = self.world.metrics
        if self.rng.random() >= self.behaviour.accept_share:
            declined = http.post(
                f"/api/mitra/pairing-requests/{request_id}/decline", headers=self.headers
            )
            metrics.status(declined.status_code, "decline")
            metrics.count("declines")
            return
        accepted = http.post(
            f"/api/mitra/pairing-requests/{request_id}/accept", headers=self.headers
        )
        metrics.status(accepted.status_code, "accept")
        if accepted.status_code == 200:
            metrics.count("accepts_won")
            self.sessions.add(accepted.json()["session_id"])
        else:
            with metrics.lock:
                metrics.accepts_lost[_code(accepted)] += 1

    def _go_online(self, http: httpx.Client) -> None:
        toggled = http.put("/api/mitra/presence", json={"status": "online"}, headers=self.headers)
        self.world.metrics.status(toggled.status_code, "presence on")
        if self.streams:
            self._open_stream()

    def _drop(self, http: httpx.Client) -> None:
        """The phone loses its network: no beats, no stream, until the server has noticed."""
        self.world.metrics.count("drops")
        self._close_stream()
        if self.world.wait(self.world.heartbeat_timeout_s + 2):
            return
        self._go_online(http)

    def _open_stream(self) -> None:
        self._close_stream()
        timeout = httpx.Timeout(15, read=self.world.heartbeat_timeout_s * 3)
        http = httpx.Client(base_url=self.world.base_url, timeout=timeout)
        self.stream_http = http
        threading.Thread(target=self._read_stream, args=(http,), daemon=True).start()

    def _close_stream(self) -> None:
        http, self.stream_http = self.stream_http, None
        if http is not None:
            http.close()

    def _read_stream(self, http: httpx.Client) -> None:
        with (
            contextlib.suppress(httpx.HTTPError, RuntimeError, ValueError),
            connect_sse(http, "GET", "/api/mitra/events", headers=self.headers) as source,
        ):
            for event in source.iter_sse():
                if self.world.stop.is_set() or http is not self.stream_http:
                    return
                data = json.loads(event.data)["data"]
                if event.event == "snapshot":
                    for offer in data.get("offers", []):
                        self.offers.put(offer["request_id"])
                elif event.event == "pairing.offer":
                    self.offers.put(data["request_id"])
                elif event.event == "chat.message":
                    self.world.chat.on_stream(data, "mitra")
                    if (
                        data["sender"] == "client"
                        and self.rng.random() < self.behaviour.reply_share
                    ):
                        self.replies.put(data["session_id"])


class ClientActor(threading.Thread):
    """Requests a bestie, sometimes gives up, keeps a session a while and ends it."""

    def __init__(self, world: World, token: str, rng: random.Random, behaviour: Behaviour) -> None:
        super().__init__(daemon=True)
        self.world, self.headers, self.rng, self.behaviour = world, _bearer(token), rng, behaviour
        self.sessions: list[str] = []
        self.stream_http: httpx.Client | None = None

    def run(self) -> None:
        with httpx.Client(base_url=self.world.base_url, timeout=15) as http:
            try:
                while not self.world.wait(self.rng.uniform(*self.behaviour.idle_s)):
                    self._one_request(http)
            except httpx.HTTPError as exc:
                self.world.metrics.error(f"client transport: {type(exc).__name__}: {exc}")

    def _one_request(self, http: httpx.Client) -> None:
        metrics = self.world.metrics
        posted = http.post("/api/client/pairing-requests", headers=self.headers)
        metrics.status(posted.status_code, "request")
        if posted.status_code not in (200, 201):
            return
        metrics.count("requests")
        body = posted.json()
        if body["status"] == "no_bestie":
            metrics.count("no_bestie")
            return
        request_id = body["id"]
        give_up_at = (
            time.monotonic() + self.rng.uniform(*self.behaviour.patience_s)
            if self.rng.random() < self.behaviour.cancel_share
            else None
        )
        while not self.world.wait(0.5):
            if give_up_at is not None and time.monotonic() >= give_up_at:
                give_up_at = None
                cancelled = http.delete(
                    f"/api/client/pairing-requests/{request_id}", headers=self.headers
                )
                metrics.status(cancelled.status_code, "cancel")
                if cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled":
                    metrics.count("cancelled")
                    return
            read = http.get(f"/api/client/pairing-requests/{request_id}", headers=self.headers)
            metrics.status(read.status_code, "request read")
            if read.status_code != 200:
                return
            state = read.json()
            if state["status"] == "matched":
                metrics.count("matched")
                with metrics.lock:
                    metrics.match_ms.append(float(state["time_to_match_ms"]))
                self._hold(http, state["session_id"])
                return
            if state["status"] in ("expired", "cancelled"):
                metrics.count(state["status"])
                return

    def _hold(self, http: httpx.Client, session_id: str) -> None:
        """Chat for a while with the stream open, then end the session."""
        self.sessions.append(session_id)
        self._open_stream()
        try:
            until = time.monotonic() + self.rng.uniform(*self.behaviour.session_s)
            while not self.world.wait(self.rng.uniform(*self.behaviour.typing_s)):
                if time.monotonic() >= until:
                    break
                status = chat.send(http, self.world.chat, "client", self.headers, session_id)
                self.world.metrics.status(status, "chat send")
            else:
                return  # the run is over: the session stays active, as a real one would
            ended = http.post(f"/api/client/sessions/{session_id}/end", headers=self.headers)
            self.world.metrics.status(ended.status_code, "end session")
            if ended.status_code == 200:
                self.world.metrics.count("sessions_ended")
        finally:
            self._close_stream()

    def catch_up(self, http: httpx.Client) -> None:
        """After the run: the read the app makes on reconnect, for every session it had."""
        for session_id in self.sessions:
            chat.catch_up(http, self.world.chat, "client", self.headers, session_id)

    def _open_stream(self) -> None:
        http = httpx.Client(base_url=self.world.base_url, timeout=httpx.Timeout(15, read=60))
        self.stream_http = http
        ready = threading.Event()
        threading.Thread(target=self._read_stream, args=(http, ready), daemon=True).start()
        ready.wait(10)

    def _close_stream(self) -> None:
        http, self.stream_http = self.stream_http, None
        if http is not None:
            http.close()

    def _read_stream(self, http: httpx.Client, ready: threading.Event) -> None:
        try:
            with (
                contextlib.suppress(httpx.HTTPError, RuntimeError, ValueError),
                connect_sse(http, "GET", "/api/client/events", headers=self.headers) as source,
            ):
                for event in source.iter_sse():
                    if event.event == "snapshot":
                        ready.set()
                    elif event.event == "chat.message":
                        self.world.chat.on_stream(json.loads(event.data)["data"], "client")
        finally:
            ready.set()
