"""The `packages` table: what a client can buy (sessions for a price)."""

from __future__ import annotations

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

COLUMNS = "id, name, sessions, price, currency, active, sort_order, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class PackageRow:
    id: UUID
    name: str
    sessions: int
    price: int  # whole rupiah (IDR has no minor unit in Xendit invoices)
    currency: str
    active: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime


def _row(result: sa.Row | None) -> PackageRow | None:
    return PackageRow(**result._mapping) if result is not None else None


def by_id(connection: Connection, package_id: UUID | str) -> PackageRow | None:
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM packages WHERE id = :id"), {"id": package_id}
        ).one_or_none()
    )


def list_active(connection: Connection) -> list[PackageRow]:
    rows = connection.execute(
        sa.text(f"SELECT {COLUMNS} FROM packages WHERE active ORDER BY sort_order, price, id")
    )
    return [PackageRow(**row._mapping) for row in rows]


# -- control center: catalogue management (admin function) ---------------------------------


def page_all(connection: Connection, *, after: Keyset | None, limit: int) -> list[PackageRow]:
    """Every package, active or not, newest first."""
    return [
        PackageRow(**row._mapping)
        for row in connection.execute(
            sa.text(
                f"""
                SELECT {COLUMNS} FROM packages
                 WHERE {keyset_page_sql("created_at", "id", "uuid")}
                """
            ),
            keyset_page_params(after, UUID, limit),
        )
    ]


def lock_by_id(connection: Connection, package_id: UUID) -> PackageRow | None:
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM packages WHERE id = :id FOR UPDATE"),
            {"id": package_id},
        ).one_or_none()
    )


def insert(
    connection: Connection, *, name: str, sessions: int, price: int, active: bool, sort_order: int
) -> PackageRow:
    return PackageRow(
        **connection.execute(
            sa.text(
                f"INSERT INTO packages (name, sessions, price, active, sort_order)"
                f" VALUES (:name, :sessions, :price, :active, :sort_order) RETURNING {COLUMNS}"
            ),
            {
                "name": name,
                "sessions": sessions,
                "price": price,
                "active": active,
                "sort_order": sort_order,
            },
        )
        .one()
        ._mapping
    )


PACKAGE_EDITABLE = frozenset({"name", "sessions", "price", "active", "sort_order"})


def patch(connection: Connection, package_id: UUID, changes: dict[str, Any]) -> PackageRow:
    unknown = set(changes) - PACKAGE_EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    assignments = [f"{column} = :{column}" for column in sorted(changes)]
    assignments.append("updated_at = now()")
    return PackageRow(
        **connection.execute(
            sa.text(
                f"UPDATE packages SET {', '.join(assignments)} WHERE id = :id RETURNING {COLUMNS}"
            ),
            {**changes, "id": package_id},
        )
        .one()
        ._mapping
    )
