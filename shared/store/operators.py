"""The `operators` table (control-center accounts) and `operator_login_failures`."""

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

COLUMNS = "id, email, password_hash, role, status, password_changed_at, last_login_at, created_at"


@dataclass(frozen=True, slots=True)
class OperatorRow:
    id: UUID
    email: str
    password_hash: str
    role: str
    status: str
    password_changed_at: datetime
    last_login_at: datetime | None
    created_at: datetime

    @property
    def suspended(self) -> bool:
        return self.status == "suspended"

    def public(self) -> dict[str, Any]:
        """The row without its password hash (audit entries, logs)."""
        return {
            "id": str(self.id),
            "email": self.email,
            "role": self.role,
            "status": self.status,
            "password_changed_at": self.password_changed_at.isoformat(),
        }


def _row(result: sa.Row | None) -> OperatorRow | None:
    return OperatorRow(**result._mapping) if result is not None else None


def by_id(
    connection: Connection, operator_id: UUID | str, *, lock: bool = False
) -> OperatorRow | None:
    suffix = " FOR UPDATE" if lock else ""
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM operators WHERE id = :id{suffix}"),
            {"id": operator_id},
        ).one_or_none()
    )


def by_email(connection: Connection, email: str) -> OperatorRow | None:
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM operators WHERE lower(email) = lower(:email)"),
            {"email": email},
        ).one_or_none()
    )


def insert(
    connection: Connection, *, email: str, password_hash: str, role: str
) -> OperatorRow | None:
    """Create an operator; None when the email (case-insensitive) is already taken."""
    return _row(
        connection.execute(
            sa.text(
                f"INSERT INTO operators (email, password_hash, role)"
                f" VALUES (:email, :hash, :role)"
                f" ON CONFLICT ((lower(email))) DO NOTHING RETURNING {COLUMNS}"
            ),
            {"email": email, "hash": password_hash, "role": role},
        ).one_or_none()
    )


def update(
    connection: Connection,
    operator_id: UUID,
    *,
    role: str | None = None,
    status: str | None = None,
    password_hash: str | None = None,
) -> OperatorRow:
    """Change what is given; a new password also moves `password_changed_at`, which
    revokes every token issued before it."""
    return OperatorRow(
        **connection.execute(
            sa.text(
                f"""
                UPDATE operators
                   SET role = COALESCE(CAST(:role AS text), role),
                       status = COALESCE(CAST(:status AS text), status),
                       password_hash = COALESCE(CAST(:hash AS text), password_hash),
                       password_changed_at = CASE WHEN CAST(:hash AS text) IS NULL
                                                  THEN password_changed_at ELSE now() END,
                       updated_at = now()
                 WHERE id = :id
                RETURNING {COLUMNS}
                """
            ),
            {"id": operator_id, "role": role, "status": status, "hash": password_hash},
        )
        .one()
        ._mapping
    )


def lock_active_superadmins(connection: Connection) -> list[UUID]:
    """Ids of the active superadmins, row-locked so two concurrent demotions serialize and
    the second one sees the first one's result."""
    return list(
        connection.execute(
            sa.text(
                "SELECT id FROM operators WHERE role = 'superadmin' AND status = 'active'"
                " ORDER BY id FOR UPDATE"
            )
        ).scalars()
    )


def mark_login(connection: Connection, operator_id: UUID) -> None:
    connection.execute(
        sa.text("UPDATE operators SET last_login_at = now() WHERE id = :id"), {"id": operator_id}
    )


def page(connection: Connection, *, after: Keyset | None, limit: int) -> list[OperatorRow]:
    return [
        OperatorRow(**row._mapping)
        for row in connection.execute(
            sa.text(
                f"""
                SELECT {COLUMNS} FROM operators
                 WHERE {keyset_page_sql("created_at", "id", "uuid")}
                """
            ),
            keyset_page_params(after, UUID, limit),
        )
    ]


# -- failed logins --------------------------------------------------------------------------


def lock_login_attempts(connection: Connection, email_digest: str) -> None:
    """Serialize login attempts for one email until the transaction ends, so a burst of
    parallel guesses cannot all slip in under the failure limit."""
    connection.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:digest, 0))"),
        {"digest": email_digest},
    )


def recent_failures(
    connection: Connection, email_digest: str, window_s: int, limit: int
) -> tuple[int, datetime | None]:
    """(failures within the window, when the `limit`-th newest of them happened)."""
    row = connection.execute(
        sa.text(
            """
            WITH recent AS (
                SELECT failed_at FROM operator_login_failures
                 WHERE email_digest = :digest
                   AND failed_at > now() - make_interval(secs => :window_s)
            )
            SELECT (SELECT count(*) FROM recent) AS failures,
                   (SELECT failed_at FROM recent ORDER BY failed_at DESC
                     OFFSET :offset LIMIT 1) AS nth_newest
            """
        ),
        {"digest": email_digest, "window_s": window_s, "offset": limit - 1},
    ).one()
    return int(row.failures), row.nth_newest


def record_failure(connection: Connection, email_digest: str) -> None:
    connection.execute(
        sa.text("INSERT INTO operator_login_failures (email_digest) VALUES (:digest)"),
        {"digest": email_digest},
    )


def clear_failures(connection: Connection, email_digest: str) -> None:
    connection.execute(
        sa.text("DELETE FROM operator_login_failures WHERE email_digest = :digest"),
        {"digest": email_digest},
    )


def database_now(connection: Connection) -> datetime:
    return connection.execute(sa.text("SELECT now()")).scalar_one()
