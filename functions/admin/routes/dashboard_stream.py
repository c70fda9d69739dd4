"""The dashboard as server-sent events (`/api/admin/dashboard/stream`), orphan alerts
interleaved. A module of its own: the only admin route that holds a connection open."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from flask import Response

from functions.admin.api import api
from shared import events
from shared.identity.operators import OperatorCaller
from shared.identity.tickets import VIEWER_STREAM
from shared.lazy import lazy_module
from shared.schemas.admin.dashboard import DashboardOut
from shared.web import Call
from shared.web.sse import (
    HEADERS,
    KEEPALIVE,
    MIMETYPE,
    RETRY,
    Guard,
    Stream,
    closing_frame,
    format_event,
    hub,
    max_stream_s,
    recheck_interval_s,
    run_guard,
)

if TYPE_CHECKING:
    from shared.domain import dashboard, orphans
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    dashboard = lazy_module("shared.domain.dashboard")
    orphans = lazy_module("shared.domain.orphans")


@api.get("/api/admin/dashboard/stream", auth=VIEWER_STREAM, stream=True)
def dashboard_stream(call: Call[OperatorCaller]) -> Response:
    """The dashboard as server-sent events: on every change, and at least every 5 s.
    `?ticket=` (from `POST /api/admin/stream-tickets`) may replace `Authorization`."""
    # Orphan alerts (`session.orphaned`) are forwarded as their own events between frames;
    # the handled orphan also changes the figures, so the alert goes out within a tick.
    alerts = hub().open("admin", orphans.ALERT_RECIPIENT)
    try:
        first = dashboard.snapshot()
    except BaseException:
        hub().close(alerts)
        raise
    later = dashboard.watch(first, until=time.monotonic() + max_stream_s())
    return _event_stream(first, later, alerts, call.guard)


def _event_stream(
    first: dashboard.Dashboard,
    later: Iterator[dashboard.Dashboard | None],
    alerts: Stream,
    guard: Guard | None,
) -> Response:
    def frame(board: dashboard.Dashboard | None) -> str:
        if board is None:
            return KEEPALIVE
        payload = DashboardOut.of(board).model_dump(mode="json")
        return format_event(events.envelope("dashboard", payload))

    def pending_alerts() -> Iterator[str]:
        while True:
            try:
                item = alerts.queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, str):  # hub control items (resync, overflow) are not alerts
                yield format_event(item)

    def generate() -> Iterator[str]:
        # The feed yields at least every DASHBOARD_MAX_SILENCE_S, so a re-check is due at
        # most that long after STREAM_RECHECK_S.
        recheck = recheck_interval_s()
        next_check = time.monotonic() + recheck
        try:
            yield RETRY + frame(first)
            for board in later:
                if guard is not None and time.monotonic() >= next_check:
                    reason = run_guard(guard)
                    if reason is not None:
                        yield closing_frame(reason)
                        return
                    next_check = time.monotonic() + recheck
                yield from pending_alerts()
                yield frame(board)
        finally:
            hub().close(alerts)
            close = getattr(later, "close", None)
            if close is not None:
                close()

    return Response(generate(), mimetype=MIMETYPE, headers=HEADERS)
