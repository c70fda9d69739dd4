"""Rerouting an active session to another mitra; the client keeps the same session.

- **To a named mitra**: `shared/lua/reroute_claim.lua` takes one unit of the target's
  capacity by the same rule as pairing's claim (`shared/lua/steps/take_unit.lua`, so a
  reroute racing an accept for the mitra's last unit cannot exceed its capacity); then
  one PostgreSQL transaction moves the session (current assignment closed, a `rerouted` one
  opened, `sessions.mitra_id` updated, audit entry). If that transaction fails the unit is
  given back; after it commits the old mitra's unit is released and the client and both
  mitras get `session.rerouted`.
- **By re-blast**: a pairing request with `reroute_session` set is blasted through pairing's
  own blast to every available mitra except the current one; the mitra who accepts it takes
  the session over through pairing's accept (`shared.domain.pairing.matching`), not a new
  one. Both paths insert their request through `pairing.insert_searching`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared import db, events
from shared.clock import now_ms
from shared.domain import audit, pairing, presence, settings
from shared.domain import sessions as session_rules
from shared.domain.admin import sessions as admin_sessions
from shared.domain.admin.sessions import AdminSessionView
from shared.errors import AtCapacity, Conflict, NotFound, NotOnline, SessionEnded
from shared.store import clients, mitras, sessions
from shared.store.live import capacity
from shared.store.live.capacity import Take
from shared.store.pairing import RequestRow
from shared.store.sessions import SessionRow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def to_mitra(operator_id: UUID, session_id: UUID, mitra_id: UUID) -> AdminSessionView:
    """Move the session to `mitra_id` now; refused with nothing moved when the session has
    ended (`session_ended`) or the mitra is suspended or offline (`not_online`) or full
    (`at_capacity`)."""
    with db.read() as connection:
        session = sessions.by_id(connection, session_id)
        target = mitras.by_id(connection, mitra_id)
    _require_active(session)
    if target is None:
        raise NotFound("No mitra with that id.", field="mitra_id")
    if target.suspended:
        raise NotOnline("That mitra is suspended.", mitra_id=str(target.id), suspended=True)
    assert session is not None
    if target.id == session.mitra_id:
        raise Conflict("The session is already with that mitra.")
    _take_capacity_unit(target.id)
    try:
        with db.transaction() as connection:
            # Mitra row first, as pairing's accept does (same lock order, no deadlock).
            presence.lock_room_for_session(connection, target.id)
            locked = sessions.lock_active(connection, session_id)
            if locked is None:
                raise SessionEnded()
            if locked.mitra_id == target.id:
                raise Conflict("The session is already with that mitra.")
            sessions.reassign(connection, locked.id, to_mitra_id=target.id, reason="rerouted")
            _audit(connection, operator_id, locked, {"mitra_id": str(target.id)})
    except BaseException as exc:
        capacity.release(target.id, settings.current().max_customers_per_mitra)
        if isinstance(exc, presence.FullInPostgres):
            presence.heal_load(exc)
        raise
    session_rules.announce_moved(locked.id, locked.mitra_id, "rerouted")
    # A re-blast still searching for this session is overtaken by the operator's choice.
    pairing.cancel_open_request(locked.client_id)
    return admin_sessions.get_session(locked.id)


def _audit(
    connection: Connection, operator_id: UUID, session: SessionRow, after: dict[str, str]
) -> None:
    """The operator's reroute in the audit log: the mitra it left, where it goes."""
    audit.record(
        connection,
        operator_id,
        "session.reroute",
        "session",
        session.id,
        {"mitra_id": str(session.mitra_id)},
        after,
    )


def _require_active(session: SessionRow | None) -> None:
    if session is None:
        raise NotFound("No session with that id.")
    if session.status != "active":
        raise SessionEnded()


def _take_capacity_unit(mitra_id: UUID) -> None:
    current = settings.current()
    code = capacity.take_unit(
        mitra_id, presence.fresh_cutoff_ms(current, now_ms()), current.max_customers_per_mitra
    )
    if code is Take.NOT_ONLINE:
        raise NotOnline("That mitra is not online.", mitra_id=str(mitra_id))
    if code is Take.AT_CAPACITY:
        raise AtCapacity("That mitra already has as many clients as they can take.")


def reblast(operator_id: UUID | None, session_id: UUID) -> RequestRow:
    """Offer the session to every available mitra but its current one; the first to accept
    takes it over. The request (searching, or `no_bestie` when nobody was available, in which
    case the session stays where it is). `operator_id` None: the sweeper's orphan handling."""
    current = settings.current()
    with db.transaction() as connection:
        session = sessions.lock_active(connection, session_id)
        if session is None:
            _require_active(sessions.by_id(connection, session_id))
        assert session is not None
        client = clients.by_id(connection, session.client_id)
        assert client is not None
        row = pairing.insert_searching(
            connection,
            session.client_id,
            current,
            reroute_session=session.id,
            refusal="A re-blast for this session is already searching.",
        )
        if operator_id is not None:
            _audit(connection, operator_id, session, {"pairing_request_id": str(row.id)})
    row = pairing.offer(row, client, current, exclude=session.mitra_id)
    if row.status == "searching":
        events.publish(
            "client",
            session.client_id,
            "session.rerouted",
            {
                "session_id": str(session.id),
                "reason": "reblast",
                "phase": "searching",
                "pairing_request_id": str(row.id),
            },
        )
    return row
