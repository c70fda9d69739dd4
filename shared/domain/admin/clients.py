"""Client (user) management from the control center: search, view, suspend/activate.

A suspended client is refused on every client route at the next request (the policy reads
the row each time), and their open pairing request, if any, is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from shared import db
from shared.domain import audit, pairing
from shared.errors import NotFound
from shared.store import clients, ledger
from shared.store.clients import ClientRow
from shared.store.ledger import Balance
from shared.store.paging import Keyset


@dataclass(frozen=True, slots=True)
class ClientView:
    row: ClientRow
    balance: Balance


def client_page(
    *, q: str | None, status: str | None, after: Keyset | None, limit: int
) -> list[ClientRow]:
    with db.read() as connection:
        return clients.search_page(connection, q=q, status=status, after=after, limit=limit)


def get_client(client_id: UUID) -> ClientView:
    with db.read() as connection:
        row = clients.by_id(connection, client_id)
        if row is None:
            raise NotFound("No client with that id.")
        return ClientView(row=row, balance=ledger.balance(connection, row.id))


def set_status(actor_id: UUID, client_id: UUID, status: str) -> ClientView:
    with db.transaction() as connection:
        before = clients.by_id(connection, client_id, lock=True)
        if before is None:
            raise NotFound("No client with that id.")
        after = clients.set_status(connection, before.id, status)
        audit.record(
            connection,
            actor_id,
            "client.update",
            "client",
            before.id,
            {"status": before.status},
            {"status": after.status},
        )
    if after.suspended:
        # After the commit, and idempotent: a retried suspension finishes a half-done one.
        pairing.cancel_open_request(after.id)
    return get_client(before.id)
