"""Control-center operators: login with lockout, and account management (superadmin only).

Lockout: 5 failed logins for one email within 15 minutes lock that email for 15 minutes,
whether or not an operator has it, so the answer never reveals which emails exist. Every
attempt that is not locked costs exactly one argon2 verification (against the real hash, or
`DUMMY_HASH` for an unknown email), so timing does not reveal it either.
"""

from __future__ import annotations

import hashlib
import math
import threading
from datetime import timedelta
from typing import Any
from uuid import UUID

from shared import db
from shared.domain import audit
from shared.errors import (
    EmailTaken,
    InvalidCredentials,
    LastSuperadmin,
    Locked,
    NotFound,
    Suspended,
)
from shared.identity.operators import IssuedToken, issue_token
from shared.identity.passwords import DUMMY_HASH, hash_password, verify_password
from shared.store import operators
from shared.store.operators import OperatorRow
from shared.store.paging import Keyset

MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60

# argon2id here costs 64 MiB and ~0.1 s per hash: a burst of logins must queue for these
# slots (holding no database connection) rather than exhaust the instance's memory.
_ARGON2_SLOTS = threading.BoundedSemaphore(2)


def email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def login(email: str, password: str) -> tuple[OperatorRow, IssuedToken]:
    """Check the password and issue a token, or raise `Locked`, `InvalidCredentials` or
    `Suspended` (only once the password was right, so it reveals nothing to a guesser)."""
    digest = email_digest(email)
    refusal: Exception | None = None
    with _ARGON2_SLOTS, db.transaction() as connection:
        # One attempt per email at a time: a parallel burst cannot outrun the count.
        operators.lock_login_attempts(connection, digest)
        failures, fifth_newest = operators.recent_failures(
            connection, digest, FAILURE_WINDOW_S, MAX_FAILURES
        )
        if failures >= MAX_FAILURES and fifth_newest is not None:
            unlocks_at = fifth_newest + timedelta(seconds=FAILURE_WINDOW_S)
            wait_s = (unlocks_at - operators.database_now(connection)).total_seconds()
            raise Locked(retry_after_s=max(1, math.ceil(wait_s)))
        operator = operators.by_email(connection, email.strip())
        if not verify_password(operator.password_hash if operator else DUMMY_HASH, password):
            # Recorded and committed before refusing: the refusal must not roll it back.
            operators.record_failure(connection, digest)
            refusal = InvalidCredentials()
        elif operator is None or operator.suspended:
            refusal = Suspended("This operator account is suspended.")
        else:
            operators.clear_failures(connection, digest)
            operators.mark_login(connection, operator.id)
    if refusal is not None:
        raise refusal
    assert operator is not None
    return operator, issue_token(operator)


def operator_page(after: Keyset | None, limit: int) -> list[OperatorRow]:
    with db.read() as connection:
        return operators.page(connection, after=after, limit=limit)


def _hash(password: str) -> str:
    with _ARGON2_SLOTS:
        return hash_password(password)


def create_operator(actor_id: UUID, email: str, password: str, role: str) -> OperatorRow:
    password_hash = _hash(password)
    with db.transaction() as connection:
        created = operators.insert(
            connection, email=email.strip(), password_hash=password_hash, role=role
        )
        if created is None:
            raise EmailTaken()
        audit.record(
            connection, actor_id, "operator.create", "operator", created.id, None, created.public()
        )
    return created


def update_operator(
    actor_id: UUID,
    operator_id: UUID,
    *,
    role: str | None = None,
    status: str | None = None,
    password: str | None = None,
) -> OperatorRow:
    """Change role, status or password. The last active superadmin can be neither demoted
    nor suspended; a new password revokes every token issued before it."""
    password_hash = _hash(password) if password is not None else None
    may_remove_superadmin = (role is not None and role != "superadmin") or status == "suspended"
    with db.transaction() as connection:
        # Lock every active superadmin (in id order) before the target, so two operators
        # demoting each other at once serialize instead of both succeeding or deadlocking.
        superadmins = operators.lock_active_superadmins(connection) if may_remove_superadmin else []
        target = operators.by_id(connection, operator_id, lock=True)
        if target is None:
            raise NotFound("No operator with that id.")
        if may_remove_superadmin and target.id in superadmins and len(superadmins) == 1:
            raise LastSuperadmin()
        updated = operators.update(
            connection, target.id, role=role, status=status, password_hash=password_hash
        )
        after: dict[str, Any] = updated.public()
        if password is not None:
            after["password_changed"] = True
        audit.record(
            connection, actor_id, "operator.update", "operator", target.id, target.public(), after
        )
    return updated
