"""What a client's or a mitra's event stream starts with."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared import db
from shared.domain.pairing.anonymity import visible_mitra
from shared.domain.pairing.closing import close
from shared.domain.pairing.matching import open_offers
from shared.store import mitras, sessions
from shared.store import pairing as store


def client_snapshot(client_id: UUID) -> dict[str, Any]:
    """What a client's stream starts with: the open request, or the active session."""
    with db.read() as connection:
        row = store.open_for_client(connection, client_id)
    if row is not None and close(row.id, "expired") != "searching":
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
