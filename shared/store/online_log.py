"""The mitra online log: one row per real online/offline transition, with its reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


Reason = Literal["manual", "heartbeat_timeout", "admin_forced", "logout", "suspended"]


def append(
    connection: Connection,
    *,
    mitra_id: UUID,
    status: Literal["online", "offline"],
    reason: Reason,
    operator_id: UUID | None = None,
) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO mitra_online_log (mitra_id, status, reason, operator_id)"
            " VALUES (:mitra_id, :status, :reason, :operator_id)"
        ),
        {"mitra_id": mitra_id, "status": status, "reason": reason, "operator_id": operator_id},
    )
