"""The audit trail of the control center: who changed what, on which target, from what to
what, and when. Recorded inside the same transaction as the write it describes, so a
change is never committed without its entry (and a refused change leaves none)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared import db
from shared.store import audit
from shared.store.audit import AuditRow
from shared.store.paging import Keyset

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Never written to the log, whatever a caller passes in before/after.
_SECRET_KEYS = frozenset({"password", "password_hash", "token"})


def _clean(state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {key: value for key, value in state.items() if key not in _SECRET_KEYS}


def record(
    connection: Connection,
    operator_id: UUID | None,
    action: str,
    target_type: str,
    target_id: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.append(
        connection,
        operator_id=operator_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=_clean(before),
        after=_clean(after),
    )


def entries(
    *,
    at_from: datetime | None,
    at_to: datetime | None,
    operator_id: UUID | None,
    target_type: str | None,
    target_id: str | None,
    after: Keyset | None,
    limit: int,
) -> list[AuditRow]:
    """Newest first; fetch `limit + 1` to know whether another page exists."""
    with db.read() as connection:
        return audit.page(
            connection,
            at_from=at_from,
            at_to=at_to,
            operator_id=operator_id,
            target_type=target_type,
            target_id=target_id,
            after=after,
            limit=limit,
        )
