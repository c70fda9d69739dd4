"""Sessions routes: a client's and a mitra's sessions, and ending one."""

from __future__ import annotations

from uuid import UUID

from shared.domain import sessions
from shared.errors import NotFound
from shared.identity.policies import CLIENT, MITRA, ClientCaller, MitraCaller
from shared.schemas.sessions import (
    EndSessionIn,
    MitraListQuery,
    SessionOut,
    SessionPageOut,
)
from shared.web import Api, Call
from shared.web.pagination import PageQuery

api = Api("sessions", title="Halo Bestie sessions")


@api.get("/api/client/sessions/active", auth=CLIENT, response=SessionOut, errors=(NotFound,))
def client_active(call: Call[None]) -> SessionOut:
    """The client's active session."""
    caller: ClientCaller = call.caller
    return SessionOut.of(sessions.active_for_client(caller.client.id))


@api.get("/api/client/sessions", auth=CLIENT, query=PageQuery, response=SessionPageOut)
def client_list(call: Call[None]) -> SessionPageOut:
    """The client's sessions, newest first."""
    caller: ClientCaller = call.caller
    query: PageQuery = call.query
    found = sessions.list_for_client(caller.client.id, limit=query.limit + 1, after=query.after)
    return SessionPageOut.of(found, query.limit)


@api.get(
    "/api/client/sessions/<uuid:session_id>",
    auth=CLIENT,
    response=SessionOut,
    errors=(NotFound,),
)
def client_get(call: Call[None]) -> SessionOut:
    """One of the client's sessions."""
    caller: ClientCaller = call.caller
    session_id: UUID = call.params["session_id"]
    return SessionOut.of(sessions.get(session_id, "client", caller.client.id))


@api.post(
    "/api/client/sessions/<uuid:session_id>/end",
    auth=CLIENT,
    body=EndSessionIn,
    response=SessionOut,
    errors=(NotFound,),
)
def client_end(call: Call[EndSessionIn]) -> SessionOut:
    """End the session (idempotent)."""
    caller: ClientCaller = call.caller
    session_id: UUID = call.params["session_id"]
    return SessionOut.of(sessions.end_as("client", caller.client.id, session_id, call.body.reason))


@api.get("/api/mitra/sessions", auth=MITRA, query=MitraListQuery, response=SessionPageOut)
def mitra_list(call: Call[None]) -> SessionPageOut:
    """The mitra's sessions, newest first, optionally only active or ended ones."""
    caller: MitraCaller = call.caller
    query: MitraListQuery = call.query
    found = sessions.list_for_mitra(
        caller.mitra.id, status=query.status, limit=query.limit + 1, after=query.after
    )
    return SessionPageOut.of(found, query.limit)


@api.get(
    "/api/mitra/sessions/<uuid:session_id>",
    auth=MITRA,
    response=SessionOut,
    errors=(NotFound,),
)
def mitra_get(call: Call[None]) -> SessionOut:
    """One of the mitra's sessions."""
    caller: MitraCaller = call.caller
    session_id: UUID = call.params["session_id"]
    return SessionOut.of(sessions.get(session_id, "mitra", caller.mitra.id))


@api.post(
    "/api/mitra/sessions/<uuid:session_id>/end",
    auth=MITRA,
    body=EndSessionIn,
    response=SessionOut,
    errors=(NotFound,),
)
def mitra_end(call: Call[EndSessionIn]) -> SessionOut:
    """End the session (idempotent)."""
    caller: MitraCaller = call.caller
    session_id: UUID = call.params["session_id"]
    return SessionOut.of(sessions.end_as("mitra", caller.mitra.id, session_id, call.body.reason))
