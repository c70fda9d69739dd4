"""The apps' event streams on asyncio: the loop that serves one stream (the `events`
function, functions/events/), fed by the process's hub (shared/web/event_hub.py).

No thread per stream: an open stream is an inbox, a task, a timer and its socket
(docs/capacity.md, "Event streams"). Blocking work (the request pipeline's token
verification and SQL, snapshots, the caller re-check, open-stream marks) runs on a small
bounded thread pool (`SSE_BLOCKING_THREADS`), never on the loop. The request pipeline runs
unchanged on that pool (shared/web/asgi.py): the handler calls `event_stream()` there, which
opens the stream on the hub *before* reading the snapshot (nothing published in between is
lost) and returns an `EventStream` response; the async adapter then serves it.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from flask import Response

from shared.events import envelope
from shared.log import get_logger, log_event
from shared.store.live import streams as open_streams
from shared.web import sse
from shared.web.event_hub import AsyncStream, blocking, current_hub, executor

logger = get_logger("halo.sse")

_TICK = object()  # a stream's timer: keep-alive, re-check, mark refresh or deadline may be due
_GONE = object()  # the client disconnected

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


class EventStream(Response):
    """The answer of a stream route: status and headers are decided by the request pipeline
    (CORS, X-Request-Id); the body is served by `pump` on the loop."""

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
        super().__init__(status=200, mimetype=sse.MIMETYPE, headers=sse.HEADERS)
        self.live = stream
        self.first = first
        self.missed = missed
        self.snapshot = snapshot
        self.topics = topics
        self.guard = guard
        self.mark = mark

    def discard(self) -> None:
        """Never served (a HEAD request): leave the hub and the open-stream marks."""
        current_hub().close(self.live)
        if self.mark.tracked:
            asyncio.get_running_loop().run_in_executor(executor(), self.mark.clear)

    async def pump(
        self,
        send: Callable[[bytes], Awaitable[None]],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    ) -> None:
        """Snapshot, missed frames, then live frames, keep-alives and re-checks until the
        deadline, a re-check's verdict, an overflow or the client leaving."""
        from shared.config import get_config

        config = get_config()
        the_hub = current_hub()
        stream = self.live
        loop = asyncio.get_running_loop()
        keepalive, recheck = config.sse_keepalive_s, config.stream_recheck_s
        now = loop.time()
        deadline = now + config.sse_max_stream_s
        # The first re-check is spread over the interval, so streams opened together (a
        # deploy, a reconnect wave) do not re-check together.
        next_check = now + recheck * random.uniform(0.5, 1)
        next_keepalive = now + keepalive
        period = min(keepalive, recheck if self.guard is not None else keepalive)
        timer: asyncio.TimerHandle | None = None

        def tick() -> None:
            nonlocal timer
            stream.offer(_TICK)
            timer = loop.call_later(period, tick)

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            stream.gone = True
            stream.offer(_GONE)

        if self.mark.tracked:
            the_hub.track(self.mark)
        watcher = loop.create_task(watch())
        ending = loop.call_at(deadline, stream.offer, _TICK)
        try:
            await send(b"".join((sse.RETRY.encode(), self.first, *self.missed)))
            timer = loop.call_later(period, tick)
            while not stream.gone:
                batch: list[bytes] = []
                for item in await stream.take():
                    if item is _GONE or item is sse.OVERFLOW:
                        return
                    if item is sse.RESYNC:
                        batch.append(await self._fresh_snapshot())
                    elif isinstance(item, bytes):
                        batch.append(item)
                now = loop.time()
                if now >= deadline:
                    return
                # Frames go out before a due re-check: the re-check waits for a thread and
                # a row read, and a frame already queued must not wait with it.
                if batch:
                    await send(b"".join(batch))
                    next_keepalive = loop.time() + keepalive
                elif now >= next_keepalive:
                    await send(sse.KEEPALIVE.encode())
                    next_keepalive = now + keepalive
                if self.guard is not None and now >= next_check:
                    reason = await blocking(sse.run_guard, self.guard)
                    if reason is not None:
                        await send(sse.closing_frame(reason).encode())
                        return
                    next_check = now + recheck
        finally:
            if timer is not None:
                timer.cancel()
            ending.cancel()
            watcher.cancel()
            the_hub.close(stream)
            the_hub.untrack(self.mark)
            if self.mark.tracked:
                # Not awaited: the task may be cancelled; the pool runs it regardless.
                loop.run_in_executor(executor(), self.mark.clear)

    async def _fresh_snapshot(self) -> bytes:
        data = await blocking(self.snapshot)
        if self.topics is not None:
            await current_hub().attach(self.live, self.topics(data), None)
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
    return EventStream(
        stream=stream,
        first=sse.format_event(envelope("snapshot", data)).encode(),
        missed=missed or [],
        snapshot=snapshot,
        topics=topics,
        guard=guard,
        mark=mark,
    )
