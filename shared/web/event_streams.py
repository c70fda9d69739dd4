"""The apps' event streams on asyncio: the loop that serves one stream (the `events`
function, functions/events/), fed by the process's hub (shared/web/event_hub.py).

No thread per stream: an open stream is an inbox, a task and its socket (docs/capacity.md,
"Event streams"); the hub's one tick stands in for every stream's timers. Blocking work (the
request pipeline's token verification and SQL, snapshots, the caller re-checks, open-stream
marks) runs on a small bounded thread pool (`SSE_BLOCKING_THREADS`), never on the loop. The
request pipeline runs unchanged on that pool (shared/web/asgi.py): the handler calls
`event_stream()` there, which opens the stream on the hub *before* reading the snapshot
(nothing published in between is lost) and returns an `EventStream` response; the async
adapter then serves it with `pump`.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from flask import Response

from shared.events import envelope
from shared.log import get_logger, log_event
from shared.store.live import streams as open_streams
from shared.web import sse
from shared.web.event_hub import (
    END,
    GONE,
    KEEPALIVE,
    KEEPALIVE_DUE,
    AsyncStream,
    Verdict,
    Wire,
    blocking,
    current_hub,
    executor,
)

logger = get_logger("halo.sse")

Snapshot = Callable[[], dict[str, Any]]
Topics = Callable[[dict[str, Any]], Iterable[str]]
"""From a snapshot's data, the topics (e.g. offered request ids) whose closing broadcasts
must reach this stream as if it had received them live."""

# -- one stream ---------------------------------------------------------------------------------


class _OpenMark:
    """This stream's entry in shared.store.live.streams: set when it opens, renewed by the
    hub with every other local mark once per keep-alive interval, lapsing two intervals
    after the last renewal. Best effort: a Valkey hiccup costs at most an extra push, never
    the stream."""

    def __init__(self, audience: str, recipient_id: str, keepalive_s: float) -> None:
        self.tracked = audience in open_streams.TRACKED_AUDIENCES
        self._audience = audience
        self._recipient = recipient_id
        self._token = secrets.token_hex(8)
        self._lapse_s = 2 * keepalive_s + 5

    @property
    def entry(self) -> tuple[str, str, str]:
        return (self._audience, self._recipient, self._token)

    def refresh(self) -> None:
        if not self.tracked:
            return
        try:
            open_streams.mark_open(self._audience, self._recipient, self._token, self._lapse_s)
        except Exception as exc:
            log_event(logger, 30, "open-stream mark not refreshed", error=type(exc).__name__)

    def clear(self) -> None:
        if not self.tracked:
            return
        try:
            open_streams.mark_closed(self._audience, self._recipient, self._token)
        except Exception as exc:
            log_event(logger, 30, "open-stream mark not cleared", error=type(exc).__name__)


class Plan:
    """What serving a stream needs once its response has started: the hub's inbox, the
    first frames, and the means of a fresh snapshot and of the re-check. Kept apart from
    the Flask response, which is let go once the headers are sent."""

    __slots__ = ("first", "guard", "mark", "missed", "snapshot", "stream", "topics")

    def __init__(
        self,
        stream: AsyncStream,
        first: bytes,
        missed: list[bytes],
        snapshot: Snapshot,
        topics: Topics | None,
        guard: sse.Guard | None,
        mark: _OpenMark,
    ) -> None:
        self.stream = stream
        self.first: bytes | None = first
        self.missed: list[bytes] | None = missed
        self.snapshot = snapshot
        self.topics = topics
        self.guard = guard
        self.mark = mark


class EventStream(Response):
    """The answer of a stream route: status and headers are decided by the request pipeline
    (CORS, X-Request-Id); the body is served by `pump` on the loop."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(status=200, mimetype=sse.MIMETYPE, headers=sse.HEADERS)
        self.plan = plan

    def discard(self) -> None:
        """Never served (a HEAD request): leave the hub and the open-stream marks."""
        current_hub().close(self.plan.stream)
        if self.plan.mark.tracked:
            asyncio.get_running_loop().run_in_executor(executor(), self.plan.mark.clear)


async def pump(
    plan: Plan,
    send: Callable[[bytes], Awaitable[None]],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    writer: Wire | None,
) -> None:
    """Snapshot, missed frames, then live frames until the deadline, a re-check's verdict,
    an overflow or the client leaving. The hub writes frames into `writer` (when the ASGI
    server offers one) while this task sleeps; its tick sends keep-alives, re-checks the
    caller and notices the end of the connection. Without a writer, the task does the
    writing and a watcher task reads the client's disconnect."""
    from shared.config import get_config

    config = get_config()
    the_hub = current_hub()
    stream = plan.stream
    loop = asyncio.get_running_loop()
    now = time.monotonic()
    stream.deadline = now + config.sse_max_stream_s
    if plan.guard is not None:
        stream.guard = plan.guard
        # The first re-check is spread over the interval, so streams opened together (a
        # deploy, a reconnect wave) do not re-check together.
        stream.next_check = now + config.stream_recheck_s * random.uniform(0.5, 1)
    stream.writer = writer
    watcher = None if writer is not None else loop.create_task(_watch(stream, receive))
    mark = plan.mark
    if mark.tracked:
        the_hub.track(mark)
    try:
        first, missed = plan.first or b"", plan.missed or []
        plan.first = plan.missed = None  # sent once; not held for the stream's life
        await send(b"".join((sse.RETRY.encode(), first, *missed)))
        del first, missed
        stream.sent_at = time.monotonic()
        the_hub.serve(stream)
        while True:
            batch: list[bytes] = []
            keepalive = False
            verdict: str | None = None
            for item in await stream.take():
                if item is GONE or item is END or item is sse.OVERFLOW:
                    return
                if item is sse.RESYNC:
                    batch.append(await _fresh_snapshot(plan))
                elif item.__class__ is bytes:
                    batch.append(item)
                elif item is KEEPALIVE_DUE:
                    keepalive = True
                elif isinstance(item, Verdict):
                    verdict = item.reason
                    break
            if batch:
                await send(b"".join(batch))
                stream.sent_at = time.monotonic()
            elif keepalive:
                await send(KEEPALIVE)
            if verdict is not None:
                await send(sse.closing_frame(verdict).encode())
                return
    finally:
        if watcher is not None:
            watcher.cancel()
        the_hub.close(stream)
        the_hub.untrack(mark)
        if mark.tracked:
            # Not awaited: the task may be cancelled; the pool runs it regardless.
            loop.run_in_executor(executor(), mark.clear)


async def _watch(
    stream: AsyncStream, receive: Callable[[], Awaitable[MutableMapping[str, Any]]]
) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    stream.gone = True
    stream.offer(GONE)


async def _fresh_snapshot(plan: Plan) -> bytes:
    data = await blocking(plan.snapshot)
    if plan.topics is not None:
        await current_hub().attach(plan.stream, plan.topics(data), None)
    return sse.format_event(envelope("snapshot", data)).encode()


def event_stream(
    audience: str,
    recipient_id: str,
    snapshot: Snapshot,
    last_event_id: str | None = None,
    guard: sse.Guard | None = None,
    topics: Topics | None = None,
) -> EventStream:
    """A `text/event-stream` response: `snapshot()` (an event's data) first as a `snapshot`
    event, then this recipient's missed events when `Last-Event-ID` is still known here, then
    live events, with a keep-alive comment whenever nothing was sent for `SSE_KEEPALIVE_S`.
    Every `STREAM_RECHECK_S` the `guard` re-checks the caller; when it names a reason, the
    stream sends `stream.closed` with it and ends. Called by a handler on the blocking pool."""
    the_hub = current_hub()
    stream: AsyncStream = the_hub.call_from_thread(the_hub.open(audience, str(recipient_id)))
    try:
        data = snapshot()
        missed = the_hub.call_from_thread(
            the_hub.attach(stream, topics(data) if topics else (), last_event_id)
        )
    except BaseException:
        the_hub.close_from_thread(stream)
        raise
    mark = _OpenMark(audience, str(recipient_id), sse.keepalive_interval_s())
    mark.refresh()
    first = sse.format_event(envelope("snapshot", data)).encode()
    return EventStream(Plan(stream, first, missed or [], snapshot, topics, guard, mark))
