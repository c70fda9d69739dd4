"""A superadmin's credit adjustments: a grant (sessions > 0) or refund (sessions < 0) of a
client's bought credits, written as a ledger entry of kind `adjustment` with its own unique
reference and the operator's reason, audited in the same transaction. Balances stay sums of
the ledger; nothing mutable is ever changed.

Rules (see docs/operations.md): at most 100 sessions either way per adjustment (the request
model refuses more, and 0); a refund may not take the credits below zero (409 — refunding
credits already spent would make the ledger claim the client owes sessions). With an
`Idempotency-Key`, a retried request finds the first entry instead of adjusting twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from shared import db
from shared.domain import audit
from shared.errors import Conflict, NotFound
from shared.store import clients, ledger
from shared.store.ledger import Balance, EntryRow


@dataclass(frozen=True, slots=True)
class Adjustment:
    entry: EntryRow
    balance: Balance
    created: bool


def adjust(
    actor_id: UUID, client_id: UUID, sessions: int, reason: str, idempotency_key: str | None
) -> Adjustment:
    reference = (
        f"adjustment:{client_id}:{idempotency_key}"
        if idempotency_key
        else f"adjustment:{uuid.uuid4()}"
    )
    with db.transaction() as connection:
        # The row lock serialises adjustments and session starts of this client, so a
        # refund's balance check cannot race a consumption.
        client = clients.by_id(connection, client_id, lock=True)
        if client is None:
            raise NotFound("No client with that id.")
        existing = ledger.by_reference(connection, reference) if idempotency_key else None
        if existing is not None:
            if (existing.sessions, existing.reason) != (sessions, reason):
                raise Conflict("This Idempotency-Key was already used for another adjustment.")
            return Adjustment(existing, ledger.balance(connection, client.id), created=False)
        before = ledger.balance(connection, client.id)
        if before.credits + sessions < 0:
            raise Conflict(
                "A refund may not take the client's credits below zero.",
                credits=before.credits,
                requested=sessions,
            )
        entry = ledger.append_adjustment(
            connection,
            client_id=client.id,
            sessions=sessions,
            reference=reference,
            operator_id=actor_id,
            reason=reason,
        )
        after = ledger.balance(connection, client.id)
        audit.record(
            connection,
            actor_id,
            "credits.adjust",
            "client",
            client.id,
            {"credits": before.credits},
            {
                "credits": after.credits,
                "sessions": sessions,
                "reason": reason,
                "reference": reference,
                "ledger_entry_id": entry.id,
            },
        )
    return Adjustment(entry, after, created=True)
