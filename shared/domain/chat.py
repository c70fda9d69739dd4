"""In-session chat: sending, reading and read receipts, live delivery, and the push when the
other side's app is not listening (docs/chat.md).

Only the session's participants take part: its client, and the mitra holding it now. Anyone
else — including a mitra the session was rerouted away from — gets `not_found`, exactly as
for a session that does not exist. The mitra a session was rerouted to sees the messages
from before its arrival only when the setting `chat_history_after_reroute` is "visible"
(the default, for continuity of care).

A send is idempotent on the sender's `client_message_id`: the retry of a stored message
returns it (created = False); the same id with other text is a `conflict`. The message's
`seq` is handed out under the session row's lock, so seq order is commit order; events are
published after the commit and may interleave between two concurrent sends, which is why
apps order by `seq` and read the gap when one shows (docs/chat.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from shared import chat_crypto, db, domain_events, events, ratelimit
from shared.config import get_config
from shared.domain import settings
from shared.errors import Conflict, InvalidRequest, NotFound, SessionEnded, Unavailable
from shared.log import get_logger, log_event
from shared.store import chat_messages as store
from shared.store import sessions as session_store
from shared.store.chat_messages import MessageRow
from shared.store.live import pushes, streams
from shared.store.sessions import SessionRow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

logger = get_logger("halo.chat")

Side = Literal["client", "mitra"]


@dataclass(frozen=True, slots=True)
class MessageView:
    id: UUID
    session_id: UUID
    seq: int
    sender: str
    text: str | None  # None once erased (account deletion)
    sent_at: datetime
    client_message_id: str | None  # shown to its sender only, for matching optimistic sends


@dataclass(frozen=True, slots=True)
class Sent:
    message: MessageView
    created: bool


class _Replay(Exception):
    """Inside the send transaction: the message already exists; roll the count back."""

    def __init__(self, row: MessageRow) -> None:
        self.row = row


# -- sending --------------------------------------------------------------------------------


def send(side: Side, sender_id: UUID, session_id: UUID, client_message_id: str, text: str) -> Sent:
    ratelimit.hit("chat-send", f"{side}:{sender_id}", get_config().chat_send_rate)
    with db.read() as connection:
        _participant_session(connection, session_id, side, sender_id)
        existing = store.by_retry_key(connection, session_id, side, sender_id, client_message_id)
    if existing is not None:
        return Sent(_replayed(existing, text, side), created=False)

    ring = _keyring()
    limit = settings.current().chat_max_messages_per_session
    message_id = uuid.uuid4()
    try:
        with db.transaction() as connection:
            slot = store.take_slot(connection, session_id, limit)
            if slot is None:
                raise _why_no_slot(connection, session_id, side, sender_id, limit)
            if (slot.client_id if side == "client" else slot.mitra_id) != sender_id:
                raise NotFound("No session with that id.")  # rerouted away meanwhile
            # Under the session's lock a concurrent first send of this id has committed.
            earlier = store.by_retry_key(connection, session_id, side, sender_id, client_message_id)
            if earlier is not None:
                raise _Replay(earlier)
            sealed = ring.seal(text, session_id, message_id)
            row = store.insert(
                connection,
                message_id=message_id,
                session_id=session_id,
                seq=slot.seq,
                sender=side,
                sender_id=sender_id,
                client_message_id=client_message_id,
                key_id=sealed.key_id,
                nonce=sealed.nonce,
                ciphertext=sealed.ciphertext,
            )
    except _Replay as replay:
        return Sent(_replayed(replay.row, text, side), created=False)

    _deliver(row, text, slot.client_id, slot.mitra_id)
    return Sent(_view(row, text, side), created=True)


def _why_no_slot(
    connection: Connection, session_id: UUID, side: Side, sender_id: UUID, limit: int
) -> Exception:
    session = _participant_session(connection, session_id, side, sender_id)
    if session.status != "active":
        return SessionEnded("This session has ended; its history stays readable.")
    return Conflict(
        "This session has reached its message limit.", reason="message_limit", limit=limit
    )


def _replayed(existing: MessageRow, text: str, side: Side) -> MessageView:
    stored = _text(existing)
    if stored is not None and stored != text:
        raise Conflict(
            "This client_message_id was already used for another text.",
            fields=[{"field": "client_message_id", "error": "reused"}],
        )
    return _view(existing, stored, side)


def _deliver(row: MessageRow, text: str, client_id: UUID, mitra_id: UUID) -> None:
    """After the commit: the message on both participants' streams (the sender's other
    devices too), and a neutral push to the recipient when no stream of theirs is open."""
    for audience, recipient in (("client", client_id), ("mitra", mitra_id)):
        view = _view(row, text, audience)  # type: ignore[arg-type]
        events.publish(audience, recipient, "chat.message", message_data(view))  # type: ignore[arg-type]
    recipient_side: Side = "mitra" if row.sender == "client" else "client"
    recipient_id = mitra_id if recipient_side == "mitra" else client_id
    try:
        _push_if_away(row.session_id, row.id, recipient_side, recipient_id)
    except Exception as exc:  # a push is a courtesy; the message is stored and published
        log_event(logger, 30, "chat push not planned", error=type(exc).__name__)


def _push_if_away(session_id: UUID, message_id: UUID, side: Side, recipient_id: UUID) -> None:
    if streams.is_open(side, str(recipient_id)):
        return
    window = get_config().chat_push_window_s
    if window > 0 and not pushes.first_chat_push_in_window(session_id, side, window):
        return  # pushed for this chat moments ago; the notification collapses anyway
    domain_events.emit(
        "chat.message",
        {
            "session_id": str(session_id),
            "message_id": str(message_id),
            "recipient": side,
            "recipient_id": str(recipient_id),
        },
    )


def message_data(view: MessageView) -> dict[str, Any]:
    return {
        "id": str(view.id),
        "session_id": str(view.session_id),
        "seq": view.seq,
        "sender": view.sender,
        "text": view.text,
        "sent_at": view.sent_at.isoformat(),
        "client_message_id": view.client_message_id,
    }


# -- reading --------------------------------------------------------------------------------


def history(
    side: Side,
    viewer_id: UUID,
    session_id: UUID,
    *,
    before: UUID | None,
    since: UUID | None,
    limit: int,
) -> list[MessageView]:
    """Newest first before the message `before` (the cursor), or oldest first after the
    message `since` (catching up after a reconnect); `limit` rows at most."""
    with db.read() as connection:
        session = _participant_session(connection, session_id, side, viewer_id)
        before_seq = _anchor(connection, session_id, before, "cursor") if before else None
        since_seq = _anchor(connection, session_id, since, "since") if since else None
        rows = store.page(
            connection,
            session_id,
            before_seq=before_seq,
            after_seq=since_seq,
            visible_from=_visible_from(connection, session, side),
            limit=limit,
        )
    return [_view(row, _text(row), side) for row in rows]


def _anchor(connection: Connection, session_id: UUID, message_id: UUID, field: str) -> int:
    row = store.by_id(connection, message_id)
    if row is None or row.session_id != session_id:
        raise InvalidRequest(
            f"The {field} is not one this session's messages gave.",
            fields=[{"field": field, "error": f"invalid_{field}"}],
        )
    return row.seq


def _visible_from(connection: Connection, session: SessionRow, side: Side) -> datetime | None:
    if side == "client" or settings.current().chat_history_after_reroute == "visible":
        return None
    stints = session_store.assignments(connection, [session.id])[session.id]
    mine = [s for s in stints if s.mitra_id == session.mitra_id]
    return mine[-1].assigned_at if mine else None


# -- read receipts and typing ---------------------------------------------------------------


def mark_read(side: Side, reader_id: UUID, session_id: UUID, up_to: UUID) -> None:
    """Move the reader's mark to `up_to` (never back); the other side gets `chat.read`."""
    with db.transaction() as connection:
        session = _participant_session(connection, session_id, side, reader_id)
        seq = _anchor(connection, session_id, up_to, "up_to")
        moved = store.mark_read(connection, session_id, side, seq)
    if not moved:
        return  # not past the mark already made: nothing new to tell
    other: Side = "mitra" if side == "client" else "client"
    events.publish(
        other,
        session.mitra_id if other == "mitra" else session.client_id,
        "chat.read",
        {"session_id": str(session_id), "reader": side, "up_to": str(up_to), "up_to_seq": seq},
    )


def typing(side: Side, sender_id: UUID, session_id: UUID) -> None:
    """Tell the other side someone is typing: pub/sub only, never stored."""
    ratelimit.hit("chat-typing", f"{side}:{sender_id}", get_config().chat_typing_rate)
    with db.read() as connection:
        session = _participant_session(connection, session_id, side, sender_id)
    if session.status != "active":
        raise SessionEnded("This session has ended.")
    other: Side = "mitra" if side == "client" else "client"
    events.publish(
        other,
        session.mitra_id if other == "mitra" else session.client_id,
        "chat.typing",
        {"session_id": str(session_id), "sender": side},
    )


# -- helpers --------------------------------------------------------------------------------


def _participant_session(
    connection: Connection, session_id: UUID, side: Side, viewer_id: UUID
) -> SessionRow:
    session = session_store.by_id(connection, session_id)
    owner = (
        None if session is None else (session.client_id if side == "client" else session.mitra_id)
    )
    if session is None or owner != viewer_id:
        raise NotFound("No session with that id.")
    return session


def _keyring() -> chat_crypto.Keyring:
    try:
        return chat_crypto.keyring()
    except chat_crypto.KeyringError as exc:
        log_event(logger, 50, "chat keyring unusable", error=str(exc))
        raise Unavailable("Chat is briefly unavailable.") from None


def _text(row: MessageRow) -> str | None:
    if row.erased_at is not None or row.key_id is None:
        return None
    assert row.nonce is not None and row.ciphertext is not None
    try:
        return _keyring().open(
            chat_crypto.Sealed(row.key_id, row.nonce, row.ciphertext), row.session_id, row.id
        )
    except chat_crypto.KeyringError as exc:
        log_event(logger, 50, "chat message unreadable", error=str(exc), message_id=str(row.id))
        raise Unavailable("Chat is briefly unavailable.") from None


def _view(row: MessageRow, text: str | None, viewer: Side) -> MessageView:
    return MessageView(
        id=row.id,
        session_id=row.session_id,
        seq=row.seq,
        sender=row.sender,
        text=text,
        sent_at=row.sent_at,
        client_message_id=row.client_message_id if row.sender == viewer else None,
    )
