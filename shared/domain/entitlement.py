"""Who may start a session, and paying for it: a trial session or a credit is consumed when
a session starts (the match), never when a request is made."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared import db
from shared.errors import PaymentRequired, RegistrationRequired
from shared.store import ledger
from shared.store.clients import ClientRow
from shared.store.ledger import Balance

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def balance(client_id: UUID) -> Balance:
    with db.read() as connection:
        return ledger.balance(connection, client_id)


def require_entitlement(client: ClientRow) -> Balance:
    """Refuse a pairing request the client could not pay for if it matched."""
    current = balance(client.id)
    if current.total > 0:
        return current
    if not client.registered:
        raise RegistrationRequired("Your free session is used. Register to buy sessions.")
    raise PaymentRequired()


def consume_for_session(connection: Connection, client_id: UUID, session_id: UUID) -> str:
    """Consume one trial session (first) or credit for this session, inside the caller's
    transaction; returns the bucket used. The caller must hold the client's row lock
    (clients.by_id(..., lock=True)) so two sessions cannot spend the same unit."""
    current = ledger.balance(connection, client_id)
    if current.trial_sessions > 0:
        bucket = "trial"
    elif current.credits > 0:
        bucket = "credit"
    else:
        raise PaymentRequired()
    ledger.append(
        connection,
        client_id=client_id,
        bucket=bucket,  # type: ignore[arg-type]
        kind="consumption",
        sessions=-1,
        reference=f"consumption:{session_id}",
        session_id=session_id,
    )
    return bucket
