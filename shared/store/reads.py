"""Reads every table module makes the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


def rows_by_id(
    connection: Connection, table: str, columns: str, ids: Sequence[UUID]
) -> Sequence[sa.Row]:
    """`columns` of the rows of `table` (one of ours, never caller input) whose id is among
    `ids`, in one statement; none for no ids."""
    if not ids:
        return []
    query = sa.text(f"SELECT {columns} FROM {table} WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)
    )
    return connection.execute(query, {"ids": list(ids)}).all()
