"""Closing a searching request — cancelled by its client, or expired once its window is over
(lazily on every read, durably by the sweeper) — and the sweeper's pairing step, which also
undoes claims left by a process that died between claim and match."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from shared import db, domain_events, events, signals
from shared.clock import now_ms
from shared.domain import settings
from shared.log import get_logger, log_event
from shared.store import pairing as store
from shared.store.live import keys
from shared.store.live import requests as live
from shared.store.pairing import RequestRow

logger = get_logger("halo.pairing")

# A claim older than this without a session belongs to a process that died mid-match.
STUCK_CLAIM_S = 30


def close(request_id: UUID, wanted: str, *, force: bool = False) -> str:
    """Close a searching request as `wanted` (cancelled, or expired once overdue); the status
    afterwards. Announces the close once, guarded by PostgreSQL. `force` expires a request
    whose live state is gone even before its window ends (its search cannot continue)."""
    status = str(live.close(request_id, wanted, now_ms()))
    if status == live.LiveStatus.UNKNOWN:
        status = _close_without_live_state(request_id, wanted, force=force)
    if status in ("expired", "cancelled"):
        ended: Literal["expired", "cancelled"] = "expired" if status == "expired" else "cancelled"
        with db.transaction() as connection:
            closed = store.close(connection, request_id, ended)
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
    announce_offer_closed(row.id, row.status)
    if row.status in ("expired", "cancelled") and row.reroute_session is None:
        signals.pairing_outcome(row.status, row.id)  # type: ignore[arg-type]
    domain_events.emit(f"pairing.{row.status}", closed_event_data(row))


def closed_event_data(row: RequestRow) -> dict[str, Any]:
    data: dict[str, Any] = {"request_id": str(row.id), "client_id": str(row.client_id)}
    if row.reroute_session is not None:
        # A re-blast's end: the client still has their session, nothing to tell their phone.
        data["reroute_session_id"] = str(row.reroute_session)
    return data


def announce_offer_closed(request_id: UUID | str, reason: str, exclude: str | None = None) -> None:
    """One broadcast: each hub sends it to the local mitras it showed the offer to."""
    events.broadcast_to_reached(
        "mitra",
        str(request_id),
        "pairing.offer_closed",
        {"request_id": str(request_id), "reason": reason},
        skip_key=keys.declined(request_id),
        exclude=(exclude,) if exclude else (),
    )


def unclaim(request_id: UUID | str, mitra_id: str) -> str:
    """Undo the mitra's claim on the request; the request's live status afterwards."""
    return str(
        live.unclaim(request_id, mitra_id, now_ms(), settings.current().max_customers_per_mitra)
    )


def sweep() -> dict[str, int]:
    """The sweeper's pairing step (shared.domain.sweeper.STEPS): make expiry durable for
    every overdue request, and undo claims left by a process that died between claim and
    match. Safe to run concurrently."""
    with db.read() as connection:
        overdue = store.overdue_ids(connection)
    expired = sum(1 for request_id in overdue if close(request_id, "expired") == "expired")
    return {"expired": expired, "claims_undone": _undo_stuck_claims()}


def _undo_stuck_claims() -> int:
    with db.read() as connection:
        searching = store.searching_ids(connection)
    if not searching:
        return 0
    claims = live.claims(searching)
    cutoff = now_ms() - STUCK_CLAIM_S * 1000
    repaired = 0
    for request_id, (status, mitra_id, claimed_at) in zip(searching, claims, strict=True):
        if status == "claimed" and mitra_id and claimed_at and claimed_at < cutoff:
            after = unclaim(request_id, mitra_id)
            if after == "expired":
                close(request_id, "expired")
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
