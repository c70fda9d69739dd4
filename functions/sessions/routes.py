"""Sessions routes: a client's and a mitra's sessions, ending one, and chatting in one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.domain import sessions
from shared.errors import Conflict, NotFound, SessionEnded
from shared.identity.policies import CLIENT, MITRA, ClientCaller, MitraCaller
from shared.lazy import lazy_module
from shared.schemas.chat import MessageOut, MessagePageOut, MessagesQuery, ReadIn, SendMessageIn
from shared.schemas.sessions import (
    EndSessionIn,
    MitraListQuery,
    SessionOut,
    SessionPageOut,
)
from shared.web import Api, Call
from shared.web.api import Reply
from shared.web.pagination import PageQuery

if TYPE_CHECKING:
    from shared.domain import chat
else:
    # Loaded with the first chat request: listing, reading and ending sessions (an app's
    # first calls) need none of it, and it brings the message store, the chat keyring and
    # the rate limiter (≈ 5 ms of this function's cold start, docs/performance.md).
    chat = lazy_module("shared.domain.chat")

api = Api("sessions", title="Halo Bestie sessions")


@api.get("/api/client/sessions/active", auth=CLIENT, response=SessionOut, errors=(NotFound,))
def client_active(call: Call[ClientCaller]) -> SessionOut:
    """The client's active session."""
    caller = call.caller
    return SessionOut.of(sessions.active_for_client(caller.client.id))


@api.get("/api/client/sessions", auth=CLIENT, query=PageQuery, response=SessionPageOut)
def client_list(call: Call[ClientCaller, None, PageQuery]) -> SessionPageOut:
    """The client's sessions, newest first."""
    caller = call.caller
    query = call.query
    found = sessions.list_for_client(caller.client.id, limit=query.limit + 1, after=query.after)
    return SessionPageOut.of(found, query.limit)


@api.get(
    "/api/client/sessions/<uuid:session_id>",
    auth=CLIENT,
    response=SessionOut,
    errors=(NotFound,),
)
def client_get(call: Call[ClientCaller]) -> SessionOut:
    """One of the client's sessions."""
    caller = call.caller
    session_id: UUID = call.params["session_id"]
    return SessionOut.of(sessions.get(session_id, "client", caller.client.id))


@api.post(
    "/api/client/sessions/<uuid:session_id>/end",
    auth=CLIENT,
    body=EndSessionIn,
    response=SessionOut,
    errors=(NotFound,),
)
def client_end(call: Call[ClientCaller, EndSessionIn]) -> SessionOut:
    """End the session (idempotent)."""
    caller = call.caller
    session_id: UUID = call.params["session_id"]
    return SessionOut.of(sessions.end_as("client", caller.client.id, session_id, call.body.reason))


@api.get("/api/mitra/sessions", auth=MITRA, query=MitraListQuery, response=SessionPageOut)
def mitra_list(call: Call[MitraCaller, None, MitraListQuery]) -> SessionPageOut:
    """The mitra's sessions, newest first, optionally only active or ended ones."""
    caller = call.caller
    query = call.query
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
def mitra_get(call: Call[MitraCaller]) -> SessionOut:
    """One of the mitra's sessions."""
    caller = call.caller
    session_id: UUID = call.params["session_id"]
    return SessionOut.of(sessions.get(session_id, "mitra", caller.mitra.id))


@api.post(
    "/api/mitra/sessions/<uuid:session_id>/end",
    auth=MITRA,
    body=EndSessionIn,
    response=SessionOut,
    errors=(NotFound,),
)
def mitra_end(call: Call[MitraCaller, EndSessionIn]) -> SessionOut:
    """End the session (idempotent)."""
    caller = call.caller
    session_id: UUID = call.params["session_id"]
    return SessionOut.of(sessions.end_as("mitra", caller.mitra.id, session_id, call.body.reason))


# -- chat (docs/chat.md) ---------------------------------------------------------------------

# Bad input and rate limits are the pipeline's own; a full session is a `conflict`.
_SEND_ERRORS = (NotFound, SessionEnded, Conflict)


def _send(call: Call[Any, SendMessageIn], side: chat.Side, caller_id: UUID) -> Reply:
    sent = chat.send(
        side, caller_id, call.params["session_id"], call.body.client_message_id, call.body.text
    )
    return Reply(MessageOut.of(sent.message), status=201 if sent.created else 200)


def _history(
    call: Call[Any, None, MessagesQuery], side: chat.Side, caller_id: UUID
) -> MessagePageOut:
    query = call.query
    before = query.after.params(UUID)["after_id"] if query.after else None
    found = chat.history(
        side,
        caller_id,
        call.params["session_id"],
        before=before,
        since=query.since,
        limit=query.limit + 1,
    )
    if query.since is not None:
        return MessagePageOut(
            items=[MessageOut.of(v) for v in found[: query.limit]], next_cursor=None
        )
    return MessagePageOut.of(found, query.limit)


@api.post(
    "/api/client/sessions/<uuid:session_id>/messages",
    auth=CLIENT,
    body=SendMessageIn,
    response=MessageOut,
    status=201,
    errors=_SEND_ERRORS,
    also={200: "A retry with the same client_message_id and text: the first message"},
)
def client_send(call: Call[ClientCaller, SendMessageIn]) -> Reply:
    """Send a message (201; a retry with the same client_message_id returns it with 200)."""
    caller = call.caller
    return _send(call, "client", caller.client.id)


@api.get(
    "/api/client/sessions/<uuid:session_id>/messages",
    auth=CLIENT,
    query=MessagesQuery,
    response=MessagePageOut,
    errors=(NotFound,),
)
def client_messages(call: Call[ClientCaller, None, MessagesQuery]) -> MessagePageOut:
    """The session's messages, newest first (or after `since`, oldest first)."""
    caller = call.caller
    return _history(call, "client", caller.client.id)


@api.post(
    "/api/client/sessions/<uuid:session_id>/read",
    auth=CLIENT,
    body=ReadIn,
    status=204,
    errors=(NotFound,),
)
def client_read(call: Call[ClientCaller, ReadIn]) -> None:
    """Mark the messages up to `up_to` read; the mitra gets `chat.read`."""
    caller = call.caller
    chat.mark_read("client", caller.client.id, call.params["session_id"], call.body.up_to)


@api.post(
    "/api/client/sessions/<uuid:session_id>/typing",
    auth=CLIENT,
    status=204,
    errors=(NotFound, SessionEnded),
)
def client_typing(call: Call[ClientCaller]) -> None:
    """Tell the mitra the client is typing (`chat.typing`, never stored)."""
    caller = call.caller
    chat.typing("client", caller.client.id, call.params["session_id"])


@api.post(
    "/api/mitra/sessions/<uuid:session_id>/messages",
    auth=MITRA,
    body=SendMessageIn,
    response=MessageOut,
    status=201,
    errors=_SEND_ERRORS,
    also={200: "A retry with the same client_message_id and text: the first message"},
)
def mitra_send(call: Call[MitraCaller, SendMessageIn]) -> Reply:
    """Send a message (201; a retry with the same client_message_id returns it with 200)."""
    caller = call.caller
    return _send(call, "mitra", caller.mitra.id)


@api.get(
    "/api/mitra/sessions/<uuid:session_id>/messages",
    auth=MITRA,
    query=MessagesQuery,
    response=MessagePageOut,
    errors=(NotFound,),
)
def mitra_messages(call: Call[MitraCaller, None, MessagesQuery]) -> MessagePageOut:
    """The session's messages, newest first (or after `since`, oldest first)."""
    caller = call.caller
    return _history(call, "mitra", caller.mitra.id)


@api.post(
    "/api/mitra/sessions/<uuid:session_id>/read",
    auth=MITRA,
    body=ReadIn,
    status=204,
    errors=(NotFound,),
)
def mitra_read(call: Call[MitraCaller, ReadIn]) -> None:
    """Mark the messages up to `up_to` read; the client gets `chat.read`."""
    caller = call.caller
    chat.mark_read("mitra", caller.mitra.id, call.params["session_id"], call.body.up_to)


@api.post(
    "/api/mitra/sessions/<uuid:session_id>/typing",
    auth=MITRA,
    status=204,
    errors=(NotFound, SessionEnded),
)
def mitra_typing(call: Call[MitraCaller]) -> None:
    """Tell the client the mitra is typing (`chat.typing`, never stored)."""
    caller = call.caller
    chat.typing("mitra", caller.mitra.id, call.params["session_id"])
