"""Server-sent events: the one framing every stream uses, the caller re-check rule, and the
per-process thread hub the control center's dashboard stream reads its alerts from.

The apps' streams (`GET /api/client/events`, `GET /api/mitra/events`) are served on asyncio
by the `events` function (shared/web/event_streams.py) and frame with the functions here.
The dashboard stream stays on the admin function's threads (a handful of operators, not
thousands of phones). Its hub holds ONE Valkey pub/sub connection (a pattern subscription to
`events:*`) and one background thread that hands each per-recipient message to the local
streams of its channel; when the connection drops it re-subscribes and sends every local
stream `RESYNC`, since pub/sub loses what was published meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from shared import valkey
from shared.events import BROADCAST_CHANNEL, envelope
from shared.log import get_logger, log_event

logger = get_logger("halo.sse")

QUEUE_SIZE = 256
RESYNC = object()  # "send a fresh snapshot": the hub lost messages while reconnecting
OVERFLOW = object()  # the reader is too slow; the stream ends and the app reconnects

# -- configuration (shared.config) -----------------------------------------------------------


def keepalive_interval_s() -> float:
    from shared.config import get_config

    return get_config().sse_keepalive_s


def max_stream_s() -> float:
    """Streams end before Cloud Run's request timeout, so the app reconnects cleanly."""
    from shared.config import get_config

    return get_config().sse_max_stream_s


def recheck_interval_s() -> float:
    from shared.config import get_config

    return get_config().stream_recheck_s


# -- framing: the one home of the wire format -------------------------------------------------

KEEPALIVE = ": keep-alive\n\n"
# Sent once, ahead of the first frame: how long an EventSource waits before reconnecting.
RETRY = "retry: 3000\n"
CLOSED_EVENT = "stream.closed"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
MIMETYPE = "text/event-stream"


def format_event(raw: str) -> str:
    """One SSE frame from a JSON envelope: `id:` its id, `event:` its type, `data:` the JSON."""
    envelope = json.loads(raw)
    return f"id: {envelope['id']}\nevent: {envelope['type']}\ndata: {raw}\n\n"


def opening_frame(raw: str) -> str:
    """A stream's first frame (its snapshot), preceded by the reconnect delay."""
    return RETRY + format_event(raw)


def closing_frame(reason: str) -> str:
    """The one event a stream sends before it ends because its caller lost the right to it."""
    return format_event(envelope(CLOSED_EVENT, {"reason": reason}))


# -- the caller re-check --------------------------------------------------------------------

Guard = Callable[[], str | None]
"""Re-checks an open stream's caller: the reason the stream must end (`suspended`,
`role_changed`, `password_changed`, `token_expired`, `signed_out`), or None."""


def run_guard(guard: Guard) -> str | None:
    """The guard's verdict; a store that is briefly unreachable keeps the stream open (the
    next re-check decides), rather than closing every open stream at once."""
    try:
        return guard()
    except Exception as exc:
        log_event(logger, 30, "stream re-check failed", error=type(exc).__name__)
        return None


def run_guards(guards: list[Guard | None]) -> list[str | None]:
    """The verdicts of many streams' guards, in one job on the blocking pool (the events
    function's hub tick re-checks every due stream together). Guards that share a
    `batch_key` are re-checked together by the first one's `check_many` (one row read for
    all: shared.identity.tickets.ProfileGuard); a failure keeps those streams open, as
    `run_guard` does."""
    verdicts: list[str | None] = [None] * len(guards)
    batches: dict[str, list[int]] = {}
    for index, guard in enumerate(guards):
        key = getattr(guard, "batch_key", None)
        if key is not None:
            batches.setdefault(key, []).append(index)
        elif guard is not None:
            verdicts[index] = run_guard(guard)
    for indexes in batches.values():
        batch: list[Any] = [guards[index] for index in indexes]
        try:
            found = batch[0].check_many(batch)
        except Exception as exc:
            log_event(logger, 30, "stream re-check failed", error=type(exc).__name__)
            continue
        for index, verdict in zip(indexes, found, strict=True):
            verdicts[index] = verdict
    return verdicts


# -- the thread hub (admin function) ----------------------------------------------------------


@dataclass(eq=False)
class Stream:
    audience: str
    recipient_id: str
    queue: queue.Queue[Any] = field(default_factory=lambda: queue.Queue(QUEUE_SIZE))

    @property
    def channel(self) -> str:
        return f"events:{self.audience}:{self.recipient_id}"

    def offer(self, item: Any) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            # Drop everything queued: the reader reconnects and gets a snapshot instead.
            while True:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    break
            self.queue.put_nowait(OVERFLOW)


class Hub:
    """The process's single subscriber thread; hands per-recipient messages to local streams
    (broadcasts are for the apps' streams, served by the events function)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[str, set[Stream]] = {}
        self._thread: threading.Thread | None = None
        self._subscribed = threading.Event()

    def open(self, audience: str, recipient_id: str) -> Stream:
        stream = Stream(audience, str(recipient_id))
        with self._lock:
            self._streams.setdefault(stream.channel, set()).add(stream)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sse-hub", daemon=True)
                self._thread.start()
        if not self._subscribed.wait(timeout=5):
            self.close(stream)
            raise redis.ConnectionError("the event hub could not subscribe to Valkey")
        return stream

    def close(self, stream: Stream) -> None:
        with self._lock:
            streams = self._streams.get(stream.channel)
            if streams is not None:
                streams.discard(stream)
                if not streams:
                    del self._streams[stream.channel]

    def _run(self) -> None:
        backoff = 0.05
        resubscribed = False
        while True:
            pubsub = None
            try:
                pubsub = valkey.client().pubsub()
                pubsub.psubscribe("events:*")
                while not self._confirmed(pubsub):
                    pass
                self._subscribed.set()
                if resubscribed:
                    self._to_all(RESYNC)
                backoff = 0.05
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "pmessage":
                        self._dispatch(message["channel"], message["data"])
            except Exception as exc:  # the hub must outlive any failure
                self._subscribed.clear()
                resubscribed = True
                log_event(
                    logger, 40, "event hub lost Valkey; resubscribing", error=type(exc).__name__
                )
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()

    @staticmethod
    def _confirmed(pubsub: Any) -> bool:
        # Wait for Valkey's psubscribe confirmation: until then a publish could be missed.
        message = pubsub.get_message(timeout=1.0)
        return message is not None and message.get("type") == "psubscribe"

    def _dispatch(self, channel: str, raw: str) -> None:
        if channel == BROADCAST_CHANNEL:
            return
        with self._lock:
            targets = list(self._streams.get(channel, ()))
        for stream in targets:
            stream.offer(raw)

    def _to_all(self, item: Any) -> None:
        with self._lock:
            streams = [s for group in self._streams.values() for s in group]
        for stream in streams:
            stream.offer(item)


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    global _hub
    if _hub is None:
        with _hub_lock:
            if _hub is None:
                _hub = Hub()
    return _hub
