"""The `settings_versions` table: operator settings, one row per saved version."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


def lock_for_update(connection: Connection) -> None:
    """Serialize settings writers until the transaction ends, so each one merges onto the
    version the previous one saved (no lost update)."""
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended('settings', 0))"))


def latest(connection: Connection) -> tuple[int, dict[str, Any]]:
    row = connection.execute(
        sa.text("SELECT version, settings FROM settings_versions ORDER BY version DESC LIMIT 1")
    ).one()
    return int(row.version), dict(row.settings)


def insert(connection: Connection, settings: dict[str, Any], operator_id: UUID | str | None) -> int:
    return int(
        connection.execute(
            sa.text(
                "INSERT INTO settings_versions (settings, created_by)"
                " VALUES (CAST(:settings AS jsonb), :operator_id) RETURNING version"
            ),
            {"settings": json.dumps(settings), "operator_id": operator_id},
        ).scalar_one()
    )
