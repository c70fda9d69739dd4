"""The `data` of every event the SSE streams send, one model per event type and audience.
Not used to build the payloads (the domain publishes plain dicts through Valkey); they
describe them for the AsyncAPI documents (shared.web.asyncapi), and the tests validate
frames captured from real streams against the JSON Schemas derived from them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.schemas.admin.dashboard import DashboardOut


class EventData(BaseModel):
    # The apps must accept fields added later (the contract: bodies may carry more fields).
    # Built on first use, as every schema (shared.schemas.common).
    model_config = ConfigDict(extra="allow", defer_build=True)


class VisibleMitra(EventData):
    """A mitra as a client may see them: hidden fields are null, never an id
    (shared.domain.visibility)."""

    name: str | None
    photo_url: str | None


class VisibleClient(EventData):
    """A client as a mitra may see them: hidden fields are null, never an id."""

    display_name: str | None


# -- both sides ------------------------------------------------------------------------------


class SessionEnded(EventData):
    session_id: UUID
    status: Literal["ended"]
    ended_by: Literal["client", "mitra", "operator", "system"] | None
    end_reason: str | None
    ended_at: datetime | None


class StreamClosed(EventData):
    """The last event of a stream whose caller lost the right to it."""

    reason: Literal["suspended", "role_changed", "password_changed", "token_expired", "signed_out"]


class ChatMessage(EventData):
    """A message in the session (docs/chat.md): to both participants, the sender's other
    devices included. `text` is null once erased."""

    id: UUID
    session_id: UUID
    seq: int
    sender: Literal["client", "mitra"]
    text: str | None
    sent_at: datetime
    client_message_id: str | None


class ChatRead(EventData):
    """The other side has read up to a message."""

    session_id: UUID
    reader: Literal["client", "mitra"]
    up_to: UUID
    up_to_seq: int


class ChatTyping(EventData):
    """The other side is typing (ephemeral: never stored, never replayed)."""

    session_id: UUID
    sender: Literal["client", "mitra"]


# -- client stream ---------------------------------------------------------------------------


class SnapshotRequest(EventData):
    id: UUID
    status: Literal["searching"]
    expires_at: datetime
    offered_to: int | None


class SnapshotSession(EventData):
    id: UUID
    status: Literal["active"]
    started_at: datetime
    mitra: VisibleMitra | None


class ClientSnapshot(EventData):
    """First event of every client stream (and again after a resync): the open request or
    the active session, each null when there is none."""

    request: SnapshotRequest | None
    session: SnapshotSession | None


class PairingMatched(EventData):
    request_id: UUID
    session_id: UUID
    mitra: VisibleMitra


class PairingExpired(EventData):
    request_id: UUID


class ClientSessionStarted(EventData):
    request_id: UUID
    session_id: UUID
    mitra: VisibleMitra


class ClientSessionRerouted(EventData):
    """`phase: searching` while a re-blast looks for another mitra (`pairing_request_id`),
    `phase: moved` once the session has a new mitra (`mitra`, as anonymity allows)."""

    session_id: UUID
    reason: str
    phase: Literal["searching", "moved"]
    pairing_request_id: UUID | None = None
    mitra: VisibleMitra | None = None


# -- mitra stream ----------------------------------------------------------------------------


class Offer(EventData):
    request_id: UUID
    client: VisibleClient
    created_at: datetime
    expires_at: datetime


class MitraSnapshot(EventData):
    """First event of every mitra stream: the offers still open to this mitra."""

    offers: list[Offer]


class OfferClosed(EventData):
    request_id: UUID
    reason: Literal["taken", "cancelled", "expired"]


class MitraSessionStarted(EventData):
    request_id: UUID
    session_id: UUID
    client: VisibleClient


class MitraSessionRerouted(EventData):
    """`direction: away` to the mitra who lost the session, `to` (with `client`) to the one
    who got it."""

    session_id: UUID
    reason: str
    phase: Literal["moved"]
    direction: Literal["away", "to"]
    client: VisibleClient | None = None


class PresenceOffline(EventData):
    reason: Literal["manual", "heartbeat_timeout", "admin_forced", "logout", "suspended"]


# -- admin dashboard stream ------------------------------------------------------------------


class SessionOrphaned(EventData):
    session_id: UUID
    client_id: UUID
    mitra_id: UUID
    orphaned_at: datetime | None
    action: str
    outcome: Literal["alert", "reroute_failed"]


# The streams: audience → (stream path, {event type: (data model, summary)}).
STREAMS: dict[str, tuple[str, dict[str, tuple[type[BaseModel], str]]]] = {
    "client": (
        "/api/client/events",
        {
            "snapshot": (ClientSnapshot, "Current state; first on every (re)connect"),
            "pairing.matched": (PairingMatched, "A mitra accepted the request"),
            "pairing.expired": (PairingExpired, "The search window ended without a mitra"),
            "session.started": (ClientSessionStarted, "The session began"),
            "session.ended": (SessionEnded, "The session ended (either side, operator, timeout)"),
            "session.rerouted": (ClientSessionRerouted, "The session is moving to another mitra"),
            "stream.closed": (StreamClosed, "The stream ends: the caller lost the right to it"),
            "chat.message": (ChatMessage, "A message in the session"),
            "chat.read": (ChatRead, "The other side read up to a message"),
            "chat.typing": (ChatTyping, "The other side is typing (ephemeral)"),
        },
    ),
    "mitra": (
        "/api/mitra/events",
        {
            "snapshot": (MitraSnapshot, "Open offers; first on every (re)connect"),
            "pairing.offer": (Offer, "A client is searching: accept or decline"),
            "pairing.offer_closed": (OfferClosed, "An offer is gone (taken, cancelled, expired)"),
            "session.started": (MitraSessionStarted, "This mitra's accept started a session"),
            "session.ended": (SessionEnded, "The session ended"),
            "session.rerouted": (MitraSessionRerouted, "A session moved away from or to you"),
            "presence.offline": (PresenceOffline, "This mitra went offline, with the reason"),
            "stream.closed": (StreamClosed, "The stream ends: the caller lost the right to it"),
            "chat.message": (ChatMessage, "A message in the session"),
            "chat.read": (ChatRead, "The other side read up to a message"),
            "chat.typing": (ChatTyping, "The other side is typing (ephemeral)"),
        },
    ),
    "admin": (
        "/api/admin/dashboard/stream",
        {
            "dashboard": (DashboardOut, "The dashboard figures; on change, at least every 5 s"),
            "session.orphaned": (SessionOrphaned, "A session lost its mitra: operator needed"),
            "stream.closed": (StreamClosed, "The stream ends: the caller lost the right to it"),
        },
    ),
}
