"""The package catalogue from the control center: list (active or not), create, edit.
Prices are whole rupiah (integer IDR); clients see only active packages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared import db
from shared.domain import audit
from shared.errors import NotFound
from shared.store import packages
from shared.store.packages import PackageRow
from shared.store.paging import Keyset


def _state(row: PackageRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "sessions": row.sessions,
        "price": row.price,
        "currency": row.currency,
        "active": row.active,
        "sort_order": row.sort_order,
    }


def package_page(after: Keyset | None, limit: int) -> list[PackageRow]:
    with db.read() as connection:
        return packages.page_all(connection, after=after, limit=limit)


def create_package(
    actor_id: UUID, *, name: str, sessions: int, price: int, active: bool, sort_order: int
) -> PackageRow:
    with db.transaction() as connection:
        created = packages.insert(
            connection,
            name=name,
            sessions=sessions,
            price=price,
            active=active,
            sort_order=sort_order,
        )
        audit.record(
            connection, actor_id, "package.create", "package", created.id, None, _state(created)
        )
    return created


def update_package(actor_id: UUID, package_id: UUID, changes: dict[str, Any]) -> PackageRow:
    with db.transaction() as connection:
        before = packages.lock_by_id(connection, package_id)
        if before is None:
            raise NotFound("No package with that id.")
        after = packages.patch(connection, before.id, changes)
        audit.record(
            connection,
            actor_id,
            "package.update",
            "package",
            before.id,
            _state(before),
            _state(after),
        )
    return after
