"""Mitra management from the control center: create, search with live presence, edit,
suspend/activate, force offline.

Suspension takes effect at once everywhere: the row is suspended (every mitra route reads
it per request and answers `suspended`), the cached UID → mitra resolution is dropped, and
the mitra goes offline (log reason `suspended`), which also takes them out of every blast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared import db
from shared.clock import now_ms
from shared.domain import audit, presence, settings
from shared.errors import NotFound, PhoneTaken
from shared.lazy import lazy_module
from shared.store import mitras
from shared.store.live import capacity
from shared.store.live import presence as live_presence
from shared.store.mitras import MitraRow
from shared.store.paging import Keyset

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = lazy_module("sqlalchemy")


@dataclass(frozen=True, slots=True)
class MitraView:
    """A mitra row with its live presence: `online` means a heartbeat within the timeout."""

    row: MitraRow
    online: bool
    last_heartbeat_at: datetime | None
    load: int
    max_customers_effective: int


def _state(row: MitraRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "phone": row.phone,
        "status": row.status,
        "max_customers": row.max_customers,
        "photo_url": row.photo_url,
    }


def _with_presence(rows: list[MitraRow]) -> list[MitraView]:
    """Live columns for a page of mitras in one pipelined Valkey round trip."""
    if not rows:
        return []
    current = settings.current()
    ids = [str(row.id) for row in rows]
    columns = live_presence.live_columns(ids)
    fresh_after_ms = presence.fresh_cutoff_ms(current, now_ms())
    views = []
    for row, (score, load) in zip(rows, columns, strict=True):
        views.append(
            MitraView(
                row=row,
                online=score is not None and score >= fresh_after_ms,
                last_heartbeat_at=(
                    datetime.fromtimestamp(score / 1000, UTC) if score is not None else None
                ),
                load=load,
                max_customers_effective=row.max_customers or current.max_customers_per_mitra,
            )
        )
    return views


def mitra_page(
    *, q: str | None, status: str | None, online: bool | None, after: Keyset | None, limit: int
) -> list[MitraView]:
    with db.read() as connection:
        rows = mitras.search_page(
            connection, q=q, status=status, online=online, after=after, limit=limit
        )
    return _with_presence(rows)


def get_mitra(mitra_id: UUID) -> MitraView:
    with db.read() as connection:
        row = mitras.by_id(connection, mitra_id)
    if row is None:
        raise NotFound("No mitra with that id.")
    return _with_presence([row])[0]


def _set_capacity(mitra_id: UUID, max_customers: int | None) -> None:
    # Pairing's claim script reads this hash and blasts count `presence:available`: both are
    # updated in one atomic step, so an edit applies to the very next claim and blast.
    capacity.set_capacity(str(mitra_id), max_customers, settings.current().max_customers_per_mitra)


def create_mitra(
    actor_id: UUID, name: str, phone: str, max_customers: int | None, photo_url: str | None = None
) -> MitraView:
    with db.transaction() as connection:
        created = mitras.insert_unless_phone_taken(
            connection, name=name, phone=phone, max_customers=max_customers, photo_url=photo_url
        )
        if created is None:
            raise PhoneTaken()
        audit.record(
            connection, actor_id, "mitra.create", "mitra", created.id, None, _state(created)
        )
    if max_customers is not None:
        _set_capacity(created.id, max_customers)
    return _with_presence([created])[0]


def update_mitra(actor_id: UUID, mitra_id: UUID, changes: dict[str, Any]) -> MitraView:
    """Apply the given fields (`max_customers: None` clears the override)."""
    with db.transaction() as connection:
        before = mitras.by_id(connection, mitra_id, lock=True)
        if before is None:
            raise NotFound("No mitra with that id.")
        if changes.get("phone") not in (None, before.phone):
            existing = mitras.by_phone(connection, changes["phone"])
            if existing is not None:
                raise PhoneTaken()
        try:
            with connection.begin_nested():
                after = mitras.patch(connection, before.id, changes)
        except sa.exc.IntegrityError:
            # Another operator gave that number to a mitra between our check and write.
            raise PhoneTaken() from None
        audit.record(
            connection, actor_id, "mitra.update", "mitra", before.id, _state(before), _state(after)
        )
    if after.suspended:
        # Idempotent, so a retried suspension finishes a half-done one.
        presence.forget_mitra_identity(before.firebase_uid)
        presence.go_offline(before.id, "suspended", actor_id)
    elif after.phone != before.phone:
        # The Firebase sign-in proved the old number; the mitra logs in again with the new one.
        presence.forget_mitra_identity(before.firebase_uid)
        presence.go_offline(before.id, "admin_forced", actor_id)
    if "max_customers" in changes:
        _set_capacity(before.id, after.max_customers)
    return get_mitra(before.id)


def force_offline(actor_id: UUID, mitra_id: UUID) -> MitraView:
    """Take a mitra offline now (log reason `admin_forced`); a no-op if already offline."""
    with db.read() as connection:
        mitra = mitras.by_id(connection, mitra_id)
    if mitra is None:
        raise NotFound("No mitra with that id.")
    changed = presence.go_offline(mitra.id, "admin_forced", actor_id)
    # go_offline commits on its own; the online log row it wrote names the operator too.
    with db.transaction() as connection:
        audit.record(
            connection,
            actor_id,
            "mitra.force_offline",
            "mitra",
            mitra.id,
            {"is_online": mitra.is_online},
            {"is_online": False, "transition": changed},
        )
    return get_mitra(mitra.id)
