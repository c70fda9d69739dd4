"""The client's data export: everything held about them, as one consistent snapshot.

Mitras appear as the anonymity settings let the client see them at export time (the same
rule as the session views), never with their phone number or id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import db
from shared.domain import visibility
from shared.errors import Forbidden, ProfileMissing
from shared.identity.firebase import FirebaseUser
from shared.store import clients, exports, ledger, mitras
from shared.store.clients import ClientRow
from shared.store.ledger import Balance


@dataclass(frozen=True, slots=True)
class Export:
    exported_at: datetime
    profile: ClientRow
    balance: Balance
    rows: dict[str, list[dict[str, Any]]]


def export_for(user: FirebaseUser) -> Export:
    """The caller's export; suspended clients may export too (the right of access does not
    end with a suspension). No profile (never registered, or erased) → 404."""
    with db.read() as connection:
        client = clients.by_uid(connection, user.uid)
        if client is None and mitras.by_uid(connection, user.uid) is not None:
            raise Forbidden("Mitra accounts cannot use the client app.")
    if client is None:
        raise ProfileMissing()
    return export_client(client)


def export_client(client: ClientRow) -> Export:
    with db.read() as connection:
        rows = exports.client_rows(connection, client.id)
        balance = ledger.balance(connection, client.id)
    for session in rows["sessions"]:
        name = session.pop("mitra_name")
        photo = session.pop("mitra_photo_url")
        del session["mitra_id"]
        session["mitra"] = visibility.mitra_seen_by_client(name, photo)
    return Export(exported_at=datetime.now(UTC), profile=client, balance=balance, rows=rows)
