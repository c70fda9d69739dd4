"""The `sweeper_runs` table: one row per sweeper run, its status and per-step counts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


RunStatus = Literal["ok", "failed"]


@dataclass(frozen=True, slots=True)
class SweeperRunRow:
    id: int
    started_at: datetime
    finished_at: datetime
    status: str
    summary: dict[str, Any]


def insert(
    connection: Connection, *, started_at: datetime, status: RunStatus, summary: dict[str, Any]
) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO sweeper_runs (started_at, status, summary)"
            " VALUES (:started_at, :status, CAST(:summary AS jsonb))"
        ),
        {"started_at": started_at, "status": status, "summary": json.dumps(summary, default=str)},
    )


def latest(connection: Connection) -> SweeperRunRow | None:
    row = connection.execute(
        sa.text(
            "SELECT id, started_at, finished_at, status, summary FROM sweeper_runs"
            " ORDER BY finished_at DESC LIMIT 1"
        )
    ).one_or_none()
    return SweeperRunRow(**row._mapping) if row is not None else None
