"""The mitra side of pairing: the offers open to a mitra, accept (claim in Valkey, then the
match in PostgreSQL — a new session, or a re-blast's session moving over) and decline."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared import db, domain_events, errors, events, signals
from shared.clock import now_ms
from shared.domain import entitlement, presence, settings
from shared.domain import sessions as session_rules
from shared.domain.pairing.anonymity import visible_client, visible_mitra
from shared.domain.pairing.closing import announce_offer_closed, close, unclaim
from shared.log import get_logger, log_event
from shared.store import clients, sessions
from shared.store import pairing as store
from shared.store.clients import ClientRow
from shared.store.live import requests as live
from shared.store.live.requests import Claim, Decline
from shared.store.mitras import MitraRow
from shared.store.pairing import OfferRow
from shared.store.sessions import SessionRow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

logger = get_logger("halo.pairing")

CLAIM_REFUSALS: dict[Claim, type[errors.DomainError]] = {
    Claim.NOT_OFFERED: errors.NotOffered,
    Claim.ALREADY_TAKEN: errors.AlreadyTaken,
    Claim.EXPIRED: errors.Expired,
    Claim.NOT_ONLINE: errors.NotOnline,
    Claim.AT_CAPACITY: errors.AtCapacity,
}


@dataclass(frozen=True, slots=True)
class Match:
    session: SessionRow
    client: dict[str, Any]


def open_offers(mitra_id: UUID) -> list[OfferRow]:
    """Offers to the mitra still open: requests searching in their window, not declined by
    it, not excluding it — none while the mitra is not available (offline or full). One
    Valkey script over the open requests, then one SQL read of their display fields."""
    current = settings.current()
    now = now_ms()
    ids = live.open_offer_ids(mitra_id, now, presence.fresh_cutoff_ms(current, now))
    if not ids:
        return []
    with db.read() as connection:
        offers = store.open_offers_among(connection, ids)
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
    now = now_ms()
    code = live.claim(
        request_id,
        mitra_id,
        now,
        presence.fresh_cutoff_ms(current, now),
        current.max_customers_per_mitra,
    )
    if code is Claim.UNKNOWN:
        raise _refusal_without_live_state(mitra_id, request_id)
    if code is not Claim.CLAIMED:
        if code is Claim.EXPIRED:
            close(request_id, "expired")
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
        close(request_id, "expired", force=True)
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
        status = unclaim(request_id, str(mitra_id))
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
            close(request_id, "expired")
        elif isinstance(exc, _RerouteTargetEnded):
            close(request_id, "cancelled")
        if isinstance(exc, errors.DomainError):
            raise
        raise errors.Unavailable(
            "The session could not be started; the request is open again.", retry_after_s=1
        ) from exc

    live.mark_matched(request_id, session.id)
    if moved_from is not None:
        return _announce_moved(mitra, request_id, session, moved_from, client)
    signals.pairing_outcome("matched", request_id, matched.time_to_match_ms)
    shown_client = visible_client(client.display_name)
    shown_mitra = visible_mitra(mitra)
    ids = {"request_id": str(request_id), "session_id": str(session.id)}
    events.publish("client", client.id, "pairing.matched", {**ids, "mitra": shown_mitra})
    events.publish("client", client.id, "session.started", {**ids, "mitra": shown_mitra})
    events.publish("mitra", mitra.id, "session.started", {**ids, "client": shown_client})
    announce_offer_closed(request_id, "taken", exclude=str(mitra.id))
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
    announce_offer_closed(request_id, "taken", exclude=str(mitra.id))
    session_rules.announce_moved(session.id, moved_from, "reblast")
    return Match(session=session, client=visible_client(client.display_name))


def decline(mitra: MitraRow, request_id: UUID) -> None:
    """Hide the offer from the mitra; accepting it afterwards is `not_offered`. Idempotent;
    a request whose live state is gone (closed long ago) has nothing left to hide."""
    code = live.decline(request_id, mitra.id)
    if code is Decline.NOT_OFFERED:
        raise errors.NotOffered()
    if code is Decline.UNKNOWN:
        with db.read() as connection:
            if store.by_id(connection, request_id) is None:
                raise errors.NotFound("No pairing request has that id.")
