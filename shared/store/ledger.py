"""The credit ledger: append-only entries; a balance is a sum, never a stored counter.

Every entry has a unique `reference` (e.g. `trial-grant:<client>`, `purchase:<payment>`,
`consumption:<session>`), so a retried write is a no-op instead of a double count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


Bucket = Literal["trial", "credit"]
Kind = Literal["grant", "purchase", "consumption", "refund", "adjustment"]


@dataclass(frozen=True, slots=True)
class Balance:
    trial_sessions: int
    credits: int

    @property
    def total(self) -> int:
        return self.trial_sessions + self.credits


def append(
    connection: Connection,
    *,
    client_id: UUID,
    bucket: Bucket,
    kind: Kind,
    sessions: int,
    reference: str,
    payment_id: UUID | None = None,
    session_id: UUID | None = None,
) -> bool:
    """Append an entry; False when an entry with this reference already exists."""
    inserted = connection.execute(
        sa.text(
            """
            INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference,
                                       payment_id, session_id)
            VALUES (:client_id, :bucket, :kind, :sessions, :reference, :payment_id, :session_id)
            ON CONFLICT (reference) DO NOTHING
            RETURNING id
            """
        ),
        {
            "client_id": client_id,
            "bucket": bucket,
            "kind": kind,
            "sessions": sessions,
            "reference": reference,
            "payment_id": payment_id,
            "session_id": session_id,
        },
    ).one_or_none()
    return inserted is not None


def balance(connection: Connection, client_id: UUID) -> Balance:
    row = connection.execute(
        sa.text(
            """
            SELECT COALESCE(SUM(sessions) FILTER (WHERE bucket = 'trial'), 0)  AS trial,
                   COALESCE(SUM(sessions) FILTER (WHERE bucket = 'credit'), 0) AS credit
              FROM credit_ledger WHERE client_id = :client_id
            """
        ),
        {"client_id": client_id},
    ).one()
    return Balance(trial_sessions=int(row.trial), credits=int(row.credit))


@dataclass(frozen=True, slots=True)
class EntryRow:
    id: int
    client_id: UUID
    bucket: str
    kind: str
    sessions: int
    reference: str
    operator_id: UUID | None
    reason: str | None
    created_at: datetime


ENTRY_COLUMNS = "id, client_id, bucket, kind, sessions, reference, operator_id, reason, created_at"


def append_adjustment(
    connection: Connection,
    *,
    client_id: UUID,
    sessions: int,
    reference: str,
    operator_id: UUID,
    reason: str,
) -> EntryRow:
    """An operator's adjustment of bought credits (kind `adjustment`, bucket `credit`)."""
    row = connection.execute(
        sa.text(
            f"""
            INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference,
                                       operator_id, reason)
            VALUES (:client_id, 'credit', 'adjustment', :sessions, :reference,
                    :operator_id, :reason)
            RETURNING {ENTRY_COLUMNS}
            """
        ),
        {
            "client_id": client_id,
            "sessions": sessions,
            "reference": reference,
            "operator_id": operator_id,
            "reason": reason,
        },
    ).one()
    return EntryRow(**row._mapping)


def by_reference(connection: Connection, reference: str) -> EntryRow | None:
    row = connection.execute(
        sa.text(f"SELECT {ENTRY_COLUMNS} FROM credit_ledger WHERE reference = :reference"),
        {"reference": reference},
    ).one_or_none()
    return EntryRow(**row._mapping) if row is not None else None
