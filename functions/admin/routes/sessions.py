"""Session management: list, view, end, reroute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.errors import AlreadySearching, AtCapacity, Conflict, NotOnline, SessionEnded
from shared.identity.operators import ADMIN, VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.sessions import (
    AdminEndIn,
    AdminSessionOut,
    AdminSessionPage,
    RerouteIn,
    RerouteQueuedOut,
    SessionQuery,
)
from shared.web import Call, Reply
from shared.web.pagination import page_of

if TYPE_CHECKING:
    from shared.domain import reroute
    from shared.domain.admin import sessions
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    reroute = lazy_module("shared.domain.reroute")
    sessions = lazy_module("shared.domain.admin.sessions")


@api.get("/api/admin/sessions", auth=VIEWER, query=SessionQuery, response=AdminSessionPage)
def list_sessions(call: Call[OperatorCaller, None, SessionQuery]) -> AdminSessionPage:
    """Sessions, newest first, by status, mitra, client, start time or orphaned."""
    query = call.query
    views = sessions.session_page(
        status=query.status,
        mitra_id=query.mitra_id,
        client_id=query.client_id,
        started_from=query.started_from,
        started_to=query.started_to,
        orphaned=query.orphaned,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(
        AdminSessionPage,
        views,
        query.limit,
        lambda v: (v.row.started_at, v.row.id),
        AdminSessionOut.of,
    )


@api.get("/api/admin/sessions/<uuid:session_id>", auth=VIEWER, response=AdminSessionOut)
def get_session(call: Call[OperatorCaller]) -> AdminSessionOut:
    """One session with every mitra it had."""
    return AdminSessionOut.of(sessions.get_session(call.params["session_id"]))


@api.post(
    "/api/admin/sessions/<uuid:session_id>/end",
    auth=ADMIN,
    body=AdminEndIn,
    response=AdminSessionOut,
)
def end_session(call: Call[OperatorCaller, AdminEndIn]) -> AdminSessionOut:
    """End a session now (both apps get `session.ended`); idempotent."""
    caller = call.caller
    return AdminSessionOut.of(
        sessions.end_session(caller.id, call.params["session_id"], call.body.reason)
    )


@api.post(
    "/api/admin/sessions/<uuid:session_id>/reroute",
    auth=ADMIN,
    body=RerouteIn,
    response=AdminSessionOut,
    errors=(NotOnline, AtCapacity, SessionEnded, AlreadySearching, Conflict),
    also={202: RerouteQueuedOut},
)
def reroute_session(call: Call[OperatorCaller, RerouteIn]) -> AdminSessionOut | Reply:
    """Move the session to a named mitra (200), or re-blast it to available mitras (202)."""
    caller = call.caller
    session_id = call.params["session_id"]
    if call.body.mitra_id is not None:
        return AdminSessionOut.of(reroute.to_mitra(caller.id, session_id, call.body.mitra_id))
    request = reroute.reblast(caller.id, session_id)
    return Reply(RerouteQueuedOut.of(request, session_id), status=202)
