"""Mitra presence: online/offline transitions (durable in PostgreSQL, with the online log)
and heartbeat times in Valkey (`presence:heartbeats`, a sorted set scored by the last
heartbeat in epoch milliseconds, holding exactly the mitras that are online)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from shared import db, events, valkey
from shared.store import online_log
from shared.store.online_log import Reason

HEARTBEATS_KEY = "presence:heartbeats"


def go_offline(mitra_id: UUID, reason: Reason, operator_id: UUID | None = None) -> bool:
    """Take a mitra offline; True if this was a real transition (logged once), False if the
    mitra was already offline (nothing written)."""
    with db.transaction() as connection:
        changed = connection.execute(
            sa.text(
                "UPDATE mitras SET is_online = false, online_since = NULL, updated_at = now()"
                " WHERE id = :id AND is_online RETURNING id"
            ),
            {"id": mitra_id},
        ).one_or_none()
        if changed is not None:
            online_log.append(
                connection, mitra_id=mitra_id, status="offline", reason=reason,
                operator_id=operator_id,
            )
    valkey.client().zrem(HEARTBEATS_KEY, str(mitra_id))
    if changed is not None:
        events.publish("mitra", mitra_id, "presence.offline", {"reason": reason})
    return changed is not None


def uid_cache_key(firebase_uid: str) -> str:
    return f"presence:uid:{firebase_uid}"


def forget_mitra_identity(firebase_uid: str | None) -> None:
    """Drop the cached Firebase UID → mitra resolution (on suspend, phone change, relink),
    so the next request re-reads PostgreSQL and sees the change at once."""
    if firebase_uid:
        valkey.client().delete(uid_cache_key(firebase_uid))
