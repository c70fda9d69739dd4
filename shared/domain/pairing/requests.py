"""The client side of pairing: open a request and blast it, read it, cancel it; and the one
request-insert rule shared with reroute's re-blast (`insert_searching`)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared import db, domain_events, errors, events, signals
from shared.clock import now_ms
from shared.domain import entitlement, presence, settings
from shared.domain.pairing.anonymity import visible_client, visible_mitra
from shared.domain.pairing.closing import close, closed_event_data
from shared.lazy import lazy_module
from shared.store import mitras, sessions
from shared.store import pairing as store
from shared.store.clients import ClientRow
from shared.store.live import keys
from shared.store.live import requests as live
from shared.store.pairing import RequestRow

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")

# Live state outlives the window by this much, so a late accept still gets `410 expired`.
KEY_GRACE_S = 3600
# A replayed Idempotency-Key waits at most this long for its twin press's blast to settle
# (the blast is one Valkey round trip and two short SQL writes: milliseconds).
REPLAY_WAIT_S = 3.0
REPLAY_POLL_S = 0.02


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
    if open_request is not None and close(open_request.id, "expired") == "searching":
        raise errors.AlreadySearching(request_id=str(open_request.id))
    entitlement.require_entitlement(client)

    current = settings.current()
    with db.transaction() as connection:
        # A concurrent press that won the unique index is named in the refusal
        # (create_request first re-reads by key, for when the winner is this press's twin).
        row = insert_searching(connection, client.id, current, idempotency_key=idempotency_key)
    return offer(row, client, current)


def insert_searching(
    connection: Connection,
    client_id: UUID,
    current: settings.ProductSettings,
    *,
    idempotency_key: str | None = None,
    reroute_session: UUID | None = None,
    refusal: str | None = None,
) -> RequestRow:
    """Insert a searching request whose window starts now, inside the caller's transaction.
    The client's open request (or this Idempotency-Key) winning a unique index is refused
    with `AlreadySearching` naming it (message `refusal`, else the default); the caller's
    transaction stays usable."""
    created_at = datetime.now(UTC)
    try:
        with connection.begin_nested():
            return store.insert(
                connection,
                client_id=client_id,
                idempotency_key=idempotency_key,
                created_at=created_at,
                expires_at=created_at + timedelta(seconds=current.search_window_s),
                reroute_session=reroute_session,
            )
    except sa.exc.IntegrityError:
        winner = store.open_for_client(connection, client_id)
        raise errors.AlreadySearching(
            refusal, request_id=str(winner.id) if winner else None
        ) from None


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
        now = now_ms()
        fresh_after_ms = presence.fresh_cutoff_ms(current, now)
        offered = live.blast(
            row.id,
            row.client_id,
            created_at_ms=_ms(row.created_at),
            expires_at_ms=_ms(row.expires_at),
            lifetime_ms=(current.search_window_s + KEY_GRACE_S) * 1000,
            now_ms=now,
            cutoff_ms=fresh_after_ms,
            exclude=exclude,
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
        domain_events.emit("pairing.no_bestie", closed_event_data(row))
        return row
    # Offer first, record second: the claim reads only Valkey, so the offer reaches phones
    # before the count is written.
    events.broadcast_to_available(
        "mitra",
        str(row.id),
        "pairing.offer",
        _offer_payload(row, client),
        available_key=keys.AVAILABLE,
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


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


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
    if row.status == "searching" and close(row.id, "expired") != "searching":
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
    status = close(row.id, "cancelled")
    if status in ("claimed", "matched"):
        raise errors.AlreadyMatched()
    return status


def cancel_open_request(client_id: UUID) -> UUID | None:
    """Cancel the client's open request, if any (an operator suspended the client, or the
    account is being erased); the request's id when there was one."""
    with db.read() as connection:
        row = store.open_for_client(connection, client_id)
    if row is not None:
        close(row.id, "cancelled")
        return row.id
    return None


def _own_request(client: ClientRow, request_id: UUID) -> RequestRow:
    with db.read() as connection:
        row = store.by_id(connection, request_id)
    if row is None or row.client_id != client.id:
        raise errors.NotFound("No pairing request of yours has that id.")
    return row
