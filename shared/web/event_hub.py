"""The per-process event hub of the asyncio event streams (shared/web/event_streams.py),
and the bounded thread pool for their blocking work.

One hub per process holds ONE Valkey pub/sub connection (a pattern subscription to
`events:*`, redis.asyncio) and hands each message to the local streams it concerns:
`events:<audience>:<id>` to that recipient's streams, `events:broadcast` to the local streams
the message's `to` selects — for an offer, the local recipients available now (one ZMSCORE
per broadcast per instance over its own streams, whatever the number of mitras); for its
close, the local recipients this hub reached with the offer or whose snapshot listed it
(remembered here; one SMISMEMBER to skip those who declined). Which topics a snapshot lists
is the route's knowledge, not the hub's: the route passes a `topics` callback. A stream never
holds a Valkey connection of its own (scale.md point 2).

Fan-out cost: each message is framed ONCE (bytes). A stream whose task is idle (nothing
queued, its socket writable) has a `wire`: the hub writes the frame straight into its socket
from the dispatch, without waking the stream's task (docs/performance.md, "Event streams":
the inbox's wake, the task step and the ASGI send chain were a third of the loop's samples,
beside uvloop's own stepping of those tasks).
Otherwise the frame joins the stream's inbox and the task, once woken, takes everything
queued and writes it in one send — so a frame never overtakes one queued before it, and a
reader that stops reading fills its inbox and overflows exactly as before.

One hub tick (every second, or a quarter of SSE_KEEPALIVE_S or STREAM_RECHECK_S when that is
shorter) replaces every per-stream timer: it writes keep-alives to
idle streams, ends streams past their deadline, notices closed connections, and re-checks
the callers of every stream that is due in ONE job on the blocking pool (`sse.run_guards`)
instead of a job and a timer per stream. When the hub's connection drops, it re-subscribes
and sends every local stream `RESYNC` (a fresh snapshot). The hub also renews every local
stream's open-stream mark in one round trip per keep-alive interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import redis
import redis.asyncio

from shared import valkey
from shared.events import BROADCAST_CHANNEL
from shared.log import get_logger, log_event
from shared.store.live import streams as open_streams
from shared.web import sse

logger = get_logger("halo.sse")


class Mark(Protocol):
    """A stream's open-stream mark (shared.store.live.streams): what the hub renews."""

    @property
    def entry(self) -> tuple[str, str, str]: ...


QUEUE_SIZE = 256
REPLAY_SIZE = 4096
# Topics (open requests) whose reached recipients a hub remembers; the oldest are forgotten
# first. Far above the requests open at once at the design target (2,000 clients).
REACHED_SIZE = 20_000
# Ephemeral events (a typing signal) are live or not at all: never replayed on reconnect,
# where they would claim someone is typing now. A substring test: no JSON parse per message.
EPHEMERAL_MARK = '"type": "chat.typing"'
SUBSCRIBE_TIMEOUT_S = 5.0
KEEPALIVE = sse.KEEPALIVE.encode()

# What a stream's task may find in its inbox besides frames (bytes), sse.RESYNC and
# sse.OVERFLOW: the hub tick's verdicts.
GONE = object()  # the client disconnected
END = object()  # the stream reached its deadline (SSE_MAX_STREAM_S)
KEEPALIVE_DUE = object()  # nothing sent for SSE_KEEPALIVE_S, and the stream had no wire


class Verdict:
    """A re-check's reason to end the stream (`stream.closed`)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Wire(Protocol):
    """Writes one frame straight into a stream's socket and says True, or says False
    (paused by flow control, closing) and writes nothing: the frame then goes through the
    stream's task, which waits for the socket as the ASGI server's send does."""

    def __call__(self, frame: bytes) -> bool: ...

    def lost(self) -> bool: ...


T = TypeVar("T")


# -- the blocking pool ------------------------------------------------------------------------

_pool: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        from shared.config import get_config

        _pool = ThreadPoolExecutor(
            max_workers=get_config().sse_blocking_threads, thread_name_prefix="events-blocking"
        )
    return _pool


async def blocking(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` on the bounded blocking pool, with this task's context (request id)."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args)
    return await asyncio.get_running_loop().run_in_executor(executor(), call)


# -- streams and the hub ------------------------------------------------------------------------


class AsyncStream:
    """A local stream's inbox: a bounded list and, while its task sleeps, the one future
    that wakes it (lighter than an asyncio.Queue: the fan-out touches it once per frame),
    with the state the hub tick reads (no timer of its own)."""

    __slots__ = (
        "audience",
        "channel",
        "deadline",
        "gone",
        "guard",
        "next_check",
        "pending",
        "recipient_id",
        "sent_at",
        "waiter",
        "wire",
        "writer",
    )

    def __init__(self, audience: str, recipient_id: str) -> None:
        self.audience = audience
        self.recipient_id = recipient_id
        self.channel = f"events:{audience}:{recipient_id}"
        self.pending: list[Any] = []
        self.waiter: asyncio.Future[None] | None = None
        self.gone = False
        # The stream's direct writer (None: no ASGI server support), and `wire`, the same
        # but only while the task sleeps on an empty inbox: the one state in which writing a
        # frame now is exactly what the task would do next.
        self.writer: Wire | None = None
        self.wire: Wire | None = None
        self.sent_at = time.monotonic()
        self.deadline = math.inf
        self.next_check = math.inf
        self.guard: Callable[[], str | None] | None = None

    def offer(self, item: Any) -> None:
        wire = self.wire
        if wire is not None and item.__class__ is bytes and wire(item):
            self.sent_at = time.monotonic()
            return
        self.wire = None  # later frames queue behind this item, in order
        if len(self.pending) >= QUEUE_SIZE:
            # Drop everything queued: the app reconnects and gets a snapshot instead.
            self.pending = [sse.OVERFLOW]
        else:
            self.pending.append(item)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self) -> list[Any]:
        """Everything offered since the last take, waiting for at least one item."""
        while not self.pending:
            self.waiter = asyncio.get_running_loop().create_future()
            self.wire = self.writer
            try:
                await self.waiter
            finally:
                self.waiter = None
                self.wire = None
        items, self.pending = self.pending, []
        return items


class AsyncHub:
    """The process's single subscriber; dispatches to local streams. Lives on one loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._streams: dict[str, set[AsyncStream]] = {}
        # audience → recipient id → the same sets: a broadcast's local recipients without a
        # scan of every channel (that scan was 8% of the loop's time per broadcast).
        self._local: dict[str, dict[str, set[AsyncStream]]] = {}
        # Streams being served (past their first frame), visited by the tick.
        self._served: set[AsyncStream] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._rechecks: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._redis: redis.asyncio.Redis | None = None
        # Recent per-recipient messages (id, channel, frame), for Last-Event-ID on reconnect.
        self._recent: deque[tuple[str, str, bytes]] = deque(maxlen=REPLAY_SIZE)
        # topic (request id) → local recipient ids reached by it, for its closing event.
        self._reached: OrderedDict[str, set[str]] = OrderedDict()
        # Open-stream marks of local streams, refreshed together (shared.store.live.streams).
        self._marks: set[Mark] = set()
        self._refresher: asyncio.Task[None] | None = None

    @property
    def served(self) -> frozenset[AsyncStream]:
        """The streams being served now (past their first frame)."""
        return frozenset(self._served)

    @property
    def stream_count(self) -> int:
        return sum(len(group) for group in self._streams.values())

    def client(self) -> redis.asyncio.Redis:
        if self._redis is None:
            from shared.config import get_config

            config = get_config()
            self._redis = redis.asyncio.Redis.from_url(
                config.valkey_url,
                socket_timeout=config.valkey_timeout_s,
                socket_connect_timeout=config.valkey_timeout_s,
                health_check_interval=30,
                decode_responses=True,
                protocol=2,
                **valkey.tls_arguments(config),
            )
        return self._redis

    # -- streams (on the loop) ----------------------------------------------------------------

    async def open(self, audience: str, recipient_id: str) -> AsyncStream:
        stream = AsyncStream(audience, recipient_id)
        group = self._streams.get(stream.channel)
        if group is None:
            group = self._streams[stream.channel] = set()
            self._local.setdefault(audience, {})[recipient_id] = group
        group.add(stream)
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run(), name="sse-hub")
        try:
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIBE_TIMEOUT_S)
        except TimeoutError:
            self.close(stream)
            raise redis.ConnectionError("the event hub could not subscribe to Valkey") from None
        return stream

    def close(self, stream: AsyncStream) -> None:
        self._served.discard(stream)
        streams = self._streams.get(stream.channel)
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del self._streams[stream.channel]
                local = self._local.get(stream.audience)
                if local is not None:
                    local.pop(stream.recipient_id, None)

    def serve(self, stream: AsyncStream) -> None:
        """From now on the tick keeps `stream` (keep-alives, re-checks, deadline, its
        connection's end)."""
        self._served.add(stream)
        if self._ticker is None or self._ticker.done():
            self._ticker = self.loop.create_task(self._tick(), name="sse-tick")

    async def _tick(self) -> None:
        from shared.config import get_config

        config = get_config()
        keepalive, recheck = config.sse_keepalive_s, config.stream_recheck_s
        period = min(1.0, keepalive / 4, recheck / 4)
        while True:
            await asyncio.sleep(period)
            try:
                self._visit(time.monotonic(), keepalive, recheck)
            except Exception as exc:  # the tick must outlive any failure
                log_event(logger, 40, "event stream tick failed", error=type(exc).__name__)

    def _visit(self, now: float, keepalive: float, recheck: float) -> None:
        due: list[AsyncStream] = []
        for stream in list(self._served):
            writer = stream.writer
            if stream.gone:
                continue
            if writer is not None and writer.lost():
                stream.gone = True
                stream.offer(GONE)
            elif now >= stream.deadline:
                stream.deadline = math.inf
                stream.offer(END)
            else:
                if now - stream.sent_at >= keepalive:
                    wire = stream.wire
                    if wire is None or not wire(KEEPALIVE):
                        stream.offer(KEEPALIVE_DUE)
                    stream.sent_at = now
                if stream.guard is not None and now >= stream.next_check:
                    stream.next_check = math.inf  # until this re-check answers
                    due.append(stream)
        if due:
            task = self.loop.create_task(self._recheck(due, recheck))
            self._rechecks.add(task)
            task.add_done_callback(self._rechecks.discard)

    async def _recheck(self, streams: list[AsyncStream], recheck: float) -> None:
        """One job on the blocking pool re-checks every due stream's caller."""
        checked = [stream for stream in streams if stream.guard is not None]
        try:
            verdicts = await blocking(sse.run_guards, [stream.guard for stream in checked])
        except Exception as exc:  # the pool is shutting down: the next tick tries again
            log_event(logger, 30, "stream re-checks not run", error=type(exc).__name__)
            verdicts = [None] * len(checked)
        now = time.monotonic()
        for stream in streams:
            stream.next_check = now + recheck
        for stream, verdict in zip(checked, verdicts, strict=True):
            if verdict is not None:
                stream.offer(Verdict(verdict))

    async def attach(
        self, stream: AsyncStream, topics: Iterable[str], last_event_id: str | None
    ) -> list[bytes] | None:
        """Remember the topics the snapshot listed; the missed frames after `last_event_id`
        when this instance still has it."""
        for topic in topics:
            self.remember_reached(str(topic), [stream.recipient_id])
        return self.missed_since(stream, last_event_id) if last_event_id else None

    def track(self, mark: Mark) -> None:
        self._marks.add(mark)
        if self._refresher is None or self._refresher.done():
            self._refresher = self.loop.create_task(self._refresh_marks(), name="sse-marks")

    def untrack(self, mark: Mark) -> None:
        self._marks.discard(mark)

    async def _refresh_marks(self) -> None:
        """Every keep-alive interval, one pipelined round trip renews every local mark."""
        keepalive = sse.keepalive_interval_s()
        lapse_s = 2 * keepalive + 5
        while True:
            await asyncio.sleep(keepalive)
            marks = [m.entry for m in self._marks]
            if not marks:
                continue
            try:
                await blocking(open_streams.mark_open_many, marks, lapse_s)
            except Exception as exc:  # best effort: a lapse costs at most an extra push
                log_event(logger, 30, "open-stream marks not refreshed", error=type(exc).__name__)

    def remember_reached(self, topic: str, recipient_ids: list[str]) -> None:
        """Note that these local recipients were shown `topic` (an offer), so its closing
        broadcast reaches them."""
        if not recipient_ids:
            return
        self._reached.setdefault(topic, set()).update(recipient_ids)
        self._reached.move_to_end(topic)
        while len(self._reached) > REACHED_SIZE:
            self._reached.popitem(last=False)

    def missed_since(self, stream: AsyncStream, last_event_id: str) -> list[bytes] | None:
        for index, (event_id, _channel, _frame) in enumerate(self._recent):
            if event_id == last_event_id:
                recent = list(self._recent)[index + 1 :]
                return [frame for _id, ch, frame in recent if ch == stream.channel]
        return None

    # -- the same, from the blocking pool (the request pipeline's thread) ----------------------

    def call_from_thread(self, coroutine: Any, timeout: float = SUBSCRIBE_TIMEOUT_S + 1) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close_from_thread(self, stream: AsyncStream) -> None:
        self.loop.call_soon_threadsafe(self.close, stream)

    # -- the subscriber task ----------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.05
        resubscribed = False
        while True:
            pubsub = None
            try:
                pubsub = self.client().pubsub()
                await pubsub.psubscribe("events:*")
                # Wait for Valkey's confirmation: until then a publish could be missed.
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "psubscribe":
                        break
                self._subscribed.set()
                if resubscribed:
                    self._to_all(sse.RESYNC)
                backoff = 0.05
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "pmessage":
                        await self._dispatch(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the hub must outlive any failure
                self._subscribed.clear()
                resubscribed = True
                log_event(
                    logger, 40, "event hub lost Valkey; resubscribing", error=type(exc).__name__
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()

    async def _dispatch(self, channel: str, raw: str) -> None:
        if channel == BROADCAST_CHANNEL:
            await self._broadcast(raw)
            return
        targets = self._streams.get(channel)
        try:
            message = json.loads(raw)
            frame = _frame(message["id"], message["type"], raw)
        except (ValueError, KeyError, TypeError):
            return
        if EPHEMERAL_MARK not in raw:
            self._recent.append((str(message["id"]), channel, frame))
        for stream in list(targets or ()):
            stream.offer(frame)

    async def _broadcast(self, raw: str) -> None:
        message = json.loads(raw)
        to = message.pop("to", {})
        local = self._local.get(str(to.get("audience")), {})
        excluded = set(to.get("exclude", ()))
        if to.get("kind") == "reached":
            reached = self._reached.pop(str(to.get("topic")), set())
            candidates = [r for r in reached if r in local and r not in excluded]
            if candidates and to.get("skip_key"):
                skipped = await self.client().smismember(to["skip_key"], candidates)
                candidates = [r for r, skip in zip(candidates, skipped, strict=True) if not skip]
        else:
            candidates = [r for r in local if r not in excluded]
            if candidates:
                scores = await self.client().zmscore(to["available_key"], candidates)
                fresh_after = float(to["fresh_after_ms"])
                candidates = [
                    r
                    for r, score in zip(candidates, scores, strict=True)
                    if score is not None and float(score) >= fresh_after
                ]
                self.remember_reached(str(to.get("topic")), candidates)
        if not candidates:
            return
        payload = json.dumps(message)
        frame = _frame(message["id"], message["type"], payload)
        for recipient in candidates:
            # Streams that closed while Valkey answered are gone from the hub: skip them.
            for stream in list(local.get(recipient, ())):
                stream.offer(frame)

    def _to_all(self, item: Any) -> None:
        for group in list(self._streams.values()):
            for stream in list(group):
                stream.offer(item)


def _frame(event_id: Any, event_type: Any, raw: str) -> bytes:
    # sse.format_event's wire format, from an envelope already parsed once per message.
    return f"id: {event_id}\nevent: {event_type}\ndata: {raw}\n\n".encode()


_hub: AsyncHub | None = None


def hub() -> AsyncHub:
    """The hub of the running loop (created by the first request on it)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = AsyncHub(loop)
    return _hub


def current_hub() -> AsyncHub:
    """The hub, from the blocking pool; only the events function serves streams."""
    if _hub is None:
        raise RuntimeError("event streams are served by the events function (asyncio) only")
    return _hub
