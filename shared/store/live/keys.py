"""Every Valkey key name, in one place (docs/valkey-keys.md says what each holds).

Scripts take their KEYS in one fixed order: the keys of the thing the script is about
first (a request, a caller's UID, the sweeper's run), then the presence keys it uses in
the order of `PRESENCE` — heartbeats, available, load, capacity. Only the wrappers in
`shared.store.live` build KEYS lists.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

# -- presence ---------------------------------------------------------------------------------
HEARTBEATS = "presence:heartbeats"  # zset mitra id -> last heartbeat, epoch ms
AVAILABLE = "presence:available"  # zset: the members of HEARTBEATS below capacity, same score
LOAD = "presence:load"  # hash mitra id -> sessions held
CAPACITY = "presence:capacity"  # hash mitra id -> max customers override
PRESENCE = (HEARTBEATS, AVAILABLE, LOAD, CAPACITY)
# Present while Valkey still holds what the last reconciliation rebuilt; gone after a flush,
# a restart without persistence, or a failover that lost the data.
INTACT = "presence:intact"
# The load surpluses seen by the previous reconciliation (mitra id -> "valkey>postgres").
LOAD_SUSPECTS = "presence:load_suspects"


def uid_cache(firebase_uid: str) -> str:
    """Firebase UID -> mitra id, the heartbeat's resolution cache."""
    return f"presence:uid:{firebase_uid}"


# -- pairing ----------------------------------------------------------------------------------
REQUEST_PREFIX = "pairing:req:"
# Open requests: request id -> expires_at (epoch ms). Bounded by the clients searching.
SEARCHING = "pairing:searching"


def request(request_id: UUID | str) -> str:
    return f"{REQUEST_PREFIX}{request_id}"


def declined(request_id: UUID | str) -> str:
    """The mitras that declined the request (lives as long as the request's hash)."""
    return f"{REQUEST_PREFIX}{request_id}:declined"


# -- open event streams, pushes ----------------------------------------------------------------
STREAMS_PREFIX = "streams:"
WAITING_PUSH_PREFIX = "push:waiting:"
SENT_PUSH_PREFIX = "push:sent:"
CHAT_PUSH_PREFIX = "chat:push:"


def open_streams(audience: str, recipient_id: str) -> str:
    """One member per open event stream of a recipient, scored by when its mark lapses."""
    return f"{STREAMS_PREFIX}{audience}:{recipient_id}"


def sent_push(event_id: str, token: str) -> str:
    """This event was pushed (or is being pushed) to this device."""
    return f"{SENT_PUSH_PREFIX}{event_id}:{hashlib.sha256(token.encode()).hexdigest()[:32]}"


def chat_push(session_id: UUID | str, side: str) -> str:
    """A new-message push was asked for this recipient of this chat within the window."""
    return f"{CHAT_PUSH_PREFIX}{session_id}:{side}"


# -- settings, sweeper -------------------------------------------------------------------------
SETTINGS = "settings:current"
SWEEPER_LAST_RUN = "sweeper:last_run"

# -- identity ----------------------------------------------------------------------------------
SEEN = "identity:seen"  # zset uid -> last request, epoch ms
DUE = "identity:due"  # zset uid -> when the sweeper next asks Firebase
REVOKED_PREFIX = "revoked:"
ERASED_PREFIX = "erased:"


def revoked(uid: str) -> str:
    return REVOKED_PREFIX + hashlib.sha256(uid.encode()).hexdigest()


def erased(uid: str) -> str:
    """`erased:<sha256(uid)>`, written when the account is erased."""
    return ERASED_PREFIX + hashlib.sha256(uid.encode()).hexdigest()


# -- stream tickets, rate limits ----------------------------------------------------------------
TICKET_PREFIX = "stream-ticket"
# `limits`' moving-window entries live under this prefix (shared.ratelimit); the library
# builds the rest of each key.
RATE_LIMIT_PREFIX = "ratelimit"


def digest(who: str) -> str:
    """A personal identifier (Firebase uid) as it may appear in a key name."""
    return hashlib.sha256(who.encode()).hexdigest()


def ticket(audience: str, ticket: str) -> str:
    """`stream-ticket:<audience>:<sha256(ticket)>`: the subject a ticket was issued for."""
    return f"{TICKET_PREFIX}:{audience}:{hashlib.sha256(ticket.encode()).hexdigest()}"


def tickets_held(audience: str, who: str) -> str:
    """`stream-ticket-held:<audience>:<sha256(who)>`: the ticket keys issued to one caller."""
    return f"{TICKET_PREFIX}-held:{audience}:{digest(who)}"
