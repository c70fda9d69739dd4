"""The `mitras` table: counsellors created by operators, linked to a Firebase UID at login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

COLUMNS = (
    "id, name, phone, photo_url, firebase_uid, status, max_customers, is_online,"
    " online_since, last_login_at, created_at"
)


@dataclass(frozen=True, slots=True)
class MitraRow:
    id: UUID
    name: str
    phone: str
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
