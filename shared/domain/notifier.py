"""The notifier: turns domain events into pushes to the phones that need them.

Which event pushes what (docs/push.md has the table for the app teams):

- `session.started` → the client: matched (high priority: a mitra is waiting for them);
- `pairing.expired` / `pairing.no_bestie` → the client: nobody available (not for a
  re-blast's request: that client still has their session);
- `session.ended` by a mitra, an operator or the system → the client;
- `session.rerouted` → the client and the mitra it moved to (high), the one it left;
- `presence.offline` (the sweeper's auto-offline) → each mitra taken offline;
- `chat.message` (emitted only when the recipient had no open stream) → that participant,
  neutral text, collapsed per chat, re-checked here: an app that opened its stream since
  gets nothing;
- `pairing.searching` → "clients are waiting" to every available mitra with no open event
  stream, at most once per mitra per `WAITING_WINDOW_S` (shared/lua/push_waiting.lua),
  carrying how many clients are searching, never outliving the request's search window.

Delivery is at least once (Pub/Sub), so each (event id, device) is claimed in Valkey with
SET NX before its send; a redelivered or concurrently delivered event pushes once per
device. A send that fails transiently after `shared.fcm`'s retries gives its claim back and
the event is raised for redelivery (its other devices are skipped then, already claimed).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import db, fcm
from shared.clock import now_ms as clock_now_ms
from shared.domain import devices, presence, settings
from shared.domain.push_text import Kind, render
from shared.log import get_logger, log_event
from shared.store import devices as device_store
from shared.store.live import pushes, streams

logger = get_logger("halo.notifier")

WAITING_WINDOW_S = 30
# Pub/Sub gives up on a message after its retries (minutes); a day bounds the claim keys.
SENT_TTL_S = 86_400
SEND_THREADS = 16

_pool = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="fcm-send")


class MalformedEvent(Exception):
    """The event cannot be handled, now or on any redelivery: log and acknowledge it."""


class RetryLater(Exception):
    """Some sends failed transiently: let Pub/Sub redeliver the event."""


# -- what arrives -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DomainEvent(_Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    type: str = Field(min_length=1, max_length=64)
    data: dict[str, Any]


class SessionStarted(_Strict):
    request_id: UUID
    session_id: UUID
    client_id: UUID


class PairingClosed(_Strict):
    request_id: UUID
    client_id: UUID
    reroute_session_id: UUID | None = None


class SessionEnded(_Strict):
    session_id: UUID
    client_id: UUID
    ended_by: str


class SessionRerouted(_Strict):
    session_id: UUID
    client_id: UUID
    from_mitra_id: UUID
    to_mitra_id: UUID


class PresenceOffline(_Strict):
    mitra_ids: list[UUID] = Field(max_length=10_000)
    reason: str


class ChatMessage(_Strict):
    session_id: UUID
    message_id: UUID
    recipient: Literal["client", "mitra"]
    recipient_id: UUID


class PairingSearching(_Strict):
    request_id: UUID
    expires_at: datetime
    exclude_mitra_id: UUID | None = None


# -- what goes out ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notification:
    audience: Literal["client", "mitra"]
    owner_ids: tuple[str, ...]
    kind: Kind
    data: dict[str, str]
    collapse_key: str
    ttl_s: int
    high_priority: bool
    values: tuple[tuple[str, int], ...] = ()


def parse(raw: Any) -> DomainEvent:
    try:
        return DomainEvent.model_validate(raw)
    except ValidationError as exc:
        raise MalformedEvent("not a domain event") from exc


def plan(event: DomainEvent) -> list[Notification]:
    """The notifications an event causes (none for the types that push nothing)."""
    builder = _PLANNERS.get(event.type)
    if builder is None:
        return []
    try:
        return builder(event)
    except ValidationError as exc:
        raise MalformedEvent(f"{event.type} without the fields it needs") from exc


def _matched(event: DomainEvent) -> list[Notification]:
    data = SessionStarted.model_validate(event.data)
    ids = {"request_id": str(data.request_id), "session_id": str(data.session_id)}
    return [
        Notification(
            "client",
            (str(data.client_id),),
            "matched",
            {"type": "pairing.matched", **ids},
            f"pairing-{data.request_id}",
            ttl_s=300,
            high_priority=True,
        )
    ]


def _unmatched(event: DomainEvent) -> list[Notification]:
    data = PairingClosed.model_validate(event.data)
    if data.reroute_session_id is not None:
        return []
    return [
        Notification(
            "client",
            (str(data.client_id),),
            "unmatched",
            {"type": event.type, "request_id": str(data.request_id)},
            f"pairing-{data.request_id}",
            ttl_s=600,
            high_priority=False,
        )
    ]


def _ended(event: DomainEvent) -> list[Notification]:
    data = SessionEnded.model_validate(event.data)
    if data.ended_by == "client":
        return []  # the client ended it themselves
    return [
        Notification(
            "client",
            (str(data.client_id),),
            "session_ended",
            {"type": "session.ended", "session_id": str(data.session_id)},
            f"session-{data.session_id}",
            ttl_s=3600,
            high_priority=False,
        )
    ]


def _rerouted(event: DomainEvent) -> list[Notification]:
    data = SessionRerouted.model_validate(event.data)
    ids = {"type": "session.rerouted", "session_id": str(data.session_id)}
    collapse = f"session-{data.session_id}"
    return [
        Notification(
            "client", (str(data.client_id),), "session_rerouted", ids, collapse, 600, True
        ),
        Notification(
            "mitra",
            (str(data.to_mitra_id),),
            "session_moved_to_you",
            {**ids, "direction": "to"},
            collapse,
            300,
            True,
        ),
        Notification(
            "mitra",
            (str(data.from_mitra_id),),
            "session_moved_away",
            {**ids, "direction": "away"},
            collapse,
            600,
            False,
        ),
    ]


def _offline(event: DomainEvent) -> list[Notification]:
    data = PresenceOffline.model_validate(event.data)
    if not data.mitra_ids:
        return []
    return [
        Notification(
            "mitra",
            tuple(str(m) for m in data.mitra_ids),
            "presence_offline",
            {"type": "presence.offline", "reason": data.reason},
            "presence",
            ttl_s=3600,
            high_priority=False,
        )
    ]


def _waiting(event: DomainEvent) -> list[Notification]:
    data = PairingSearching.model_validate(event.data)
    now_ms = clock_now_ms()
    ttl_s = int(data.expires_at.timestamp() - now_ms / 1000)
    if ttl_s <= 0:
        return []  # the search is over: a "waiting" push would be untrue
    current = settings.current()
    waiting = pushes.choose_waiting(
        presence.fresh_cutoff_ms(current, now_ms),
        now_ms,
        str(data.exclude_mitra_id or ""),
        WAITING_WINDOW_S * 1000,
    )
    chosen = waiting.chosen
    if not chosen:
        return []
    count = max(1, waiting.searching)
    return [
        Notification(
            "mitra",
            tuple(str(m) for m in chosen),
            "clients_waiting",
            {"type": "pairing.waiting", "count": str(count)},
            "clients-waiting",
            ttl_s=min(ttl_s, current.search_window_s),
            high_priority=True,
            values=(("count", count),),
        )
    ]


def _chat_message(event: DomainEvent) -> list[Notification]:
    data = ChatMessage.model_validate(event.data)
    if streams.is_open(data.recipient, str(data.recipient_id)):
        return []  # the app is listening again: it has the message live
    return [
        Notification(
            data.recipient,
            (str(data.recipient_id),),
            "new_message",
            {"type": "chat.message", "session_id": str(data.session_id)},
            f"chat-{data.session_id}",
            ttl_s=3600,
            high_priority=True,
        )
    ]


_PLANNERS = {
    "chat.message": _chat_message,
    "session.started": _matched,
    "pairing.expired": _unmatched,
    "pairing.no_bestie": _unmatched,
    "session.ended": _ended,
    "session.rerouted": _rerouted,
    "presence.offline": _offline,
    "pairing.searching": _waiting,
}


# -- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handled:
    outcomes: dict[str, int]


def handle(raw: Any) -> Handled:
    """Push what the event asks for; raises MalformedEvent (acknowledge) or RetryLater."""
    event = parse(raw)
    notifications = plan(event)
    pairs = list(_device_pairs(notifications))
    claimed = _claim(event.id, pairs)
    templates = settings.current().push_templates
    futures = [
        (
            device,
            note,
            _pool.submit(fcm.client().send, _push(device, note, event.id, templates)),
        )
        for device, note in claimed
    ]
    outcomes: dict[str, int] = {}
    gone: list[str] = []
    retry: list[device_store.DeviceRow] = []
    for device, note, future in futures:
        try:
            outcome: fcm.Outcome = future.result()
        except Exception as exc:  # its claim must be given back, whatever went wrong
            log_event(logger, 40, "push send crashed", error=type(exc).__name__)
            outcome = "transient_failure"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        log_event(
            logger,
            30 if outcome in ("transient_failure", "dropped") else 20,
            "push sent" if outcome == "sent" else "push not delivered",
            event="push_send",
            outcome=outcome,
            event_type=event.type,
            kind=note.kind,
            platform=device.platform,
        )
        if outcome in ("unregistered", "invalid"):
            gone.append(device.token)
        elif outcome == "transient_failure":
            retry.append(device)
    if gone:
        devices.forget_tokens(gone)
    if retry:
        _release(event.id, retry)
        raise RetryLater(f"{len(retry)} sends failed transiently")
    return Handled(outcomes)


def _device_pairs(
    notifications: list[Notification],
) -> Iterable[tuple[device_store.DeviceRow, Notification]]:
    if not notifications:
        return
    with db.read() as connection:
        for note in notifications:
            for device in device_store.of_owners(connection, note.audience, list(note.owner_ids)):
                yield device, note


def _claim(
    event_id: str, pairs: list[tuple[device_store.DeviceRow, Notification]]
) -> list[tuple[device_store.DeviceRow, Notification]]:
    """The pairs this delivery sends: one mark per device, all in one round trip."""
    if not pairs:
        return []
    won = pushes.claim_sends(event_id, [device.token for device, _note in pairs], SENT_TTL_S)
    return [pair for pair, first in zip(pairs, won, strict=True) if first]


def _release(event_id: str, failed: list[device_store.DeviceRow]) -> None:
    pushes.release_sends(event_id, [d.token for d in failed])


def _push(
    device: device_store.DeviceRow, note: Notification, event_id: str, templates: Any
) -> fcm.Push:
    text = render(templates, note.kind, device.locale, **dict(note.values))
    return fcm.Push(
        token=device.token,
        platform=device.platform,
        title=text.title,
        body=text.body,
        data={**note.data, "event_id": event_id, "sent_at": datetime.now(UTC).isoformat()},
        collapse_key=note.collapse_key,
        ttl_s=note.ttl_s,
        high_priority=note.high_priority,
    )
