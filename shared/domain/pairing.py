"""Pairing: a client's request is blasted to every available mitra; the first to accept wins.

Valkey arbitrates the race and PostgreSQL records the outcome:

- **blast** (`shared/lua/blast.lua`, one round trip, O(log M)): counts the available mitras
  (`presence:available`, maintained by presence and the claim scripts), stores the request's
  live state and indexes it in `pairing:searching`; one broadcast publish tells every
  instance's event hub, which delivers it to its own available mitras. Nothing per mitra is
  written, in Valkey or PostgreSQL.
- **offered** = every mitra available while the request searches (also one who becomes
  available after the blast), minus those who declined and a reroute's current mitra.
- **claim** (`shared/lua/claim.lua`, one round trip): checks that eligibility and takes the
  request and one unit of the mitra's capacity in a single atomic step.
- **match** (one PostgreSQL transaction): session + assignment, one trial session or credit
  consumed (ledger reference unique per session), request marked matched. If that
  transaction fails, the claim is undone (`shared/lua/unclaim.lua`): the request is searching
  again (or expired, if its window closed meanwhile) and the mitra gets its unit back. So a
  claim never outlives a failed match, and a session never exists without its claim. A
  process that dies between claim and match leaves a claim the sweeper undoes
  (`expire_overdue`, after `STUCK_CLAIM_S`).
- **close** (`shared/lua/close_request.lua`): cancel, or expiry once the window is over —
  lazily on every read and durably by the sweeper. PostgreSQL's `WHERE status = 'searching'`
  makes each close, and its events, happen once.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared import db, domain_events, errors, events, signals, valkey
from shared.domain import entitlement, presence, settings, visibility
from shared.domain import sessions as session_rules
from shared.lazy import lazy_module
from shared.log import get_logger, log_event
from shared.store import clients, mitras, sessions
from shared.store import pairing as store
from shared.store.clients import ClientRow
from shared.store.load import AVAILABLE_KEY, CAPACITY_KEY, HEARTBEATS_KEY, LOAD_KEY
from shared.store.mitras import MitraRow
from shared.store.pairing import OfferRow, RequestRow
from shared.store.sessions import SessionRow

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")

logger = get_logger("halo.pairing")

# Live state outlives the window by this much, so a late accept still gets `410 expired`.
KEY_GRACE_S = 3600
# A claim older than this without a session belongs to a process that died mid-match.
STUCK_CLAIM_S = 30
# A replayed Idempotency-Key waits at most this long for its twin press's blast to settle
# (the blast is one Valkey round trip and two short SQL writes: milliseconds).
REPLAY_WAIT_S = 3.0
REPLAY_POLL_S = 0.02

CLAIM_REFUSALS: dict[str, type[errors.DomainError]] = {
    "not_offered": errors.NotOffered,
    "already_taken": errors.AlreadyTaken,
    "expired": errors.Expired,
    "not_online": errors.NotOnline,
    "at_capacity": errors.AtCapacity,
}


REQUEST_KEY_PREFIX = "pairing:req:"
# Open requests: request id → expires_at (epoch ms). Bounded by the clients searching.
SEARCHING_KEY = "pairing:searching"


def request_key(request_id: UUID | str) -> str:
    return f"{REQUEST_KEY_PREFIX}{request_id}"


def declined_key(request_id: UUID | str) -> str:
    """The mitras that declined the request (lives as long as the request's hash)."""
    return f"{REQUEST_KEY_PREFIX}{request_id}:declined"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- what each side may see of the other (operator settings) --------------------------------


def visible_client(display_name: str | None) -> dict[str, Any]:
    return visibility.client_seen_by_mitra(display_name)


def visible_mitra(mitra: MitraRow) -> dict[str, Any]:
    return visibility.mitra_seen_by_client(mitra.name, mitra.photo_url)


# -- client side ----------------------------------------------------------------------------


def create_request(client: ClientRow, idempotency_key: str | None) -> tuple[RequestRow, bool]:
    """Open a request and blast it: (request, created). A known Idempotency-Key returns the
    first request (created False), however concurrent the presses: a press that meets any
    refusal re-reads by key before refusing, because the refusal may be caused by its own
    twin (the twin's open request, its session, its row winning the unique index)."""
    if idempotency_key:
        replayed = _replay(client.id, idempotency_key)
        if replayed is not None:
            return replayed, False
    try:
        return _create(client, idempotency_key), True
    except errors.DomainError:
        if idempotency_key:
            replayed = _replay(client.id, idempotency_key)
            if replayed is not None:
                return replayed, False
        raise


def _replay(client_id: UUID, idempotency_key: str) -> RequestRow | None:
    """The request first made with this key, once its blast has settled: a twin press still
    blasting (searching, not yet counted) is waited for briefly, so every press answers
    what the first one answered."""
    deadline = time.monotonic() + REPLAY_WAIT_S
    while True:
        with db.read() as connection:
            row = store.by_idempotency_key(connection, client_id, idempotency_key)
        blasting = row is not None and row.status == "searching" and not row.offered_count
        if not blasting or time.monotonic() >= deadline:
            return row
        time.sleep(REPLAY_POLL_S)


def _create(client: ClientRow, idempotency_key: str | None) -> RequestRow:
    with db.read() as connection:
        active = sessions.active_for_client(connection, client.id)
        open_request = store.open_for_client(connection, client.id)
    if active is not None:
        raise errors.AlreadyInSession(session_id=str(active.id))
    if open_request is not None and _close(open_request.id, "expired") == "searching":
        raise errors.AlreadySearching(request_id=str(open_request.id))
    entitlement.require_entitlement(client)

    current = settings.current()
    created_at = datetime.now(UTC)
    try:
        with db.transaction() as connection:
            row = store.insert(
                connection,
                client_id=client.id,
                idempotency_key=idempotency_key,
                created_at=created_at,
                expires_at=created_at + timedelta(seconds=current.search_window_s),
            )
    except sa.exc.IntegrityError as exc:
        # A concurrent press won a unique index: name its open request (create_request
        # first re-reads by key, for when the winner is this press's own twin).
        with db.read() as connection:
            winner = store.open_for_client(connection, client.id)
        raise errors.AlreadySearching(request_id=str(winner.id) if winner else None) from exc
    return offer(row, client, current)


def offer(
    row: RequestRow,
    client: ClientRow,
    current: settings.ProductSettings,
    *,
    exclude: UUID | None = None,
) -> RequestRow:
    """Blast a just-inserted searching request to the available mitras (never to `exclude`:
    a reroute's re-blast skips the mitra the session moves away from). The request as it
    stands afterwards: closed `no_bestie` when nobody could be offered it."""
    try:
        now_ms = presence.now_ms()
        fresh_after_ms = presence.fresh_cutoff_ms(current, now_ms)
        offered = int(
            valkey.script("blast")(
                keys=[AVAILABLE_KEY, request_key(row.id), SEARCHING_KEY],
                args=[
                    fresh_after_ms,
                    str(row.client_id),
                    _ms(row.created_at),
                    _ms(row.expires_at),
                    (current.search_window_s + KEY_GRACE_S) * 1000,
                    str(row.id),
                    now_ms,
                    str(exclude) if exclude is not None else "",
                ],
            )
        )
    except Exception:
        # The search never started: close it so the client is not told "already searching".
        with db.transaction() as connection:
            store.close(connection, row.id, "expired")
        raise

    if not offered:
        with db.transaction() as connection:
            row = store.close(connection, row.id, "no_bestie") or row
        if row.reroute_session is None:
            signals.pairing_outcome("no_bestie", row.id)
        domain_events.emit("pairing.no_bestie", _closed_event_data(row))
        return row
    # Offer first, record second: the claim reads only Valkey, so the offer reaches phones
    # before the count is written.
    events.broadcast_to_available(
        "mitra",
        str(row.id),
        "pairing.offer",
        _offer_payload(row, client),
        available_key=AVAILABLE_KEY,
        fresh_after_ms=fresh_after_ms,
        exclude=(str(exclude),) if exclude is not None else (),
    )
    with db.transaction() as connection:
        store.set_offered_count(connection, row.id, offered)
    # For the notifier's "clients are waiting" push to mitras without an open stream: one
    # event per request, collapsed per mitra by the notifier (shared.domain.notifier).
    domain_events.emit(
        "pairing.searching",
        {
            "request_id": str(row.id),
            "client_id": str(row.client_id),
            "expires_at": row.expires_at.isoformat(),
            "exclude_mitra_id": str(exclude) if exclude is not None else None,
        },
    )
    return dataclasses.replace(row, offered_count=offered)


def _closed_event_data(row: RequestRow) -> dict[str, Any]:
    data: dict[str, Any] = {"request_id": str(row.id), "client_id": str(row.client_id)}
    if row.reroute_session is not None:
        # A re-blast's end: the client still has their session, nothing to tell their phone.
        data["reroute_session_id"] = str(row.reroute_session)
    return data


def _offer_payload(row: RequestRow, client: ClientRow) -> dict[str, Any]:
    return {
        "request_id": str(row.id),
        "client": visible_client(client.display_name),
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class RequestView:
    request: RequestRow
    mitra: dict[str, Any] | None


def get_request(client: ClientRow, request_id: UUID) -> RequestView:
    """The caller's request, expired first if its window is over."""
    row = _own_request(client, request_id)
    if row.status == "searching" and _close(row.id, "expired") != "searching":
        row = _own_request(client, request_id)
    mitra = None
    if row.matched_mitra_id is not None:
        with db.read() as connection:
            matched = mitras.by_id(connection, row.matched_mitra_id)
        mitra = visible_mitra(matched) if matched else None
    return RequestView(request=row, mitra=mitra)


def cancel(client: ClientRow, request_id: UUID) -> str:
    """Cancel the caller's searching request; the request's status afterwards (`cancelled`,
    or `expired` / `no_bestie` when it had already ended without a match)."""
    row = _own_request(client, request_id)
    if row.status == "matched":
        raise errors.AlreadyMatched(session_id=str(row.session_id))
    if row.status != "searching":
        return row.status
    status = _close(row.id, "cancelled")
    if status in ("claimed", "matched"):
        raise errors.AlreadyMatched()
    return status


def cancel_open_request(client_id: UUID) -> UUID | None:
    """Cancel the client's open request, if any (an operator suspended the client, or the
    account is being erased); the request's id when there was one."""
    with db.read() as connection:
        row = store.open_for_client(connection, client_id)
    if row is not None:
        _close(row.id, "cancelled")
        return row.id
    return None


def _own_request(client: ClientRow, request_id: UUID) -> RequestRow:
    with db.read() as connection:
        row = store.by_id(connection, request_id)
    if row is None or row.client_id != client.id:
        raise errors.NotFound("No pairing request of yours has that id.")
    return row


# -- mitra side -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    session: SessionRow
    client: dict[str, Any]


def open_offers(mitra_id: UUID) -> list[OfferRow]:
    """Offers to the mitra still open: requests searching in their window, not declined by
    it, not excluding it — none while the mitra is not available (offline or full). One
    Valkey script over the open requests, then one SQL read of their display fields."""
    current = settings.current()
    now_ms = presence.now_ms()
    ids = valkey.script("pairing_open_offers")(
        keys=[SEARCHING_KEY, AVAILABLE_KEY],
        args=[
            str(mitra_id),
            now_ms,
            presence.fresh_cutoff_ms(current, now_ms),
            REQUEST_KEY_PREFIX,
        ],
    )
    if not ids:
        return []
    with db.read() as connection:
        offers = store.open_offers_among(connection, [str(i) for i in ids])
    return [
        dataclasses.replace(
            o, client_display_name=visible_client(o.client_display_name)["display_name"]
        )
        for o in offers
    ]


def accept(mitra_id: UUID, request_id: UUID) -> Match:
    """Claim the request for the mitra and start the session; exactly one mitra wins.

    Losers cost one Valkey round trip and no SQL: only the winner touches PostgreSQL."""
    current = settings.current()
    now_ms = presence.now_ms()
    code = valkey.script("claim")(
        keys=[
            request_key(request_id),
            declined_key(request_id),
            HEARTBEATS_KEY,
            LOAD_KEY,
            CAPACITY_KEY,
            AVAILABLE_KEY,
        ],
        args=[
            str(mitra_id),
            now_ms,
            presence.fresh_cutoff_ms(current, now_ms),
            current.max_customers_per_mitra,
        ],
    )
    if code == "unknown":
        raise _refusal_without_live_state(mitra_id, request_id)
    if code != "claimed":
        if code == "expired":
            _close(request_id, "expired")
        raise CLAIM_REFUSALS[code]()
    return _match(mitra_id, request_id)


def _refusal_without_live_state(mitra_id: UUID, request_id: UUID) -> errors.DomainError:
    # No live state: never blasted (no_bestie), long closed, or lost with Valkey.
    with db.read() as connection:
        row = store.by_id(connection, request_id)
    if row is None:
        return errors.NotFound("No pairing request has that id.")
    if row.status == "no_bestie":
        return errors.NotOffered()
    if row.status == "matched":
        return errors.AlreadyTaken()
    if row.status == "searching":
        _close(request_id, "expired", force=True)
    return errors.Expired()


class _RerouteTargetEnded(errors.Expired):
    """The session a re-blast was moving ended (or was moved to the accepting mitra by an
    operator) before a mitra accepted: the request is closed, nothing moves."""


def _match(mitra_id: UUID, request_id: UUID) -> Match:
    moved_from = None
    try:
        with db.transaction() as connection:
            # PostgreSQL re-checks capacity under the mitra's row lock: Valkey's claim is
            # only as right as Valkey's load, which data loss can empty.
            mitra = presence.lock_room_for_session(connection, mitra_id)
            row = store.by_id(connection, request_id)
            assert row is not None
            client = clients.by_id(connection, row.client_id, lock=True)
            assert client is not None
            if row.reroute_session is not None:
                session, moved_from = _move_session(connection, row.reroute_session, mitra)
            else:
                session = sessions.insert_active(connection, client_id=client.id, mitra_id=mitra.id)
                entitlement.consume_for_session(connection, client.id, session.id)
            matched = store.mark_matched(
                connection, request_id, session_id=session.id, mitra_id=mitra.id
            )
            if matched is None:
                raise errors.Expired()
    except Exception as exc:
        status = _unclaim(request_id, str(mitra_id))
        log_event(
            logger,
            40,
            "match failed; claim undone",
            request_id=str(request_id),
            mitra_id=str(mitra_id),
            request_status=status,
            error=type(exc).__name__,
        )
        if isinstance(exc, presence.FullInPostgres):
            presence.heal_load(exc)  # after the unclaim, which gave the unit back
        if status == "expired":
            _close(request_id, "expired")
        elif isinstance(exc, _RerouteTargetEnded):
            _close(request_id, "cancelled")
        if isinstance(exc, errors.DomainError):
            raise
        raise errors.Unavailable(
            "The session could not be started; the request is open again.", retry_after_s=1
        ) from exc

    pipe = valkey.client().pipeline(transaction=True)
    pipe.hset(request_key(request_id), mapping={"status": "matched", "session_id": str(session.id)})
    pipe.zrem(SEARCHING_KEY, str(request_id))
    pipe.execute()
    if moved_from is not None:
        return _announce_moved(mitra, request_id, session, moved_from, client)
    signals.pairing_outcome("matched", request_id, matched.time_to_match_ms)
    shown_client = visible_client(client.display_name)
    shown_mitra = visible_mitra(mitra)
    ids = {"request_id": str(request_id), "session_id": str(session.id)}
    events.publish("client", client.id, "pairing.matched", {**ids, "mitra": shown_mitra})
    events.publish("client", client.id, "session.started", {**ids, "mitra": shown_mitra})
    events.publish("mitra", mitra.id, "session.started", {**ids, "client": shown_client})
    _announce_offer_closed(request_id, "taken", exclude=str(mitra.id))
    domain_events.emit(
        "session.started", {**ids, "client_id": str(client.id), "mitra_id": str(mitra.id)}
    )
    return Match(session=session, client=shown_client)


def _move_session(
    connection: Connection, session_id: UUID, mitra: MitraRow
) -> tuple[SessionRow, UUID]:
    """A re-blast's accept: the existing session moves to the winner (no new session, no
    credit consumed); the moved session and the mitra it left."""
    session = sessions.lock_active(connection, session_id)
    if session is None:
        raise _RerouteTargetEnded("The session this request was rerouting has ended.")
    if session.mitra_id == mitra.id:  # an operator moved it to this mitra meanwhile
        raise _RerouteTargetEnded("This session is already yours.")
    moved = sessions.reassign(connection, session.id, to_mitra_id=mitra.id, reason="reblast")
    return moved, session.mitra_id


def _announce_moved(
    mitra: MitraRow, request_id: UUID, session: SessionRow, moved_from: UUID, client: ClientRow
) -> Match:
    _announce_offer_closed(request_id, "taken", exclude=str(mitra.id))
    session_rules.announce_moved(session.id, moved_from, "reblast")
    return Match(session=session, client=visible_client(client.display_name))


def decline(mitra: MitraRow, request_id: UUID) -> None:
    """Hide the offer from the mitra; accepting it afterwards is `not_offered`. Idempotent;
    a request whose live state is gone (closed long ago) has nothing left to hide."""
    code = valkey.script("pairing_decline")(
        keys=[request_key(request_id), declined_key(request_id)], args=[str(mitra.id)]
    )
    if code == "not_offered":
        raise errors.NotOffered()
    if code == "unknown":
        with db.read() as connection:
            if store.by_id(connection, request_id) is None:
                raise errors.NotFound("No pairing request has that id.")


def _unclaim(request_id: UUID | str, mitra_id: str) -> str:
    return str(
        valkey.script("unclaim")(
            keys=[
                request_key(request_id),
                LOAD_KEY,
                HEARTBEATS_KEY,
                CAPACITY_KEY,
                AVAILABLE_KEY,
                SEARCHING_KEY,
            ],
            args=[
                mitra_id,
                presence.now_ms(),
                settings.current().max_customers_per_mitra,
                str(request_id),
            ],
        )
    )


def _announce_offer_closed(request_id: UUID | str, reason: str, exclude: str | None = None) -> None:
    """One broadcast: each hub sends it to the local mitras it showed the offer to."""
    events.broadcast_to_reached(
        "mitra",
        str(request_id),
        "pairing.offer_closed",
        {"request_id": str(request_id), "reason": reason},
        skip_key=declined_key(request_id),
        exclude=(exclude,) if exclude else (),
    )


# -- closing: cancel and expiry -------------------------------------------------------------


def _close(request_id: UUID, wanted: str, *, force: bool = False) -> str:
    """Close a searching request as `wanted` (cancelled, or expired once overdue); the status
    afterwards. Announces the close once, guarded by PostgreSQL. `force` expires a request
    whose live state is gone even before its window ends (its search cannot continue)."""
    status, _changed = valkey.script("close_request")(
        keys=[request_key(request_id), SEARCHING_KEY],
        args=[wanted, presence.now_ms(), str(request_id)],
    )
    if status == "unknown":
        status = _close_without_live_state(request_id, wanted, force=force)
    if status in ("expired", "cancelled"):
        with db.transaction() as connection:
            closed = store.close(connection, request_id, status)
        if closed is not None:
            _announce_close(closed)
    return str(status)


def _close_without_live_state(request_id: UUID, wanted: str, *, force: bool) -> str:
    with db.read() as connection:
        row = store.by_id(connection, request_id)
    if row is None or row.status != "searching":
        return row.status if row else "unknown"
    overdue = row.expires_at <= datetime.now(UTC)
    if overdue or (force and wanted == "expired"):
        return "expired"
    return wanted if wanted == "cancelled" else "searching"


def _announce_close(row: RequestRow) -> None:
    ids = {"request_id": str(row.id)}
    if row.status == "expired":
        events.publish("client", row.client_id, "pairing.expired", ids)
    _announce_offer_closed(row.id, row.status)
    if row.status in ("expired", "cancelled") and row.reroute_session is None:
        signals.pairing_outcome(row.status, row.id)  # type: ignore[arg-type]
    domain_events.emit(f"pairing.{row.status}", _closed_event_data(row))


def expire_overdue() -> int:
    """Make expiry durable for every overdue request, and undo claims left by a process that
    died between claim and match. Safe to run concurrently. How many it expired or undid."""
    return sum(sweep().values())


def sweep() -> dict[str, int]:
    """The sweeper's pairing step (shared.domain.sweeper.STEPS)."""
    with db.read() as connection:
        overdue = store.overdue_ids(connection)
    expired = sum(1 for request_id in overdue if _close(request_id, "expired") == "expired")
    return {"expired": expired, "claims_undone": _undo_stuck_claims()}


def _undo_stuck_claims() -> int:
    with db.read() as connection:
        searching = store.searching_ids(connection)
    if not searching:
        return 0
    pipe = valkey.client().pipeline(transaction=False)
    for request_id in searching:
        pipe.hmget(request_key(request_id), "status", "mitra_id", "claimed_at")
    cutoff = presence.now_ms() - STUCK_CLAIM_S * 1000
    repaired = 0
    for request_id, (status, mitra_id, claimed_at) in zip(searching, pipe.execute(), strict=True):
        if status == "claimed" and mitra_id and claimed_at and int(claimed_at) < cutoff:
            after = _unclaim(request_id, mitra_id)
            if after == "expired":
                _close(request_id, "expired")
            log_event(
                logger,
                30,
                "stuck claim undone",
                request_id=str(request_id),
                mitra_id=mitra_id,
                request_status=after,
            )
            repaired += 1
    return repaired


# -- event stream snapshots ------------------------------------------------------------------


def client_snapshot(client_id: UUID) -> dict[str, Any]:
    """What a client's stream starts with: the open request, or the active session."""
    with db.read() as connection:
        row = store.open_for_client(connection, client_id)
    if row is not None and _close(row.id, "expired") != "searching":
        row = None
    with db.read() as connection:
        active = sessions.active_for_client(connection, client_id)
        mitra = mitras.by_id(connection, active.mitra_id) if active else None
    return {
        "request": (
            {
                "id": str(row.id),
                "status": row.status,
                "expires_at": row.expires_at.isoformat(),
                "offered_to": row.offered_count,
            }
            if row
            else None
        ),
        "session": (
            {
                "id": str(active.id),
                "status": active.status,
                "started_at": active.started_at.isoformat(),
                "mitra": visible_mitra(mitra) if mitra else None,
            }
            if active
            else None
        ),
    }


def mitra_snapshot(mitra_id: UUID) -> dict[str, Any]:
    """What a mitra's stream starts with: its open offers."""
    return {
        "offers": [
            {
                "request_id": str(offer.request_id),
                "client": {"display_name": offer.client_display_name},
                "created_at": offer.created_at.isoformat(),
                "expires_at": offer.expires_at.isoformat(),
            }
            for offer in open_offers(mitra_id)
        ]
    }
