"""The `audit_log` table: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.lazy import lazy_module
from shared.store.paging import Keyset, keyset_page_params, keyset_page_sql

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")

COLUMNS = "id, operator_id, action, target_type, target_id, before, after, at"


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    operator_id: UUID | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


def append(
    connection: Connection,
    *,
    operator_id: UUID | None,
    action: str,
    target_type: str,
    target_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO audit_log (operator_id, action, target_type, target_id, before, after)"
            " VALUES (:operator_id, :action, :target_type, :target_id,"
            " CAST(:before AS jsonb), CAST(:after AS jsonb))"
        ),
        {
            "operator_id": operator_id,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "before": None if before is None else json.dumps(before, default=str),
            "after": None if after is None else json.dumps(after, default=str),
        },
    )


def page(
    connection: Connection,
    *,
    at_from: datetime | None,
    at_to: datetime | None,
    operator_id: UUID | None,
    target_type: str | None,
    target_id: str | None,
    after: Keyset | None,
    limit: int,
) -> list[AuditRow]:
    return [
        AuditRow(**row._mapping)
        for row in connection.execute(
            sa.text(
                f"""
                SELECT {COLUMNS} FROM audit_log
                 WHERE (CAST(:at_from AS timestamptz) IS NULL OR at >= :at_from)
                   AND (CAST(:at_to AS timestamptz) IS NULL OR at < :at_to)
                   AND (CAST(:operator_id AS uuid) IS NULL OR operator_id = :operator_id)
                   AND (CAST(:target_type AS text) IS NULL OR target_type = :target_type)
                   AND (CAST(:target_id AS text) IS NULL OR target_id = :target_id)
                   AND {keyset_page_sql("at", "id", "bigint")}
                """
            ),
            {
                "at_from": at_from,
                "at_to": at_to,
                "operator_id": operator_id,
                "target_type": target_type,
                "target_id": target_id,
                **keyset_page_params(after, int, limit),
            },
        )
    ]
