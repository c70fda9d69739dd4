"""Sessions and credits made directly in the stores, as the pairing claim would make them,
so sessions and payments tests do not depend on pairing."""

from __future__ import annotations

from uuid import UUID

from shared import db, valkey
from shared.domain import entitlement
from shared.store import clients, ledger, sessions
from shared.store.live import keys
from tests.support.presence import resync


def start_session(client_id: str | UUID, mitra_id: str | UUID) -> UUID:
    """An active session paid with the client's trial or a credit, and the mitra's load
    taken in Valkey, like a won claim."""
    with db.transaction() as connection:
        clients.by_id(connection, client_id, lock=True)
        row = sessions.insert_active(
            connection, client_id=UUID(str(client_id)), mitra_id=UUID(str(mitra_id))
        )
        entitlement.consume_for_session(connection, row.client_id, row.id)
    valkey.client().hincrby(keys.LOAD, str(mitra_id), 1)
    resync(mitra_id)
    return row.id


def grant_credits(client_id: str | UUID, count: int, reference: str) -> None:
    """Credits as if bought (a `grant` entry with its own unique reference)."""
    with db.transaction() as connection:
        ledger.append(
            connection,
            client_id=UUID(str(client_id)),
            bucket="credit",
            kind="grant",
            sessions=count,
            reference=reference,
        )
