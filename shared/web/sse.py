"""Server-sent event streams, and the per-process hub that feeds them.

One hub per process holds ONE Valkey pub/sub connection (a pattern subscription to
`events:*`) and one background thread that hands each message to the local streams it
concerns: `events:<audience>:<id>` to that recipient's streams, `events:broadcast` to the
local streams the message's route selects — for an offer, the local mitras available now
(one ZMSCORE per broadcast per instance over its own streams, whatever the number of
mitras); for its close, the local recipients this hub reached with the offer or whose
snapshot listed it (remembered here; one SMISMEMBER to skip those who declined). A stream
never holds a Valkey connection of its own (scale.md point 2).

A stream registers with the hub *before* its snapshot is read, so nothing published between
the snapshot and the first live event is lost. When the hub's connection drops, messages
published meanwhile are lost (pub/sub is fire-and-forget): after re-subscribing, the hub asks
every local stream to send a fresh snapshot.

With gunicorn's threaded worker (functions-framework's server) each open stream holds one
thread, so THREADS and Cloud Run concurrency bound the streams per instance (catalogue).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import redis
from flask import Response

from shared import valkey
from shared.events import BROADCAST_CHANNEL, envelope
from shared.log import get_logger, log_event
from shared.store import open_streams

logger = get_logger("halo.sse")

QUEUE_SIZE = 256
REPLAY_SIZE = 4096
# Topics (open requests) whose reached recipients a hub remembers; the oldest are forgotten
# first. Far above the requests open at once at the design target (2,000 clients).
REACHED_SIZE = 20_000
# Ephemeral events (a typing signal) are live or not at all: never replayed on reconnect,
# where they would claim someone is typing now. A substring test: no JSON parse per message.
EPHEMERAL_MARK = '"type": "chat.typing"'
_RESYNC = object()  # "send a fresh snapshot": the hub lost messages while reconnecting
_OVERFLOW = object()  # the reader is too slow; the stream ends and the app reconnects


def keepalive_interval_s() -> float:
    return float(os.environ.get("SSE_KEEPALIVE_S", "15"))


def max_stream_s() -> float:
    """Streams end before Cloud Run's request timeout, so the app reconnects cleanly."""
    return float(os.environ.get("SSE_MAX_STREAM_S", "3300"))


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
            # Drop everything queued: the app reconnects and gets a snapshot instead.
            while True:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    break
            self.queue.put_nowait(_OVERFLOW)


class Hub:
    """The process's single subscriber; dispatches to local streams."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[str, set[Stream]] = {}
        self._thread: threading.Thread | None = None
        self._subscribed = threading.Event()
        # Recent per-recipient messages (id, channel, raw), for Last-Event-ID on reconnect.
        self._recent: deque[tuple[str, str, str]] = deque(maxlen=REPLAY_SIZE)
        # topic (request id) → local recipient ids reached by it, for its closing event.
        self._reached: OrderedDict[str, set[str]] = OrderedDict()

    # -- streams ----------------------------------------------------------------------------

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

    def remember_reached(self, topic: str, recipient_ids: list[str]) -> None:
        """Note that these local recipients were shown `topic` (an offer), so its closing
        broadcast reaches them."""
        if not recipient_ids:
            return
        with self._lock:
            self._reached.setdefault(topic, set()).update(recipient_ids)
            self._reached.move_to_end(topic)
            while len(self._reached) > REACHED_SIZE:
                self._reached.popitem(last=False)

    def remember_snapshot(self, stream: Stream, raw: str) -> None:
        """A mitra snapshot lists open offers; their closing events must reach this stream
        like those of offers it received live."""
        try:
            offers = json.loads(raw).get("data", {}).get("offers") or ()
            topics = [str(offer["request_id"]) for offer in offers]
        except (ValueError, AttributeError, KeyError, TypeError):
            return
        for topic in topics:
            self.remember_reached(topic, [stream.recipient_id])

    def missed_since(self, stream: Stream, last_event_id: str) -> list[str] | None:
        """This recipient's messages after `last_event_id`, if this instance still has it."""
        recent = list(self._recent)
        for index, (event_id, _channel, _raw) in enumerate(recent):
            if event_id == last_event_id:
                return [raw for _id, ch, raw in recent[index + 1 :] if ch == stream.channel]
        return None

    # -- the subscriber thread --------------------------------------------------------------

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
                    self._to_all(_RESYNC)
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
            self._broadcast(raw)
            return
        event_id = _event_id(raw)
        if event_id and EPHEMERAL_MARK not in raw:
            self._recent.append((event_id, channel, raw))
        with self._lock:
            targets = list(self._streams.get(channel, ()))
        for stream in targets:
            stream.offer(raw)

    def _broadcast(self, raw: str) -> None:
        message = json.loads(raw)
        to = message.pop("to", {})
        prefix = f"events:{to.get('audience')}:"
        reached: set[str] = set()
        with self._lock:
            local = {
                ch[len(prefix) :]: list(streams)
                for ch, streams in self._streams.items()
                if ch.startswith(prefix)
            }
            if to.get("kind") == "reached":
                reached = self._reached.pop(str(to.get("topic")), set())
        excluded = set(to.get("exclude", ()))
        if to.get("kind") == "reached":
            candidates = [r for r in reached if r in local and r not in excluded]
            if candidates and to.get("skip_key"):
                skipped = valkey.client().smismember(to["skip_key"], candidates)
                candidates = [r for r, skip in zip(candidates, skipped, strict=True) if not skip]
        else:
            candidates = [r for r in local if r not in excluded]
            if candidates:
                scores = valkey.client().zmscore(to["available_key"], candidates)
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
        for recipient in candidates:
            for stream in local[recipient]:
                stream.offer(payload)

    def _to_all(self, item: Any) -> None:
        with self._lock:
            streams = [s for group in self._streams.values() for s in group]
        for stream in streams:
            stream.offer(item)


def _event_id(raw: str) -> str | None:
    try:
        return str(json.loads(raw).get("id"))
    except (ValueError, AttributeError):
        return None


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    global _hub
    if _hub is None:
        with _hub_lock:
            if _hub is None:
                _hub = Hub()
    return _hub


# -- the HTTP side ---------------------------------------------------------------------------


def format_event(raw: str) -> str:
    """One SSE frame from a JSON envelope: `id:` its id, `event:` its type, `data:` the JSON."""
    envelope = json.loads(raw)
    return f"id: {envelope['id']}\nevent: {envelope['type']}\ndata: {raw}\n\n"


Guard = Callable[[], str | None]
"""Re-checks an open stream's caller: the reason the stream must end (`suspended`,
`role_changed`, `password_changed`, `token_expired`, `signed_out`), or None."""

CLOSED_EVENT = "stream.closed"


def recheck_interval_s() -> float:
    from shared.config import get_config

    return get_config().stream_recheck_s


def run_guard(guard: Guard) -> str | None:
    """The guard's verdict; a store that is briefly unreachable keeps the stream open (the
    next re-check decides), rather than closing every open stream at once."""
    try:
        return guard()
    except Exception as exc:
        log_event(logger, 30, "stream re-check failed", error=type(exc).__name__)
        return None


def closing_frame(reason: str) -> str:
    """The one event a stream sends before it ends because its caller lost the right to it."""
    return format_event(envelope(CLOSED_EVENT, {"reason": reason}))


class _OpenMark:
    """This stream's entry in shared.store.open_streams (mitra streams only): refreshed once
    per keep-alive interval, lapsing two intervals after the last refresh. Best effort: a
    Valkey hiccup costs at most an extra push, never the stream."""

    def __init__(self, audience: str, recipient_id: str, keepalive_s: float) -> None:
        self._tracked = audience in open_streams.TRACKED_AUDIENCES
        self._audience = audience
        self._recipient = recipient_id
        self._token = secrets.token_hex(8)
        self._every_s = keepalive_s
        self._lapse_s = 2 * keepalive_s + 5
        self._last = 0.0

    def refresh(self) -> None:
        if not self._tracked:
            return
        self._last = time.monotonic()
        try:
            open_streams.mark_open(self._audience, self._recipient, self._token, self._lapse_s)
        except Exception as exc:
            log_event(logger, 30, "open-stream mark not refreshed", error=type(exc).__name__)

    def refresh_if_due(self) -> None:
        if self._tracked and time.monotonic() - self._last >= self._every_s:
            self.refresh()

    def clear(self) -> None:
        if not self._tracked:
            return
        try:
            open_streams.mark_closed(self._audience, self._recipient, self._token)
        except Exception as exc:
            log_event(logger, 30, "open-stream mark not cleared", error=type(exc).__name__)


def event_stream(
    audience: str,
    recipient_id: str,
    snapshot: Callable[[], str],
    last_event_id: str | None = None,
    guard: Guard | None = None,
) -> Response:
    """A `text/event-stream` response: `snapshot()` (a JSON envelope) first, then this
    recipient's missed events when `Last-Event-ID` is still known here, then live events,
    with a keep-alive comment whenever nothing was sent for the keep-alive interval. Every
    `STREAM_RECHECK_S` the `guard` re-checks the caller; when it names a reason, the stream
    sends `stream.closed` with it and ends."""
    the_hub = hub()
    stream = the_hub.open(audience, str(recipient_id))
    try:
        first = snapshot()
    except BaseException:
        the_hub.close(stream)
        raise
    the_hub.remember_snapshot(stream, first)
    missed = the_hub.missed_since(stream, last_event_id) if last_event_id else None
    keepalive = keepalive_interval_s()
    mark = _OpenMark(audience, str(recipient_id), keepalive)
    mark.refresh()

    def generate() -> Iterator[str]:
        try:
            yield f"retry: 3000\n{format_event(first)}"
            for raw in missed or ():
                yield format_event(raw)
            recheck = recheck_interval_s()
            now = time.monotonic()
            deadline = now + max_stream_s()
            # The first re-check is spread over the interval, so streams opened together
            # (a deploy, a reconnect wave) do not re-check together.
            next_keepalive, next_check = now + keepalive, now + recheck * random.uniform(0.5, 1)
            while (now := time.monotonic()) < deadline:
                mark.refresh_if_due()
                if guard is not None and now >= next_check:
                    reason = run_guard(guard)
                    if reason is not None:
                        yield closing_frame(reason)
                        return
                    next_check = now + recheck
                if now >= next_keepalive:
                    yield ": keep-alive\n\n"
                    next_keepalive = now + keepalive
                wake = min(next_keepalive, next_check if guard is not None else deadline)
                try:
                    item = stream.queue.get(timeout=max(0.0, wake - now))
                except queue.Empty:
                    continue
                if item is _OVERFLOW:
                    return
                if item is _RESYNC:
                    item = snapshot()
                    the_hub.remember_snapshot(stream, item)
                yield format_event(item)
                next_keepalive = time.monotonic() + keepalive
        finally:
            the_hub.close(stream)
            mark.clear()

    return Response(
        generate(),
        status=200,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
