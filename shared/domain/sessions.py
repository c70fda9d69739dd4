"""Session lifecycle as clients and mitras see it: reading their sessions (each side shown
the other only as the anonymity settings allow) and ending one.

Only participants see a session: the client, and the mitra holding it now (or when it
ended). A mitra a session was rerouted away from no longer sees it. Anyone else gets
`not_found`, exactly as for an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared import db, domain_events, events
from shared.domain import settings, visibility
from shared.errors import NotFound
from shared.store import sessions as store
from shared.store.live import capacity
from shared.store.paging import Keyset
from shared.store.sessions import AssignmentRow, SessionDetail, SessionRow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

Viewer = Literal["client", "mitra"]
EndedBy = Literal["client", "mitra", "operator", "system"]


@dataclass(frozen=True, slots=True)
class ClientSide:
    id: UUID | None  # the client's own id to the client; never to a mitra (visibility)
    display_name: str | None  # null when operators hide it from mitras, or once erased


@dataclass(frozen=True, slots=True)
class MitraSide:
    id: UUID | None  # the mitra's own id to the mitra; never to a client (visibility)
    name: str | None
    photo_url: str | None


@dataclass(frozen=True, slots=True)
class Stint:
    mitra_id: UUID | None  # null to clients: who served when is not theirs to track
    started: datetime
    ended: datetime | None


@dataclass(frozen=True, slots=True)
class SessionView:
    id: UUID
    status: str
    client: ClientSide
    mitra: MitraSide
    started_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    history: list[Stint]


# -- reading -------------------------------------------------------------------------------


def active_for_client(client_id: UUID) -> SessionView:
    with db.read() as connection:
        active = store.active_for_client(connection, client_id)
        detail = store.detail_by_id(connection, active.id) if active else None
        if detail is None:
            raise NotFound("You have no active session.")
        return _views(connection, [detail], "client")[0]


def get(session_id: UUID, viewer: Viewer, viewer_id: UUID) -> SessionView:
    with db.read() as connection:
        detail = store.detail_by_id(connection, session_id)
        if detail is None or not _participates(detail.session, viewer, viewer_id):
            raise NotFound("No session with that id.")
        return _views(connection, [detail], viewer)[0]


def list_for_client(client_id: UUID, *, limit: int, after: Keyset | None) -> list[SessionView]:
    """Newest first; `limit` sessions after the keyset."""
    with db.read() as connection:
        found = store.page_for_client(connection, client_id, limit=limit, after=after)
        return _views(connection, found, "client")


def list_for_mitra(
    mitra_id: UUID, *, status: str | None, limit: int, after: Keyset | None
) -> list[SessionView]:
    with db.read() as connection:
        found = store.page_for_mitra(connection, mitra_id, status=status, limit=limit, after=after)
        return _views(connection, found, "mitra")


# -- ending --------------------------------------------------------------------------------


def end_as(viewer: Viewer, viewer_id: UUID, session_id: UUID, reason: str | None) -> SessionView:
    """End the caller's session; idempotent (ending an ended session returns it unchanged)."""
    end(
        session_id,
        ended_by=viewer,
        reason=reason,
        client_id=viewer_id if viewer == "client" else None,
        mitra_id=viewer_id if viewer == "mitra" else None,
    )
    return get(session_id, viewer, viewer_id)


def end(
    session_id: UUID,
    *,
    ended_by: EndedBy,
    reason: str | None,
    client_id: UUID | None = None,
    mitra_id: UUID | None = None,
    operator_id: UUID | None = None,
) -> SessionRow | None:
    """End an active session (optionally only if held by this client/mitra). Returns the
    ended row to the one caller that ended it, None to everyone else.

    Only that caller gives the mitra's capacity back and tells both sides, so two enders at
    once free the capacity once. Valkey is touched after the commit: a crash in between
    leaves the load one too high until the sweeper reconciles it from PostgreSQL, which is
    the safe direction (never over capacity)."""
    with db.transaction() as connection:
        ended = store.end(
            connection,
            session_id,
            ended_by=ended_by,
            reason=reason,
            client_id=client_id,
            mitra_id=mitra_id,
            operator_id=operator_id,
        )
    if ended is None:
        return None
    announce_end(ended)
    return ended


def announce_end(ended: SessionRow) -> None:
    """After an end commits: give the mitra's unit back and tell both sides (once, by the
    one caller whose UPDATE ended the session)."""
    capacity.release(ended.mitra_id, settings.current().max_customers_per_mitra)
    data = {
        "session_id": str(ended.id),
        "status": ended.status,
        "ended_by": ended.ended_by,
        "end_reason": ended.end_reason,
        "ended_at": ended.ended_at.isoformat() if ended.ended_at else None,
    }
    events.publish("client", ended.client_id, "session.ended", data)
    events.publish("mitra", ended.mitra_id, "session.ended", data)
    domain_events.emit(
        "session.ended",
        {
            "session_id": str(ended.id),
            "client_id": str(ended.client_id),
            "mitra_id": str(ended.mitra_id),
            "ended_by": ended.ended_by,
            "end_reason": ended.end_reason,
        },
    )


# -- rerouting -----------------------------------------------------------------------------


def announce_moved(session_id: UUID, from_mitra_id: UUID, reason: str) -> None:
    """After a reroute commits (shared.domain.reroute, or pairing's accept of a re-blast):
    give the old mitra's unit back and send `session.rerouted` to the client and both
    mitras, each shown the others only as the anonymity settings allow."""
    capacity.release(from_mitra_id, settings.current().max_customers_per_mitra)
    with db.read() as connection:
        detail = store.detail_by_id(connection, session_id)
    if detail is None:
        return
    session = detail.session
    domain_events.emit(
        "session.rerouted",
        {
            "session_id": str(session.id),
            "client_id": str(session.client_id),
            "from_mitra_id": str(from_mitra_id),
            "to_mitra_id": str(session.mitra_id),
            "reason": reason,
        },
    )
    base = {"session_id": str(session.id), "reason": reason, "phase": "moved"}
    events.publish(
        "client",
        session.client_id,
        "session.rerouted",
        {
            **base,
            "mitra": visibility.mitra_seen_by_client(detail.mitra_name, detail.mitra_photo_url),
        },
    )
    events.publish("mitra", from_mitra_id, "session.rerouted", {**base, "direction": "away"})
    events.publish(
        "mitra",
        session.mitra_id,
        "session.rerouted",
        {
            **base,
            "direction": "to",
            "client": visibility.client_seen_by_mitra(detail.client_display_name),
        },
    )


# -- views ---------------------------------------------------------------------------------


def _participates(session: SessionRow, viewer: Viewer, viewer_id: UUID) -> bool:
    owner = session.client_id if viewer == "client" else session.mitra_id
    return owner == viewer_id


def _views(
    connection: Connection, details: list[SessionDetail], viewer: Viewer
) -> list[SessionView]:
    history = store.assignments(connection, [d.session.id for d in details])
    views = []
    for detail in details:
        session = detail.session
        if viewer == "client":
            client = ClientSide(id=session.client_id, display_name=detail.client_display_name)
            mitra = MitraSide(
                id=None,
                **visibility.mitra_seen_by_client(detail.mitra_name, detail.mitra_photo_url),
            )
        else:
            client = ClientSide(
                id=None, **visibility.client_seen_by_mitra(detail.client_display_name)
            )
            mitra = MitraSide(
                id=session.mitra_id, name=detail.mitra_name, photo_url=detail.mitra_photo_url
            )
        views.append(
            SessionView(
                id=session.id,
                status=session.status,
                client=client,
                mitra=mitra,
                started_at=session.started_at,
                ended_at=session.ended_at,
                ended_by=session.ended_by,
                end_reason=session.end_reason,
                history=[_stint(a, viewer) for a in history[session.id]],
            )
        )
    return views


def _stint(assignment: AssignmentRow, viewer: Viewer) -> Stint:
    return Stint(
        mitra_id=assignment.mitra_id if viewer == "mitra" else None,
        started=assignment.assigned_at,
        ended=assignment.unassigned_at,
    )
