"""Erasure of personal data (UU PDP's right to erasure, the App Store's in-app deletion).

A client account is erased by the client (`DELETE /api/client/auth/me`) or by a superadmin
on request (`POST /api/admin/users/{id}/erase`); both do the same thing:

1. the open pairing request is cancelled and the active session ended through the ordinary
   paths, so both sides get their usual events and pushes;
2. the Firebase user is deleted (the same person signing in again gets a new uid, hence a
   brand-new client with no link to the old one);
3. in one transaction: every personal field of the `clients` row is overwritten (the row
   stays: payments, the ledger and sessions reference it, and accounting keeps them,
   pseudonymous), the devices are deleted, the client's own free-text end reasons are
   cleared, and an audit entry without personal data records what happened.

Order matters for retries: Firebase goes before PostgreSQL, so a failure in between leaves
a profile the client's still-valid token can erase again (the Firebase user is then already
gone, which counts as success). A second call answers the first call's result: the profile
no longer names the uid, so a short-lived Valkey marker (`erased:<sha256(uid)>`, as long as
an ID token can live) maps the caller to the audit entry that recorded it.

A mitra's history is kept when they are deactivated; on request a superadmin erases their
phone number (PostgreSQL, old audit entries, the Firebase user that held it, devices).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from shared import db
from shared.domain import audit, pairing, presence, sessions
from shared.errors import Conflict, Forbidden, NotFound, ProfileMissing
from shared.identity import firebase, revocation, tickets
from shared.identity.firebase import FirebaseUser
from shared.lazy import lazy_module
from shared.log import get_logger, log_event
from shared.store import chat_messages, clients, mitras
from shared.store import devices as device_store
from shared.store import sessions as session_store
from shared.store.clients import ClientRow
from shared.store.live import identity as live_identity
from shared.store.mitras import MitraRow

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")

logger = get_logger("halo.erasure")

# An ID token lives at most an hour; the marker outlives it with room for clock skew.
ERASED_MARKER_TTL_S = 2 * 3600
CLIENT_ERASE_ACTION = "client.erase"

ErasedBy = Literal["client", "operator"]


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an account erasure did (the answer to both the first and any repeated call)."""

    client_id: UUID
    erased_at: datetime
    erased_by: ErasedBy
    ended_session_id: UUID | None
    cancelled_request_id: UUID | None
    devices_removed: int
    firebase_user_deleted: bool

    def record(self) -> dict[str, Any]:
        return {
            "erased_by": self.erased_by,
            "ended_session_id": _text(self.ended_session_id),
            "cancelled_request_id": _text(self.cancelled_request_id),
            "devices_removed": self.devices_removed,
            "firebase_user_deleted": self.firebase_user_deleted,
        }


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


# -- clients ---------------------------------------------------------------------------------


def delete_own_account(user: FirebaseUser) -> Erasure:
    """The caller's account erasure; idempotent (a repeat answers the first result)."""
    with db.read() as connection:
        client = clients.by_uid(connection, user.uid)
        if client is None and mitras.by_uid(connection, user.uid) is not None:
            raise Forbidden("Mitra accounts are closed by an operator.")
    if client is None:
        remembered = live_identity.erased_client_id(user.uid)
        if remembered is None:
            raise ProfileMissing()
        return recorded(UUID(remembered))
    return _erase(client, erased_by="client", operator_id=None, reason=None)


def erase_client(actor_id: UUID, client_id: UUID, reason: str) -> Erasure:
    """An operator's erasure on the client's request; idempotent like the client's own."""
    with db.read() as connection:
        client = clients.by_id(connection, client_id)
    if client is None:
        raise NotFound("No client with that id.")
    if client.erased_at is not None:
        return recorded(client.id)
    return _erase(client, erased_by="operator", operator_id=actor_id, reason=reason)


def is_erased_uid(uid: str) -> bool:
    """True while a just-erased account's tokens may still be in circulation (they must not
    register a new profile under the old uid)."""
    return live_identity.is_erased(uid)


def recorded(client_id: UUID) -> Erasure:
    """The erasure as first recorded (its audit entry)."""
    with db.read() as connection:
        row = connection.execute(
            sa.text(
                "SELECT after, at FROM audit_log WHERE target_type = 'client'"
                " AND target_id = :id AND action = :action ORDER BY id LIMIT 1"
            ),
            {"id": str(client_id), "action": CLIENT_ERASE_ACTION},
        ).one_or_none()
        erased = clients.by_id(connection, client_id)
    if row is None or erased is None or erased.erased_at is None:
        raise ProfileMissing()
    after = row.after or {}
    return Erasure(
        client_id=client_id,
        erased_at=erased.erased_at,
        erased_by=after.get("erased_by", "client"),
        ended_session_id=_uuid(after.get("ended_session_id")),
        cancelled_request_id=_uuid(after.get("cancelled_request_id")),
        devices_removed=int(after.get("devices_removed", 0)),
        firebase_user_deleted=bool(after.get("firebase_user_deleted", False)),
    )


def _uuid(value: object) -> UUID | None:
    return UUID(value) if isinstance(value, str) else None


def _end_live_state(
    client: ClientRow, erased_by: ErasedBy, operator_id: UUID | None
) -> tuple[UUID | None, UUID | None]:
    """Cancel the open request and end the active session through their ordinary paths."""
    cancelled = pairing.cancel_open_request(client.id)
    with db.read() as connection:
        active = session_store.active_for_client(connection, client.id)
    ended = None
    if active is not None:
        sessions.end(
            active.id,
            ended_by=erased_by,
            reason=None,
            client_id=client.id,
            operator_id=operator_id,
        )
        ended = active.id
    return ended, cancelled


def _erase(
    client: ClientRow, *, erased_by: ErasedBy, operator_id: UUID | None, reason: str | None
) -> Erasure:
    uid = client.firebase_uid
    ended, cancelled = _end_live_state(client, erased_by, operator_id)
    firebase_deleted = firebase.delete_user(uid)
    # Before the commit: a racing repeat that no longer finds the profile by uid must find
    # the marker (while the profile still names the uid, the marker is never consulted).
    live_identity.mark_erased(uid, str(client.id), ERASED_MARKER_TTL_S)
    with db.transaction() as connection:
        locked = clients.by_id(connection, client.id, lock=True)
        already = locked is None or locked.erased_at is not None
        if not already:
            erased = clients.erase(connection, client.id)
            removed = device_store.delete_all_of(
                connection, owner_kind="client", owner_id=client.id
            )
            _clear_own_words(connection, client.id)
            chat_messages.erase_client_messages(connection, client.id)
            assert erased.erased_at is not None
            outcome = Erasure(
                client_id=client.id,
                erased_at=erased.erased_at,
                erased_by=erased_by,
                ended_session_id=ended,
                cancelled_request_id=cancelled,
                devices_removed=removed,
                firebase_user_deleted=firebase_deleted,
            )
            after = outcome.record()
            if reason is not None:
                after["reason"] = reason
            audit.record(
                connection, operator_id, CLIENT_ERASE_ACTION, "client", client.id, None, after
            )
    if already:
        # A concurrent erasure of the same account won; answer what it recorded.
        return recorded(client.id)
    revocation.forget(uid)
    tickets.discard_all("client", uid)
    # A request or session that slipped in between (a press racing the deletion) is closed
    # too; the uid no longer resolves to the profile, so nothing new can start after this.
    late_ended, late_cancelled = _end_live_state(client, erased_by, operator_id)
    log_event(
        logger,
        logging.INFO,
        "client account erased",
        event="account_erased",
        client_id=str(client.id),
        erased_by=erased_by,
        late_cleanup=bool(late_ended or late_cancelled),
    )
    return outcome


def _clear_own_words(connection: Connection, client_id: UUID) -> None:
    """The client's own free-text reasons for ending sessions may say anything about them."""
    connection.execute(
        sa.text(
            "UPDATE sessions SET end_reason = NULL"
            " WHERE client_id = :id AND ended_by = 'client' AND end_reason IS NOT NULL"
        ),
        {"id": client_id},
    )


# -- mitras ----------------------------------------------------------------------------------


def erase_mitra_phone(actor_id: UUID, mitra_id: UUID, reason: str) -> MitraRow:
    """Erase a deactivated mitra's phone number; their sessions and logs stay. Idempotent."""
    with db.read() as connection:
        mitra = mitras.by_id(connection, mitra_id)
    if mitra is None:
        raise NotFound("No mitra with that id.")
    if not mitra.suspended:
        raise Conflict("Deactivate (suspend) the mitra before erasing their phone number.")
    if mitra.firebase_uid:
        # The Firebase phone user holds the number too.
        firebase.delete_user(mitra.firebase_uid)
    with db.transaction() as connection:
        locked = mitras.by_id(connection, mitra_id, lock=True)
        assert locked is not None
        if locked.phone is None:
            return locked
        erased = mitras.erase_phone(connection, mitra_id)
        device_store.delete_all_of(connection, owner_kind="mitra", owner_id=mitra_id)
        scrub_audit_field(connection, "mitra", str(mitra_id), "phone")
        audit.record(
            connection,
            actor_id,
            "mitra.erase_phone",
            "mitra",
            mitra_id,
            None,
            {"reason": reason},
        )
    presence.forget_mitra_identity(mitra.firebase_uid)
    if mitra.firebase_uid:
        # Its Firebase user is gone: the old token is refused now, not at the next sweep,
        # so it cannot put the uid back into Valkey; its unredeemed stream tickets go too.
        revocation.mark_revoked(mitra.firebase_uid)
        tickets.discard_all("mitra", mitra.firebase_uid)
    return erased


def scrub_audit_field(connection: Connection, target_type: str, target_id: str, field: str) -> None:
    """Remove one personal field from a target's past audit entries (the only change the
    append-only log admits besides retention, migration 0006)."""
    connection.execute(sa.text("SET LOCAL halo.audit_override = 'on'"))
    connection.execute(
        sa.text(
            "UPDATE audit_log SET before = before - :field, after = after - :field"
            " WHERE target_type = :type AND target_id = :id"
            " AND (jsonb_exists(before, :field) OR jsonb_exists(after, :field))"
        ),
        {"field": field, "type": target_type, "id": target_id},
    )
    connection.execute(sa.text("SET LOCAL halo.audit_override = 'off'"))
