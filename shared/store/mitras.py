"""The `mitras` table: counsellors created by operators, linked to a Firebase UID at login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.lazy import lazy_module
from shared.store import reads
from shared.store.paging import Keyset, keyset_page_params, keyset_page_sql

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")

COLUMNS = (
    "id, name, phone, photo_url, firebase_uid, status, max_customers, is_online,"
    " online_since, last_login_at, created_at"
)


@dataclass(frozen=True, slots=True)
class MitraRow:
    id: UUID
    name: str
    phone: str | None  # None once erased (a deactivated mitra, on request)
    photo_url: str | None
    firebase_uid: str | None
    status: str
    max_customers: int | None
    is_online: bool
    online_since: datetime | None
    last_login_at: datetime | None
    created_at: datetime

    @property
    def suspended(self) -> bool:
        return self.status == "suspended"


def _row(result: sa.Row | None) -> MitraRow | None:
    return MitraRow(**result._mapping) if result is not None else None


def by_uid(connection: Connection, firebase_uid: str) -> MitraRow | None:
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM mitras WHERE firebase_uid = :uid"),
            {"uid": firebase_uid},
        ).one_or_none()
    )


def by_id(connection: Connection, mitra_id: UUID | str, *, lock: bool = False) -> MitraRow | None:
    suffix = " FOR UPDATE" if lock else ""
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM mitras WHERE id = :id{suffix}"), {"id": mitra_id}
        ).one_or_none()
    )


def by_ids(connection: Connection, ids: list[UUID]) -> dict[UUID, MitraRow]:
    """The rows of `ids` that exist, by id: one read for many (the events function
    re-checks every due stream's caller together)."""
    rows = reads.rows_by_id(connection, "mitras", COLUMNS, ids)
    return {row.id: MitraRow(**row._mapping) for row in rows}


def by_phone(connection: Connection, phone: str, *, lock: bool = False) -> MitraRow | None:
    suffix = " FOR UPDATE" if lock else ""
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM mitras WHERE phone = :phone{suffix}"),
            {"phone": phone},
        ).one_or_none()
    )


def link_firebase_uid(connection: Connection, mitra_id: UUID, firebase_uid: str) -> MitraRow:
    """Bind the mitra to the Firebase user that proved the phone number, replacing any older
    binding (a mitra who reinstalls the app gets a new UID for the same phone)."""
    connection.execute(
        sa.text("UPDATE mitras SET firebase_uid = NULL WHERE firebase_uid = :uid AND id <> :id"),
        {"uid": firebase_uid, "id": mitra_id},
    )
    return MitraRow(
        **connection.execute(
            sa.text(
                f"UPDATE mitras SET firebase_uid = :uid, last_login_at = now(), updated_at = now()"
                f" WHERE id = :id RETURNING {COLUMNS}"
            ),
            {"uid": firebase_uid, "id": mitra_id},
        )
        .one()
        ._mapping
    )


def insert(
    connection: Connection, *, name: str, phone: str, max_customers: int | None = None
) -> MitraRow:
    return MitraRow(
        **connection.execute(
            sa.text(
                f"INSERT INTO mitras (name, phone, max_customers) VALUES (:name, :phone, :max)"
                f" RETURNING {COLUMNS}"
            ),
            {"name": name, "phone": phone, "max": max_customers},
        )
        .one()
        ._mapping
    )


# -- control center: search, create, edit (admin function) ---------------------------------


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches it literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_page(
    connection: Connection,
    *,
    q: str | None,
    status: str | None,
    online: bool | None,
    after: Keyset | None,
    limit: int,
) -> list[MitraRow]:
    """Newest first. `q` matches the id exactly, or part of the name (any case) or phone;
    `online` filters on the durable flag (the sweeper makes it follow heartbeats)."""
    query_id = _uuid_or_none(q)
    return [
        MitraRow(**row._mapping)
        for row in connection.execute(
            sa.text(
                f"""
                SELECT {COLUMNS} FROM mitras
                 WHERE (CAST(:q AS text) IS NULL
                        OR id = CAST(:query_id AS uuid)
                        OR lower(name) LIKE lower(:pattern)
                        OR phone LIKE :pattern)
                   AND (CAST(:status AS text) IS NULL OR status = :status)
                   AND (CAST(:online AS boolean) IS NULL OR is_online = :online)
                   AND {keyset_page_sql("created_at", "id", "uuid")}
                """
            ),
            {
                "q": q,
                "query_id": query_id,
                "pattern": _like(q or ""),
                "status": status,
                "online": online,
                **keyset_page_params(after, UUID, limit),
            },
        )
    ]


def insert_unless_phone_taken(
    connection: Connection,
    *,
    name: str,
    phone: str,
    max_customers: int | None,
    photo_url: str | None = None,
) -> MitraRow | None:
    """Create a mitra; None when the phone number already belongs to one."""
    return _row(
        connection.execute(
            sa.text(
                "INSERT INTO mitras (name, phone, max_customers, photo_url)"
                " VALUES (:name, :phone, :max, :photo)"
                f" ON CONFLICT (phone) DO NOTHING RETURNING {COLUMNS}"
            ),
            {"name": name, "phone": phone, "max": max_customers, "photo": photo_url},
        ).one_or_none()
    )


EDITABLE = frozenset({"name", "phone", "status", "max_customers", "photo_url"})


def patch(connection: Connection, mitra_id: UUID, changes: dict[str, Any]) -> MitraRow:
    """Set the given columns (a None `max_customers` clears the override). A new phone
    number also drops the Firebase binding: that sign-in proved the old number."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    assignments = [f"{column} = :{column}" for column in sorted(changes)]
    if "phone" in changes:
        assignments.append(
            "firebase_uid = CASE WHEN phone = :phone THEN firebase_uid ELSE NULL END"
        )
    assignments.append("updated_at = now()")
    return MitraRow(
        **connection.execute(
            sa.text(
                f"UPDATE mitras SET {', '.join(assignments)} WHERE id = :id RETURNING {COLUMNS}"
            ),
            {**changes, "id": mitra_id},
        )
        .one()
        ._mapping
    )


def _uuid_or_none(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


# -- presence reconciliation (shared.domain.presence) ---------------------------------------


def online_since_by_id(connection: Connection) -> dict[str, datetime | None]:
    """Every mitra PostgreSQL holds online, with when it went online (partial index)."""
    rows = connection.execute(sa.text("SELECT id, online_since FROM mitras WHERE is_online"))
    return {str(row.id): row.online_since for row in rows}


def online_among(connection: Connection, mitra_ids: list[str]) -> set[str]:
    rows = connection.execute(
        sa.text("SELECT id FROM mitras WHERE id = ANY(CAST(:ids AS uuid[])) AND is_online"),
        {"ids": mitra_ids},
    )
    return {str(row.id) for row in rows}


def capacity_overrides(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        sa.text("SELECT id, max_customers FROM mitras WHERE max_customers IS NOT NULL")
    )
    return {str(row.id): int(row.max_customers) for row in rows}


def active_session_counts(connection: Connection) -> dict[str, int]:
    """Sessions each mitra holds now (partial index `sessions_active_by_mitra`)."""
    rows = connection.execute(
        sa.text(
            "SELECT mitra_id, count(*) AS held FROM sessions WHERE status = 'active'"
            " GROUP BY mitra_id"
        )
    )
    return {str(row.mitra_id): int(row.held) for row in rows}


def active_session_count(connection: Connection, mitra_id: UUID | str) -> int:
    """Sessions one mitra holds now (partial index `sessions_active_by_mitra`)."""
    return int(
        connection.execute(
            sa.text("SELECT count(*) FROM sessions WHERE mitra_id = :id AND status = 'active'"),
            {"id": mitra_id},
        ).scalar_one()
    )


def erase_phone(connection: Connection, mitra_id: UUID) -> MitraRow:
    """Erase the phone number and the Firebase link of a deactivated mitra (their history of
    sessions and online logs stays, under their id and name)."""
    return MitraRow(
        **connection.execute(
            sa.text(
                "UPDATE mitras SET phone = NULL, firebase_uid = NULL, phone_erased_at = now(),"
                f" updated_at = now() WHERE id = :id RETURNING {COLUMNS}"
            ),
            {"id": mitra_id},
        )
        .one()
        ._mapping
    )
