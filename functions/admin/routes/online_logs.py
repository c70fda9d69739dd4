"""Mitra online/offline transitions and daily online durations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.identity.operators import VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.online_logs import (
    DurationOut,
    DurationPage,
    MitraOnlineLogQuery,
    OnlineLogQuery,
    TransitionOut,
    TransitionPage,
)
from shared.web import Call
from shared.web.pagination import page_of

if TYPE_CHECKING:
    from shared.domain import online_logs
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    online_logs = lazy_module("shared.domain.online_logs")


@api.get(
    "/api/admin/mitras/<uuid:mitra_id>/online-logs",
    auth=VIEWER,
    query=MitraOnlineLogQuery,
    response=TransitionPage,
)
def mitra_online_logs(call: Call[OperatorCaller, None, MitraOnlineLogQuery]) -> TransitionPage:
    """One mitra's online/offline transitions, newest first."""
    query = call.query
    rows = online_logs.transitions(
        mitra_id=call.params["mitra_id"],
        at_from=query.at_from,
        at_to=query.at_to,
        after=query.after,
        limit=query.limit + 1,
        require_mitra=True,
    )
    return page_of(TransitionPage, rows, query.limit, lambda r: (r.at, r.id), TransitionOut.of)


@api.get("/api/admin/online-logs", auth=VIEWER, query=OnlineLogQuery, response=TransitionPage)
def all_online_logs(call: Call[OperatorCaller, None, OnlineLogQuery]) -> TransitionPage:
    """Every mitra's online/offline transitions, newest first."""
    query = call.query
    rows = online_logs.transitions(
        mitra_id=query.mitra_id,
        at_from=query.at_from,
        at_to=query.at_to,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(TransitionPage, rows, query.limit, lambda r: (r.at, r.id), TransitionOut.of)


@api.get("/api/admin/online-durations", auth=VIEWER, query=OnlineLogQuery, response=DurationPage)
def online_durations(call: Call[OperatorCaller, None, OnlineLogQuery]) -> DurationPage:
    """Seconds online per mitra per Asia/Jakarta day, newest day first (default: 7 days)."""
    query = call.query
    rows = online_logs.durations(
        mitra_id=query.mitra_id,
        at_from=query.at_from,
        at_to=query.at_to,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(
        DurationPage, rows, query.limit, lambda r: (r.day_start, r.mitra_id), DurationOut.of
    )
