"""The `devices` table: FCM registration tokens per account (client or mitra)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


MAX_PER_OWNER = 10


@dataclass(frozen=True, slots=True)
class DeviceRow:
    token: str
    owner_kind: str
    owner_id: UUID
    platform: str
    locale: str


@dataclass(frozen=True, slots=True)
class Registered:
    created: bool  # new for this owner (a new token, or one moved from another account)
    dropped: int  # older devices of the owner removed to stay within MAX_PER_OWNER


def register(
    connection: Connection,
    *,
    token: str,
    owner_kind: str,
    owner_id: UUID,
    platform: str,
    app_version: str,
    locale: str,
) -> Registered:
    """Upsert the token for this owner and trim the owner to MAX_PER_OWNER, in the caller's
    transaction. A transaction-scoped advisory lock per owner serialises registrations of
    one account, so two concurrent PUTs cannot both keep an 11th device."""
    connection.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:owner, 0))"),
        {"owner": f"devices:{owner_kind}:{owner_id}"},
    )
    previous = connection.execute(
        sa.text("SELECT owner_kind, owner_id FROM devices WHERE token = :token FOR UPDATE"),
        {"token": token},
    ).one_or_none()
    connection.execute(
        sa.text(
            """
            INSERT INTO devices (token, owner_kind, owner_id, platform, app_version, locale)
            VALUES (:token, :kind, :owner, :platform, :app_version, :locale)
            ON CONFLICT (token) DO UPDATE SET
                owner_kind = EXCLUDED.owner_kind,
                owner_id = EXCLUDED.owner_id,
                platform = EXCLUDED.platform,
                app_version = EXCLUDED.app_version,
                locale = EXCLUDED.locale,
                created_at = CASE
                    WHEN devices.owner_kind = EXCLUDED.owner_kind
                     AND devices.owner_id = EXCLUDED.owner_id
                    THEN devices.created_at ELSE now() END,
                updated_at = now(),
                last_seen_at = clock_timestamp()
            """
        ),
        {
            "token": token,
            "kind": owner_kind,
            "owner": owner_id,
            "platform": platform,
            "app_version": app_version,
            "locale": locale,
        },
    )
    dropped = connection.execute(
        sa.text(
            """
            DELETE FROM devices WHERE id IN (
                SELECT id FROM devices WHERE owner_kind = :kind AND owner_id = :owner
                ORDER BY last_seen_at DESC, id DESC OFFSET :keep
            )
            """
        ),
        {"kind": owner_kind, "owner": owner_id, "keep": MAX_PER_OWNER},
    ).rowcount
    created = previous is None or (previous.owner_kind, previous.owner_id) != (
        owner_kind,
        owner_id,
    )
    return Registered(created=created, dropped=int(dropped or 0))


def delete_owned(connection: Connection, *, token: str, owner_kind: str, owner_id: UUID) -> bool:
    """Delete the token if this owner holds it; False when it is unknown or someone else's."""
    result = connection.execute(
        sa.text(
            "DELETE FROM devices WHERE token = :token AND owner_kind = :kind AND owner_id = :owner"
        ),
        {"token": token, "kind": owner_kind, "owner": owner_id},
    )
    return bool(result.rowcount)


def delete_all_of(connection: Connection, *, owner_kind: str, owner_id: UUID) -> int:
    result = connection.execute(
        sa.text("DELETE FROM devices WHERE owner_kind = :kind AND owner_id = :owner"),
        {"kind": owner_kind, "owner": owner_id},
    )
    return int(result.rowcount or 0)


def delete_tokens(connection: Connection, tokens: list[str]) -> int:
    """Tokens FCM reported unregistered or invalid."""
    if not tokens:
        return 0
    result = connection.execute(
        sa.text("DELETE FROM devices WHERE token = ANY(:tokens)"), {"tokens": tokens}
    )
    return int(result.rowcount or 0)


def of_owners(connection: Connection, owner_kind: str, owner_ids: list[str]) -> list[DeviceRow]:
    """Every device of these owners (one query, whatever their number)."""
    if not owner_ids:
        return []
    rows = connection.execute(
        sa.text(
            "SELECT token, owner_kind, owner_id, platform, locale FROM devices"
            " WHERE owner_kind = :kind AND owner_id = ANY(CAST(:owners AS uuid[]))"
        ),
        {"kind": owner_kind, "owners": owner_ids},
    ).all()
    return [DeviceRow(**row._mapping) for row in rows]


def count_of(connection: Connection, owner_kind: str, owner_id: UUID) -> int:
    return int(
        connection.execute(
            sa.text("SELECT count(*) FROM devices WHERE owner_kind = :kind AND owner_id = :owner"),
            {"kind": owner_kind, "owner": owner_id},
        ).scalar_one()
    )
