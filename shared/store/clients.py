"""The `clients` table: client profiles keyed by Firebase UID."""

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
    "id, firebase_uid, display_name, registered, sign_in_provider, phone, email, status,"
    " created_at, registered_at, erased_at"
)


@dataclass(frozen=True, slots=True)
class ClientRow:
    id: UUID
    firebase_uid: str
    display_name: str
    registered: bool
    sign_in_provider: str
    phone: str | None
    email: str | None
    status: str
    created_at: datetime
    registered_at: datetime | None
    erased_at: datetime | None = None

    @property
    def suspended(self) -> bool:
        return self.status == "suspended"


def _row(result: sa.Row | None) -> ClientRow | None:
    return ClientRow(**result._mapping) if result is not None else None


def by_uid(connection: Connection, firebase_uid: str) -> ClientRow | None:
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM clients WHERE firebase_uid = :uid"),
            {"uid": firebase_uid},
        ).one_or_none()
    )


def by_id(connection: Connection, client_id: UUID | str, *, lock: bool = False) -> ClientRow | None:
    suffix = " FOR UPDATE" if lock else ""
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM clients WHERE id = :id{suffix}"), {"id": client_id}
        ).one_or_none()
    )


def by_ids(connection: Connection, ids: list[UUID]) -> dict[UUID, ClientRow]:
    """The rows of `ids` that exist, by id: one read for many (the events function
    re-checks every due stream's caller together)."""
    rows = reads.rows_by_id(connection, "clients", COLUMNS, ids)
    return {row.id: ClientRow(**row._mapping) for row in rows}


def insert_if_absent(
    connection: Connection,
    *,
    firebase_uid: str,
    display_name: str,
    sign_in_provider: str,
    registered: bool,
    phone: str | None,
    email: str | None,
) -> tuple[ClientRow, bool]:
    """Create the profile unless it exists; (row, created). Safe under concurrent calls."""
    inserted = connection.execute(
        sa.text(
            f"""
            INSERT INTO clients (firebase_uid, display_name, sign_in_provider, registered,
                                 phone, email, registered_at)
            VALUES (:uid, :display_name, :provider, :registered, :phone, :email,
                    CASE WHEN :registered THEN now() END)
            ON CONFLICT (firebase_uid) DO NOTHING
            RETURNING {COLUMNS}
            """
        ),
        {
            "uid": firebase_uid,
            "display_name": display_name,
            "provider": sign_in_provider,
            "registered": registered,
            "phone": phone,
            "email": email,
        },
    ).one_or_none()
    if inserted is not None:
        return ClientRow(**inserted._mapping), True
    existing = by_uid(connection, firebase_uid)
    assert existing is not None
    return existing, False


def update_display_name(connection: Connection, client_id: UUID, display_name: str) -> ClientRow:
    return _update(connection, client_id, "display_name = :name", {"name": display_name})


def mark_registered(
    connection: Connection,
    client_id: UUID,
    *,
    sign_in_provider: str,
    phone: str | None,
    email: str | None,
) -> ClientRow:
    return _update(
        connection,
        client_id,
        "registered = true, sign_in_provider = :provider,"
        " phone = COALESCE(:phone, phone), email = COALESCE(:email, email),"
        " registered_at = COALESCE(registered_at, now())",
        {"provider": sign_in_provider, "phone": phone, "email": email},
    )


def _update(
    connection: Connection, client_id: UUID, assignments: str, params: dict[str, Any]
) -> ClientRow:
    """Every edit of a client row stamps `updated_at` and answers the row as it now is."""
    return ClientRow(
        **connection.execute(
            sa.text(
                f"UPDATE clients SET {assignments}, updated_at = now()"
                f" WHERE id = :id RETURNING {COLUMNS}"
            ),
            {"id": client_id, **params},
        )
        .one()
        ._mapping
    )


# -- control center: search and suspension (admin function) --------------------------------


def search_page(
    connection: Connection,
    *,
    q: str | None,
    status: str | None,
    after: Keyset | None,
    limit: int,
) -> list[ClientRow]:
    """Newest first. `q` is an exact id, an exact phone number (E.164), or the start of a
    display name (any case) — each served by an index, so search stays cheap at millions."""
    by: dict[str, Any] = {"query_id": None, "phone": None, "prefix": None}
    if q:
        try:
            by["query_id"] = UUID(q)
        except ValueError:
            digits = q.removeprefix("+")
            if digits.isdigit():
                by["phone"] = "+" + digits
            else:
                escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                by["prefix"] = escaped + "%"
    return [
        ClientRow(**row._mapping)
        for row in connection.execute(
            sa.text(
                f"""
                SELECT {COLUMNS} FROM clients
                 WHERE (CAST(:query_id AS uuid) IS NULL OR id = :query_id)
                   AND (CAST(:phone AS text) IS NULL OR phone = :phone)
                   AND (CAST(:prefix AS text) IS NULL OR lower(display_name) LIKE :prefix)
                   AND (CAST(:status AS text) IS NULL OR status = :status)
                   AND {keyset_page_sql("created_at", "id", "uuid")}
                """
            ),
            {
                **by,
                "status": status,
                **keyset_page_params(after, UUID, limit),
            },
        )
    ]


def set_status(connection: Connection, client_id: UUID, status: str) -> ClientRow:
    return _update(connection, client_id, "status = :status", {"status": status})


# -- erasure (shared.domain.erasure) ----------------------------------------------------------

# What an erased profile says instead of a name (the column is NOT NULL, 2..32 characters);
# the apps are shown no name at all for an erased client (shared.store.sessions).
ERASED_NAME = "deleted"


def erase(connection: Connection, client_id: UUID) -> ClientRow:
    """Overwrite every personal field; the row stays for the payments, ledger and sessions
    that reference it. `firebase_uid` becomes `erased:<id>`, unique and linked to nothing."""
    return _update(
        connection,
        client_id,
        "firebase_uid = 'erased:' || id::text, display_name = :name,"
        " sign_in_provider = 'erased', phone = NULL, email = NULL,"
        " erased_at = COALESCE(erased_at, now())",
        {"name": ERASED_NAME},
    )
